"""CSRF on every POST, role refusals, and tenant isolation."""

from __future__ import annotations

import pytest

from chat_service.audit import AuditActor
from tests.admin.kit import ConsoleKit, csrf_of

POSTS = [
    ("/policy/preset", {"preset": "hipaa", "expected_version": "0"}),
    ("/policy/preview", {"preset": "hipaa"}),
    ("/audit/verify", {}),
    ("/subjects/export", {"user_id": "buyer-1"}),
    ("/subjects/erase", {"user_id": "buyer-1", "confirm_user_id": "buyer-1"}),
    ("/sign-out", {}),
]


@pytest.mark.parametrize(("path", "data"), POSTS)
async def test_posts_without_or_with_a_wrong_csrf_token_are_refused(
    kit: ConsoleKit, path: str, data: dict[str, str]
) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, "officer@shop.test", "compliance_officer") as client:
        missing = await client.post(path, data=data)
        wrong = await client.post(path, data={**data, "csrf": "x" * 43})
        assert missing.status_code == wrong.status_code == 403
        assert "security token" in wrong.text
        # Nothing changed: same policy version, still signed in.
        record = await kit.console.services.policies.record(tenant.id)
        assert record.version == 0
        assert (await client.get("/policy")).status_code == 200


async def test_a_stale_sign_in_form_is_refused(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    password = await kit.staff(tenant.id, "viewer@shop.test", "viewer")
    async with kit.client() as client:
        response = await client.post(
            "/sign-in",
            data={"tenant": tenant.id, "login": "viewer@shop.test", "password": password},
        )
        assert response.status_code == 403


async def test_viewer_reads_but_may_not_change_or_see_the_notification_log(
    kit: ConsoleKit,
) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, "viewer@shop.test", "viewer") as client:
        for path in ("/policy", "/audit", "/response-times"):
            assert (await client.get(path)).status_code == 200, path
        for path in ("/notifications", "/subjects"):
            assert (await client.get(path)).status_code == 403, path
        csrf = await csrf_of(client)
        page = await client.get("/policy")
        assert 'id="apply-preset"' not in page.text
        refused = await client.post(
            "/policy/preset", data={"csrf": csrf, "preset": "hipaa", "expected_version": "0"}
        )
        assert refused.status_code == 403
        assert "does not allow" in refused.text
        erase = await client.post(
            "/subjects/erase", data={"csrf": csrf, "user_id": "b", "confirm_user_id": "b"}
        )
        assert erase.status_code == 403
        # Previewing changes nothing, so viewers may.
        preview = await client.post("/policy/preview", data={"csrf": csrf, "preset": "hipaa"})
        assert preview.status_code == 200
    assert (await kit.console.services.policies.record(tenant.id)).version == 0


async def test_operator_sees_the_notification_log_but_may_not_change_policy(
    kit: ConsoleKit,
) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, "op@shop.test", "operator") as client:
        assert (await client.get("/notifications")).status_code == 200
        csrf = await csrf_of(client)
        refused = await client.post(
            "/policy/preset", data={"csrf": csrf, "preset": "gdpr", "expected_version": "0"}
        )
        assert refused.status_code == 403
    assert (await kit.console.services.policies.record(tenant.id)).version == 0


async def test_staff_see_only_their_own_marketplace(kit: ConsoleKit) -> None:
    ours, theirs = await kit.tenant("Ours"), await kit.tenant("Theirs")
    other_officer = AuditActor(type="staff", id="stf_other", role="compliance_officer")
    await kit.console.services.policies.update(
        theirs.id, other_officer, expected_version=0, preset_name="hipaa"
    )
    async with kit.signed_in(ours.id, "officer@ours.test", "compliance_officer") as client:
        audit = await client.get("/audit")
        assert "stf_other" not in audit.text
        policy = await client.get("/policy")
        assert "Version <strong>0</strong>" in policy.text
        # Saving changes our marketplace only, whatever the form says.
        csrf = await csrf_of(client)
        saved = await client.post(
            "/policy/preset",
            data={"csrf": csrf, "preset": "gdpr", "expected_version": "0", "tenant": theirs.id},
        )
        assert saved.status_code == 303
    assert (await kit.console.services.policies.record(ours.id)).policy["preset"] == "gdpr"
    assert (await kit.console.services.policies.record(theirs.id)).policy["preset"] == "hipaa"


async def test_staff_of_one_marketplace_cannot_sign_in_to_another(kit: ConsoleKit) -> None:
    ours, theirs = await kit.tenant("Ours"), await kit.tenant("Theirs")
    password = await kit.staff(ours.id, "officer@ours.test", "compliance_officer")
    async with kit.client() as client:
        from tests.admin.kit import sign_in

        response = await sign_in(client, theirs.id, "officer@ours.test", password)
        assert response.status_code == 401


async def test_unknown_pages_and_methods_get_error_pages(kit: ConsoleKit) -> None:
    async with kit.client() as client:
        missing = await client.get("/nothing-here")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("text/html")
        assert "not found" in missing.text
        wrong_method = await client.delete("/policy")
        assert wrong_method.status_code == 405
