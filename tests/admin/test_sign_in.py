"""Sign-in, sessions, idle timeout, lockout, sign-out, cookies."""

from __future__ import annotations

from chat_service.audit import AuditQuery
from chat_service.clock import ManualClock
from chat_service.config import Settings
from tests.admin.kit import ConsoleKit, admin_settings, csrf_of, running_console, sign_in


async def test_pages_need_a_session(kit: ConsoleKit) -> None:
    async with kit.client() as client:
        for path in ("/policy", "/audit", "/notifications", "/response-times", "/subjects", "/"):
            response = await client.get(path)
            assert response.status_code == 303, path
            assert response.headers["location"] == "/sign-in"
        refused = await client.post("/policy/preset", data={"preset": "hipaa", "csrf": "x"})
        assert refused.status_code == 401


async def test_sign_in_and_out_are_audited(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    password = await kit.staff(tenant.id, "officer@shop.test", "compliance_officer")
    async with kit.client() as client:
        response = await sign_in(client, tenant.id, "Officer@Shop.test", password)
        assert response.status_code == 303
        assert response.headers["location"] == "/policy"
        page = await client.get("/policy")
        assert page.status_code == 200
        assert "officer@shop.test" in page.text
        signed_out = await client.post("/sign-out", data={"csrf": await csrf_of(client)})
        assert signed_out.status_code == 303
        assert (await client.get("/policy")).status_code == 303
    entries = (await kit.console.services.audit.search(tenant.id, AuditQuery())).entries
    actions = [e.action for e in entries]
    assert actions[:2] == ["staff.signed_out", "staff.signed_in"]
    assert entries[0].details == {"reason": "signed_out"}
    assert all("officer" not in e.actor.id for e in entries)


async def test_wrong_password_is_refused_and_audited_without_the_login(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    await kit.staff(tenant.id, "viewer@shop.test", "viewer")
    async with kit.client() as client:
        response = await sign_in(client, tenant.id, "viewer@shop.test", "not-the-password")
        assert response.status_code == 401
        assert "sign-in refused" in response.text
        assert "admin_session" not in response.headers.get("set-cookie", "")
        unknown = await sign_in(client, tenant.id, "nobody@shop.test", "whatever")
        assert unknown.status_code == 401
        assert unknown.text.count("sign-in refused") == response.text.count("sign-in refused")
    failed = await kit.console.services.audit.search(
        tenant.id, AuditQuery(action="staff.sign_in_failed")
    )
    assert [e.details["reason"] for e in failed.entries] == ["bad_password"]
    assert failed.entries[0].actor.id.startswith("stf_")


async def test_repeated_failures_lock_the_login(kit: ConsoleKit, manual_clock: ManualClock) -> None:
    tenant = await kit.tenant()
    password = await kit.staff(tenant.id, "op@shop.test", "operator")
    async with kit.client() as client:
        for _ in range(kit.settings.admin_max_failed_sign_ins):
            assert (await sign_in(client, tenant.id, "op@shop.test", "guess")).status_code == 401
        # Locked: even the right password is refused, with the same answer.
        assert (await sign_in(client, tenant.id, "op@shop.test", password)).status_code == 401
        manual_clock.advance(kit.settings.admin_lockout_minutes * 60 + 1)
        assert (await sign_in(client, tenant.id, "op@shop.test", password)).status_code == 303


async def test_session_idles_out_after_the_policy_timeout(
    kit: ConsoleKit, manual_clock: ManualClock
) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, "viewer@shop.test", "viewer") as client:
        idle = (await kit.console.services.policies.current(tenant.id)).staff.session_idle_minutes
        manual_clock.advance(idle * 60 - 5)
        assert (await client.get("/audit")).status_code == 200  # activity resets the timer
        manual_clock.advance(idle * 60 - 5)
        assert (await client.get("/audit")).status_code == 200
        manual_clock.advance(idle * 60)
        response = await client.get("/audit")
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in"
        assert (await client.get("/audit")).status_code == 303  # the session is gone
    ended = await kit.console.services.audit.search(
        tenant.id, AuditQuery(action="staff.signed_out")
    )
    assert [e.details for e in ended.entries] == [{"reason": "idle_timeout"}]


async def test_cookies_are_httponly_strict_and_secure_outside_development(
    settings: Settings,
) -> None:
    async with running_console(admin_settings(settings, admin_cookie_secure=None)) as kit:
        tenant = await kit.tenant()
        password = await kit.staff(tenant.id, "viewer@shop.test", "viewer")
        async with kit.client("https") as client:
            response = await sign_in(client, tenant.id, "viewer@shop.test", password)
        assert response.status_code == 303
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("admin_session=")
        )
        lowered = cookie.lower()
        assert "httponly" in lowered
        assert "samesite=strict" in lowered
        assert "secure" in lowered


async def test_a_chat_token_is_not_a_staff_session(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    token = tenant.token("buyer-1", "buyer")
    async with kit.client() as client:
        response = await client.get("/audit", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 303
        client.cookies.set("admin_session", token)
        assert (await client.get("/audit")).status_code == 303


async def test_signing_in_again_ends_the_earlier_session(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    password = await kit.staff(tenant.id, "viewer@shop.test", "viewer")
    async with kit.client() as client:
        assert (await sign_in(client, tenant.id, "viewer@shop.test", password)).status_code == 303
        first = client.cookies["admin_session"]
        assert (await sign_in(client, tenant.id, "viewer@shop.test", password)).status_code == 303
        assert client.cookies["admin_session"] != first
    async with kit.client() as stale:
        stale.cookies.set("admin_session", first)
        assert (await stale.get("/audit")).status_code == 303
