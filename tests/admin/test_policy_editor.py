"""The policy editor: presets, field changes, invalid combinations, stale forms, preview."""

from __future__ import annotations

import re

from chat_service.audit import AuditActor, AuditQuery
from tests.admin.kit import ConsoleKit, csrf_of

OFFICER = ("officer@shop.test", "compliance_officer")


def form_of(page: str) -> dict[str, str]:
    """The editor's current values as a browser would submit them."""
    editor = page[page.index('action="/policy" class="card"') :]
    editor = editor[: editor.index("</form>")]
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", editor):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if not name:
            continue
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "on"
        else:
            data[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', editor, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected>', body)
        assert chosen, name
        data[name] = chosen.group(1)
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', editor, re.S):
        data[name] = body
    return data


async def test_apply_hipaa_preset_and_see_the_redacted_preview(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        csrf = await csrf_of(client)
        response = await client.post(
            "/policy/preset", data={"csrf": csrf, "preset": "hipaa", "expected_version": "0"}
        )
        assert response.status_code == 303
        page = await client.get(response.headers["location"])
        assert "Saved as version 1." in page.text
        assert page.text.count('data-mode="redacted"') == 3
        assert "You have a new secure message" in page.text
        assert "blue chair" not in page.text.lower()
    record = await kit.console.services.policies.record(tenant.id)
    assert (record.version, record.policy["preset"]) == (1, "hipaa")
    changed = await kit.console.services.audit.search(
        tenant.id, AuditQuery(action="policy.changed")
    )
    assert changed.entries[0].actor.id.startswith("stf_")


async def test_preview_of_an_unsaved_change_stores_nothing(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        page = await client.get("/policy")
        data = form_of(page.text)
        assert "Call me on 555-201-7788" not in page.text  # standard masks phones
        data |= {"email_seller": "off", "email_staff": "redacted"}
        data.pop("mask_phones")
        preview = await client.post("/policy/preview", data=data)
        assert preview.status_code == 200
        assert "unsaved" in preview.text
        modes = re.findall(r'data-role="(\w+)" data-mode="(\w+)"', preview.text)
        assert modes == [("buyer", "full"), ("seller", "off"), ("staff", "redacted")]
        assert "555-201-7788" in preview.text  # phones no longer masked in the preview
    assert (await kit.console.services.policies.record(tenant.id)).version == 0


async def test_save_fields(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        data = form_of((await client.get("/policy")).text)
        data |= {
            "email_delay_seconds": "300",
            "retention_message_days": "90",
            "mask_allowlist": "shop.test\nhelp.shop.test",
        }
        response = await client.post("/policy", data=data)
        assert response.status_code == 303, response.text
    policy = (await kit.console.services.policies.record(tenant.id)).policy
    assert policy["email"]["delay_seconds"] == 300
    assert policy["retention"]["message_days"] == 90
    assert policy["masking"]["allowlist"] == ["shop.test", "help.shop.test"]
    assert policy["preset"] == "custom"


async def test_invalid_combination_lists_problems_and_changes_nothing(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        data = form_of((await client.get("/policy")).text)
        data |= {"compliance_mode": "hipaa", "email_buyer": "full", "email_delay_seconds": "soon"}
        response = await client.post("/policy", data=data)
        assert response.status_code == 400
        assert "Not saved: the policy is not valid." in response.text
        assert "email.delay_seconds" in response.text
        data["email_delay_seconds"] = "60"
        response = await client.post("/policy", data=data)
        assert response.status_code == 400
        assert "email.content_by_role.buyer" in response.text
        assert "HIPAA mode forbids message text in emails" in response.text
        assert "retention.message_days" in response.text  # HIPAA needs finite retention
    assert (await kit.console.services.policies.record(tenant.id)).version == 0
    changed = await kit.console.services.audit.search(
        tenant.id, AuditQuery(action="policy.changed")
    )
    assert changed.entries == []


async def test_a_stale_form_gets_a_conflict_and_changes_nothing(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        data = form_of((await client.get("/policy")).text)
        assert data["expected_version"] == "0"
        someone = AuditActor(type="staff", id="stf_someone", role="compliance_officer")
        await kit.console.services.policies.update(
            tenant.id, someone, expected_version=0, preset_name="gdpr"
        )
        data["email_delay_seconds"] = "600"
        response = await client.post("/policy", data=data)
        assert response.status_code == 409
        assert "Someone changed the policy after you opened this page" in response.text
        assert 'value="600"' in response.text  # the edits are kept on the page
    record = await kit.console.services.policies.record(tenant.id)
    assert (record.version, record.policy["preset"]) == (1, "gdpr")
    assert record.policy["email"]["delay_seconds"] == 120


async def test_markup_in_values_is_escaped(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        data = form_of((await client.get("/policy")).text)
        data["mask_allowlist"] = "<script>alert(1)</script>"
        response = await client.post("/policy/preview", data=data)
        assert "<script>alert(1)</script>" not in response.text
        assert "&lt;script&gt;" in response.text
        assert "script-src" not in response.headers["content-security-policy"]
        assert "default-src 'none'" in response.headers["content-security-policy"]
