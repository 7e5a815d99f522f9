"""The policy editor: current policy, preset picker, field editor, and the
away-email preview of a saved or unsaved policy.

Saving goes through ``PolicyService.update(expected_version=...)``: a form
loaded before someone else's change is refused with a conflict, and a policy
that breaks a rule is refused with every problem listed; neither stores anything.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from admin.deps import ConsoleDep, allowed, allowed_post
from admin.policy_form import changes_from_values, values_from_form, values_from_policy
from admin.preview import preview_emails
from admin.staff.schemas import StaffSession, may
from admin.staff.service import StaffService
from admin.web import render
from chat_service.compliance.schemas import PolicyRecord
from chat_service.errors import BadRequest, Conflict
from policies import PRESET_NAMES, Policy, PolicyInvalid, Problem, apply_changes, preset

router = APIRouter()

Reader = Annotated[StaffSession, allowed("policy.read")]
PreviewReader = Annotated[StaffSession, allowed_post("policy.read")]
Writer = Annotated[StaffSession, allowed_post("policy.write")]


async def _page(
    request: Request,
    console: ConsoleDep,
    staff: StaffSession,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    candidate: Policy | None = None,
    problems: list[Problem] | None = None,
    conflict: str | None = None,
    notice: str | None = None,
    record: PolicyRecord | None = None,
) -> Response:
    record = record or await console.services.policies.record(staff.tenant)
    current = Policy.from_document(record.policy)
    shown = candidate if candidate is not None else current
    previews = [] if problems else preview_emails(shown, console.services.clock.now())
    return render(
        request,
        "policy.html",
        status=status,
        record=record,
        current=current,
        values=values or values_from_policy(current),
        previews=previews,
        previewing_unsaved=candidate is not None,
        preview_label=shown.preset,
        problems=problems or [],
        conflict=conflict,
        notice=notice,
        presets=PRESET_NAMES,
        can_edit=may(staff.role, "policy.write"),
    )


def _version(form: Any) -> int | None:
    raw = form.get("expected_version")
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else None


@router.get("/policy")
async def policy_page(request: Request, console: ConsoleDep, staff: Reader) -> Response:
    saved = request.query_params.get("saved")
    notice = f"Saved as version {saved}." if saved and saved.isdigit() else None
    return await _page(request, console, staff, notice=notice)


@router.post("/policy/preset")
async def apply_preset(request: Request, console: ConsoleDep, staff: Writer) -> Response:
    form = await request.form()
    name = form.get("preset")
    if not isinstance(name, str) or name not in PRESET_NAMES:
        problems: list[Problem] = [("preset", f"choose one of {', '.join(PRESET_NAMES)}")]
        return await _page(request, console, staff, status=400, problems=problems)
    return await _save(request, console, staff, _version(form), preset_name=name)


@router.post("/policy")
async def save_policy(request: Request, console: ConsoleDep, staff: Writer) -> Response:
    form = await request.form()
    values = values_from_form(form)
    changes, problems = changes_from_values(values)
    if not problems:
        current = await console.services.policies.current(staff.tenant)
        try:
            apply_changes(current, changes)
        except PolicyInvalid as invalid:
            problems = invalid.problems
    if problems:
        return await _page(request, console, staff, status=400, values=values, problems=problems)
    return await _save(request, console, staff, _version(form), changes=changes, values=values)


@router.post("/policy/preview")
async def preview_policy(request: Request, console: ConsoleDep, staff: PreviewReader) -> Response:
    """Preview an unsaved policy: a preset, or the edited fields."""
    form = await request.form()
    current = await console.services.policies.current(staff.tenant)
    name = form.get("preset")
    values = values_from_policy(current) if isinstance(name, str) else values_from_form(form)
    try:
        if isinstance(name, str):
            candidate = preset(name)
            values = values_from_policy(candidate)
        else:
            changes, problems = changes_from_values(values)
            if problems:
                raise PolicyInvalid(problems)
            candidate = apply_changes(current, changes)
    except PolicyInvalid as invalid:
        return await _page(
            request, console, staff, status=400, values=values, problems=invalid.problems
        )
    return await _page(request, console, staff, values=values, candidate=candidate)


async def _save(
    request: Request,
    console: ConsoleDep,
    staff: StaffSession,
    expected_version: int | None,
    *,
    preset_name: str | None = None,
    changes: dict[str, Any] | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    if expected_version is None:
        problems: list[Problem] = [("expected_version", "missing; reload the page")]
        return await _page(request, console, staff, status=400, values=values, problems=problems)
    try:
        record = await console.services.policies.update(
            staff.tenant,
            StaffService.actor(staff.staff_id, staff.role),
            expected_version=expected_version,
            preset_name=preset_name,
            changes=changes,
        )
    except Conflict as conflict:
        message = (
            f"Not saved: {conflict.detail}. Someone changed the policy after you opened "
            "this page; your edits are shown below, the saved policy is unchanged."
        )
        return await _page(request, console, staff, status=409, values=values, conflict=message)
    except BadRequest as refused:
        problems = [("policy", refused.detail)]
        return await _page(request, console, staff, status=400, values=values, problems=problems)
    return RedirectResponse(f"/policy?saved={record.version}", status_code=303)
