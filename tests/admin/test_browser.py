"""The console in a real headless browser (Debian's chromium, driven by
Playwright): sign in, switch the preset to HIPAA, see the redacted email
preview, run an export, see the audit entries and check the chain. Screenshots go to
``tests/artifacts/``."""

from __future__ import annotations

import asyncio
import json
import zipfile
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import Browser, Page, expect

from admin.app import create_app
from admin.deps import Console
from chat_service.config import Settings
from chat_service.embedded.servers import free_port
from tests.admin.kit import admin_settings
from tests.fixtures.app import create_tenant, order_conversation, serve_config
from tests.fixtures.browser import screenshot


@pytest.fixture
async def live_console(settings: Settings) -> AsyncIterator[tuple[str, Console]]:
    # Secure cookies as in production: chromium keeps them on http://127.0.0.1.
    app = create_app(admin_settings(settings, admin_cookie_secure=True))
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, loop="asyncio", lifespan="on", log_level="warning"
    )
    server, task = await serve_config(config)
    yield f"http://127.0.0.1:{port}", app.state.console
    server.should_exit = True
    await asyncio.wait_for(task, timeout=15)


async def shot(page: Page, name: str) -> None:
    await screenshot(page, f"admin-{name}", full_page=True)


async def test_officer_switches_to_hipaa_and_sees_it_audited(
    live_console: tuple[str, Console], browser: Browser
) -> None:
    base, console = live_console
    tenant = await create_tenant(console.services, "Chairs & Co")
    _, password = await console.staff.create(tenant.id, "officer@chairs.test", "compliance_officer")
    page = await browser.new_page(viewport={"width": 1280, "height": 900})

    await page.goto(f"{base}/policy")
    await expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    await page.get_by_label("Marketplace id").fill(tenant.id)
    await page.get_by_label("Login").fill("officer@chairs.test")
    await page.get_by_label("Password").fill("wrong password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("sign-in refused")
    await shot(page, "1-sign-in-refused")

    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Compliance policy")).to_be_visible()
    await expect(page.locator("#policy-version")).to_contain_text("Version 0")
    full_buyer = page.locator('article[data-role="buyer"]')
    await expect(full_buyer).to_have_attribute("data-mode", "full")
    full_email = page.frame_locator('article[data-role="buyer"] iframe').locator("body")
    await expect(full_email).to_contain_text("Is the blue chair still available in oak?")
    await expect(full_email).to_contain_text("Call me on [hidden]")  # masked as in chat
    await page.locator("#preview").scroll_into_view_if_needed()  # frames paint when seen
    await shot(page, "2-policy-standard")

    await page.locator('select[name="preset"]').select_option("hipaa")
    await page.get_by_role("button", name="Apply preset").click()
    await expect(page.get_by_role("status")).to_contain_text("Saved as version 1.")
    await expect(page.locator("#policy-version")).to_contain_text("preset hipaa")
    for role in ("buyer", "seller", "staff"):
        await expect(page.locator(f'article[data-role="{role}"]')).to_have_attribute(
            "data-mode", "redacted"
        )
    preview = page.frame_locator('article[data-role="buyer"] iframe')
    await expect(preview.locator("body")).to_contain_text("Sign in to read it")
    await expect(page.locator("#preview")).not_to_contain_text("blue chair")
    await expect(page.locator('article[data-role="buyer"] .subject')).to_have_text(
        "You have a new secure message"
    )
    await page.locator("#preview").scroll_into_view_if_needed()
    await shot(page, "3-policy-hipaa-redacted-preview")

    conv, _ = await console.services.conversations.open_conversation(
        tenant.server, order_conversation("1042")
    )
    await console.services.conversations.send(
        tenant.server, conv.id, client_msg_id="m1", text="Wrong colour", as_user="buyer-1"
    )
    await console.services.conversations.send(
        tenant.server,
        conv.id,
        client_msg_id="m2",
        text="Sorry, sending another",
        as_user="seller-1",
    )
    await page.get_by_role("link", name="Data subjects").click()
    await page.locator('form[action="/subjects/export"] input[name="user_id"]').fill("buyer-1")
    await shot(page, "4-subjects")
    async with page.expect_download() as download_info:
        await page.get_by_role("button", name="Download archive").click()
    download = await download_info.value
    assert download.suggested_filename.startswith("export-buyer-1-")
    with zipfile.ZipFile(await download.path()) as archive:
        exported = json.loads(archive.read("export.json"))
    assert [m["text"] for m in exported["messages"]] == ["Wrong colour"]

    await page.get_by_role("link", name="Audit log").click()
    entries = page.locator("#audit-entries tbody")
    await expect(entries).to_contain_text("subject.exported")
    await expect(entries).to_contain_text("policy.changed")
    await expect(entries).to_contain_text("staff.signed_in")
    await expect(entries).to_contain_text("staff.sign_in_failed")
    await page.get_by_role("button", name="Verify chain").click()
    await expect(page.locator("#chain-report")).to_contain_text("Chain intact: 4 entries checked")
    await shot(page, "5-audit-log-verified")

    await page.locator('select[name="action"]').select_option("policy.changed")
    await page.get_by_role("button", name="Filter").click()
    await expect(entries.locator("tr")).to_have_count(1)
    await expect(entries).to_contain_text("to_version=1")
    await shot(page, "6-audit-filtered")

    await page.get_by_role("link", name="Response times").click()
    await expect(page.locator('#response-times tr[data-seller="seller-1"]')).to_be_visible()
    await shot(page, "7-response-times")
    await page.get_by_role("link", name="Notification log").click()
    await expect(page.get_by_role("heading", name="Notification log")).to_be_visible()
    await shot(page, "8-notification-log")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    await page.goto(f"{base}/audit")
    await expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
