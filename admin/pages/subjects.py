"""Data-subject requests: export (downloads a zip) and erasure (the user id
must be typed twice: once to name it, once to confirm). Refusals of the
service (unknown subject, legal hold) are shown as they are."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from admin.deps import ConsoleDep, allowed, allowed_post
from admin.staff.schemas import StaffSession
from admin.staff.service import StaffService
from admin.web import render
from chat_service.errors import ChatError

router = APIRouter()

Reader = Annotated[StaffSession, allowed("subjects.export")]
Exporter = Annotated[StaffSession, allowed_post("subjects.export")]
Eraser = Annotated[StaffSession, allowed_post("subjects.erase")]
_USER = re.compile(r"^[A-Za-z0-9_.:@/+=#-]{1,200}$")


def _page(request: Request, console: ConsoleDep, status: int = 200, **extra: object) -> Response:
    context: dict[str, object] = {"error": None, "erased": None, "user_id": ""}
    context.update(extra)
    return render(request, "subjects.html", status=status, **context)


def _user_id(value: object) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    return text if _USER.fullmatch(text) else None


@router.get("/subjects")
async def subjects_page(request: Request, console: ConsoleDep, staff: Reader) -> Response:
    return _page(request, console)


@router.post("/subjects/export")
async def export_subject(request: Request, console: ConsoleDep, staff: Exporter) -> Response:
    form = await request.form()
    user_id = _user_id(form.get("user_id"))
    if user_id is None:
        return _page(request, console, 400, error="Enter a user id (no spaces or quotes).")
    actor = StaffService.actor(staff.staff_id, staff.role)
    try:
        archive = await console.subjects.export(staff.tenant, user_id, actor)
    except ChatError as refused:
        return _page(request, console, refused.status, error=refused.detail, user_id=user_id)
    filename = re.sub(r"[^A-Za-z0-9_.-]", "_", archive.filename)[:100] or "export.zip"
    return Response(
        archive.content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/subjects/erase")
async def erase_subject(request: Request, console: ConsoleDep, staff: Eraser) -> Response:
    form = await request.form()
    user_id, confirm = _user_id(form.get("user_id")), form.get("confirm_user_id")
    if user_id is None:
        return _page(request, console, 400, error="Enter a user id (no spaces or quotes).")
    if confirm != user_id:
        message = "Type the user id again in the confirmation box to erase this person."
        return _page(request, console, 400, error=message, user_id=user_id)
    actor = StaffService.actor(staff.staff_id, staff.role)
    try:
        report = await console.subjects.erase(staff.tenant, user_id, actor)
    except ChatError as refused:
        return _page(request, console, refused.status, error=refused.detail, user_id=user_id)
    return _page(request, console, erased=report)
