"""Export and erasure forms, wired to the service's data-subject requests."""

from __future__ import annotations

import io
import json
import zipfile

from chat_service.audit import AuditActor, AuditQuery
from chat_service.compliance.holds import LegalHolds
from tests.admin.kit import ConsoleKit, csrf_of
from tests.fixtures.app import TenantKit, order_conversation

OFFICER = ("officer@shop.test", "compliance_officer")


async def _conversation(kit: ConsoleKit, tenant: TenantKit) -> str:
    services = kit.console.services
    conv, _ = await services.conversations.open_conversation(
        tenant.server, order_conversation("1042")
    )
    for index, (who, text) in enumerate([("buyer-1", "Wrong colour"), ("seller-1", "Sorry!")]):
        await services.conversations.send(
            tenant.server, conv.id, client_msg_id=f"m{index}", text=text, as_user=who
        )
    return conv.id


async def test_export_downloads_a_zip_and_is_audited(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    await _conversation(kit, tenant)
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        csrf = await csrf_of(client, "/subjects")
        response = await client.post("/subjects/export", data={"csrf": csrf, "user_id": "buyer-1"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/zip"
        assert response.headers["content-disposition"].startswith(
            'attachment; filename="export-buyer-1-'
        )
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            document = json.loads(archive.read("export.json"))
        assert [m["text"] for m in document["messages"]] == ["Wrong colour"]
        unknown = await client.post("/subjects/export", data={"csrf": csrf, "user_id": "ghost"})
        assert unknown.status_code == 404
        assert "no such person" in unknown.text
    exported = await kit.console.services.audit.search(
        tenant.id, AuditQuery(action="subject.exported")
    )
    assert [e.target_id for e in exported.entries] == ["buyer-1"]
    assert exported.entries[0].actor.id.startswith("stf_")


async def test_erasure_needs_the_typed_confirmation_and_respects_legal_holds(
    kit: ConsoleKit,
) -> None:
    tenant = await kit.tenant()
    conv_id = await _conversation(kit, tenant)
    services = kit.console.services
    holds = LegalHolds(services.stores.db, services.audit, services.clock)
    officer = AuditActor(type="staff", id="stf_legal", role="compliance_officer")
    await holds.set(tenant.id, conv_id, officer, "case-2026-17")
    async with kit.signed_in(tenant.id, *OFFICER) as client:
        csrf = await csrf_of(client, "/subjects")
        unconfirmed = await client.post(
            "/subjects/erase",
            data={"csrf": csrf, "user_id": "buyer-1", "confirm_user_id": "buyer-2"},
        )
        assert unconfirmed.status_code == 400
        assert "Type the user id again" in unconfirmed.text
        held = await client.post(
            "/subjects/erase",
            data={"csrf": csrf, "user_id": "buyer-1", "confirm_user_id": "buyer-1"},
        )
        assert held.status_code == 409
        assert "legal hold" in held.text
        await holds.release(tenant.id, conv_id, officer, "case-2026-17")
        erased = await client.post(
            "/subjects/erase",
            data={"csrf": csrf, "user_id": "buyer-1", "confirm_user_id": "buyer-1"},
        )
        assert erased.status_code == 200
        assert "Erased <code>buyer-1</code>" in erased.text
    erasures = await services.audit.search(tenant.id, AuditQuery(action="subject.erased"))
    assert len(erasures.entries) == 1


async def test_operators_may_not_export(kit: ConsoleKit) -> None:
    tenant = await kit.tenant()
    await _conversation(kit, tenant)
    async with kit.signed_in(tenant.id, "op@shop.test", "operator") as client:
        csrf = await csrf_of(client, "/policy")
        response = await client.post("/subjects/export", data={"csrf": csrf, "user_id": "buyer-1"})
        assert response.status_code == 403
    exported = await kit.console.services.audit.search(
        tenant.id, AuditQuery(action="subject.exported")
    )
    assert exported.entries == []
