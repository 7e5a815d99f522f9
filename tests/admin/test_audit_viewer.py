"""The audit log viewer: filters, paging, refused filters, the chain check."""

from __future__ import annotations

import re

from chat_service.audit import AuditActor
from chat_service.clock import ManualClock
from tests.admin.kit import ConsoleKit, csrf_of


async def _fill(kit: ConsoleKit, tenant: str, clock: ManualClock, count: int) -> None:
    for index in range(count):
        actor = AuditActor(type="staff", id=f"stf_{index % 3}", role="compliance_officer")
        await kit.console.services.audit.record(
            tenant,
            actor,
            "conversation.viewed_by_staff",
            target_type="conversation",
            target_id=f"conv_{index}",
        )
        clock.advance(3600 * 6)


def seqs(page: str) -> list[int]:
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", body)]


async def test_filters_and_paging(kit: ConsoleKit, manual_clock: ManualClock) -> None:
    tenant = await kit.tenant()
    await _fill(kit, tenant.id, manual_clock, 60)
    async with kit.signed_in(tenant.id, "viewer@shop.test", "viewer") as client:
        first = await client.get("/audit")
        assert len(seqs(first.text)) == 50
        older = re.search(r'href="(/audit\?[^"]+)" id="older"', first.text)
        assert older
        second = await client.get(older.group(1).replace("&amp;", "&"))
        assert len(seqs(second.text)) == 11  # 60 views + the sign-in, 50 per page
        assert max(seqs(second.text)) < min(seqs(first.text))
        by_actor = await client.get("/audit", params={"actor_id": "stf_1"})
        assert len(seqs(by_actor.text)) == 20
        by_target = await client.get("/audit", params={"target_id": "conv_7"})
        assert seqs(by_target.text) == [8]
        by_action = await client.get("/audit", params={"action": "staff.signed_in"})
        assert len(seqs(by_action.text)) == 1
        day = await client.get("/audit", params={"since": "2026-01-02", "until": "2026-01-02"})
        assert len(seqs(day.text)) == 4  # four entries six hours apart on 2 January


async def test_filters_that_do_not_fit_are_refused(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, "viewer@shop.test", "viewer") as client:
        for params in (
            {"actor_id": '{"$ne": null}'},
            {"action": "policy.deleted"},
            {"since": "yesterday"},
            {"before": "-1"},
        ):
            response = await client.get("/audit", params=params)
            assert response.status_code == 400, params
            assert "These filters are not valid" in response.text


async def test_verify_chain_reports_ok_then_the_first_broken_link(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    async with kit.signed_in(tenant.id, "viewer@shop.test", "viewer") as client:
        csrf = await csrf_of(client, "/audit")
        ok = await client.post("/audit/verify", data={"csrf": csrf})
        assert ok.status_code == 200
        assert "Chain intact: 1 entries checked" in ok.text
        await kit.console.services.stores.db["audit_log"].update_one(
            {"tenant": tenant.id, "seq": 1}, {"$set": {"target_id": "stf_forged"}}
        )
        broken = await client.post("/audit/verify", data={"csrf": csrf})
        assert "Chain broken at entry #1 (hash mismatch)" in broken.text
