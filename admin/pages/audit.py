"""The audit log viewer: filters, paging (newest first) and the chain check.

Filters become a typed, patterned ``AuditQuery``; input that does not fit is
refused with a message, never passed to the store.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from admin.deps import ConsoleDep, allowed, allowed_post
from admin.staff.schemas import StaffSession
from admin.web import render
from chat_service.audit import AUDIT_ACTIONS, AuditPage, AuditQuery, ChainReport

router = APIRouter()

Reader = Annotated[StaffSession, allowed("audit.read")]
Checker = Annotated[StaffSession, allowed_post("audit.read")]
FILTERS = ("action", "actor_id", "target_type", "target_id", "since", "until")
PAGE_SIZE = 50


def _day(text: str, *, end: bool) -> datetime:
    start = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
    return start + timedelta(days=1) if end else start


def build_query(params: dict[str, str]) -> AuditQuery:
    """Raises ``ValueError`` (``ValidationError`` included) for input that does not fit."""
    fields: dict[str, object] = {"limit": PAGE_SIZE}
    for name in ("action", "actor_id", "target_type", "target_id"):
        if params.get(name):
            fields[name] = params[name]
    if params.get("since"):
        fields["since"] = _day(params["since"], end=False)
    if params.get("until"):
        fields["until"] = _day(params["until"], end=True)
    before = params.get("before", "")
    if before:
        if not before.isdigit() or len(before) > 18:
            raise ValueError("before must be an entry number")
        fields["before_seq"] = int(before)
    return AuditQuery.model_validate(fields)


async def _page(
    request: Request, console: ConsoleDep, staff: StaffSession, report: ChainReport | None
) -> Response:
    params = {k: request.query_params.get(k, "").strip()[:200] for k in (*FILTERS, "before")}
    page, error = AuditPage(entries=[], next_before_seq=None), None
    try:
        query = build_query(params)
    except (ValueError, ValidationError):
        error = "These filters are not valid: use the listed actions, ids without spaces, dates."
    else:
        page = await console.services.audit.search(staff.tenant, query)
    next_params = {k: v for k, v in params.items() if k in FILTERS and v}
    if page.next_before_seq is not None:
        next_params["before"] = str(page.next_before_seq)
    return render(
        request,
        "audit.html",
        status=400 if error else 200,
        page=page,
        params=params,
        actions=AUDIT_ACTIONS,
        error=error,
        report=report,
        next_params=next_params if page.next_before_seq is not None else None,
    )


@router.get("/audit")
async def audit_page(request: Request, console: ConsoleDep, staff: Reader) -> Response:
    return await _page(request, console, staff, None)


@router.post("/audit/verify")
async def verify_chain(request: Request, console: ConsoleDep, staff: Checker) -> Response:
    report = await console.services.audit.verify(staff.tenant)
    return await _page(request, console, staff, report)
