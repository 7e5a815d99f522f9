"""A policy change reaches two running ``chat-service serve`` processes within
their cache window, without a restart: the console (here, this process)
changes the policy; both processes mask the next message by the new rules."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from chat_service.audit import AuditActor
from chat_service.config import Settings
from chat_service.embedded.servers import free_port
from chat_service.services import Services
from tests.fixtures.app import TenantKit, order_conversation
from tests.fixtures.processes import ServeProcess

LINK_TEXT = "spec sheet: https://shop.example.com/chairs"


async def _masked_after_change(http: httpx.AsyncClient, conv_id: str, tag: str) -> int:
    """Send until the link comes back masked; returns how many sends it took
    (the bounded wait is for the other process's cache window to pass)."""
    for attempt in range(1, 200):
        sent = await http.post(
            f"/v1/conversations/{conv_id}/messages",
            json={"client_msg_id": f"{tag}-{attempt}", "text": LINK_TEXT},
        )
        assert sent.status_code == 201, sent.text
        if "shop.example.com" not in sent.json()["text"]:
            return attempt
        await asyncio.sleep(0.05)
    raise AssertionError("the policy change never reached the process")


async def test_a_policy_change_reaches_every_process_without_restart(
    settings: Settings, services: Services, tenant: TenantKit, tmp_path: Path
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    fast = settings.model_copy(update={"policy_cache_seconds": 0.5})
    processes = [ServeProcess(name, fast, free_port(), tmp_path) for name in ("a", "b")]
    for process in processes:
        process.env["CHAT_POLICY_CACHE_SECONDS"] = "0.5"
        process.start()
    try:
        await asyncio.gather(*(p.wait_ready() for p in processes))
        token = tenant.token("buyer-1")
        clients = [
            httpx.AsyncClient(
                base_url=p.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
            )
            for p in processes
        ]
        for index, http in enumerate(clients):  # standard preset: links are not masked
            sent = await http.post(
                f"/v1/conversations/{conv.id}/messages",
                json={"client_msg_id": f"before-{index}", "text": LINK_TEXT},
            )
            assert sent.json()["text"] == LINK_TEXT
        await services.policies.update(
            tenant.id,
            AuditActor(type="staff", id="officer-1", role="compliance_officer"),
            expected_version=0,
            preset_name="gdpr",  # masks links too
        )
        for index, http in enumerate(clients):
            await _masked_after_change(http, conv.id, f"after-{index}")
        for http in clients:
            await http.aclose()
    finally:
        for process in processes:
            process.kill()
