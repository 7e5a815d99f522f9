"""Per-seller response-time figures over a window of days."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from starlette.responses import Response

from admin.deps import ConsoleDep, allowed
from admin.reports.response_times import ResponseTimes
from admin.staff.schemas import StaffSession
from admin.web import render

router = APIRouter()

Reader = Annotated[StaffSession, allowed("response_times.read")]
WINDOWS = (7, 30, 90)


@router.get("/response-times")
async def response_time_page(request: Request, console: ConsoleDep, staff: Reader) -> Response:
    raw = request.query_params.get("days", "30")
    days = int(raw) if raw.isdigit() and int(raw) in WINDOWS else 30
    until = console.services.clock.now()
    report = await ResponseTimes(
        console.services.stores.db, max_messages=console.settings.admin_report_max_messages
    ).report(staff.tenant, until - timedelta(days=days), until)
    return render(
        request, "response_times.html", report=report, days=days, windows=WINDOWS, until=until
    )
