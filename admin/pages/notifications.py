"""The notification log page (operators and compliance officers)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from admin.deps import ConsoleDep, allowed
from admin.reports.notification_log import NotificationLog, NotificationRow
from admin.staff.schemas import StaffSession
from admin.web import render

router = APIRouter()

Reader = Annotated[StaffSession, allowed("notifications.read")]
_USER = re.compile(r"^[A-Za-z0-9_.:@/+=#-]{1,200}$")
PAGE_SIZE = 50


@router.get("/notifications")
async def notification_log(request: Request, console: ConsoleDep, staff: Reader) -> Response:
    user = request.query_params.get("user", "").strip()
    before_text = request.query_params.get("before", "")
    error, before = None, None
    if user and not _USER.fullmatch(user):
        error, user = "A user id has no spaces or quotes.", ""
    if before_text:
        try:
            before = datetime.fromisoformat(before_text[:40])
        except ValueError:
            error = "The page cursor is not valid; start from the first page."
    log = NotificationLog(console.services.stores.db)
    rows: list[NotificationRow] = []
    next_before: datetime | None = None
    if error is None:
        rows, next_before = await log.page(
            staff.tenant, user=user or None, before=before, limit=PAGE_SIZE
        )
    return render(
        request,
        "notifications.html",
        status=400 if error else 200,
        rows=rows,
        user=user,
        error=error,
        next_before=next_before.isoformat() if next_before else None,
    )
