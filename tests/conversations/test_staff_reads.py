"""Reading people's messages as staff or as the marketplace backend is audited;
participants reading their own conversation are not."""

from chat_service.services import Services
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, order_conversation


async def test_staff_and_backend_history_reads_are_audited(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(
        tenant.server,
        order_conversation(
            "1042", ("buyer-1", "buyer"), ("seller-1", "seller"), ("ops-1", "staff")
        ),
    )
    await services.conversations.send(
        user(tenant, "buyer-1"), conv.id, client_msg_id="a", text="hi"
    )
    await services.conversations.history(user(tenant, "buyer-1"), conv.id)
    await services.conversations.history(user(tenant, "ops-1", "staff"), conv.id)
    await services.conversations.history(tenant.server, conv.id)
    page = await services.audit.search(tenant.id)
    assert sorted((e.action, e.actor.type, e.actor.id, e.target_id) for e in page.entries) == [
        ("conversation.viewed_by_staff", "server", tenant.id, conv.id),
        ("conversation.viewed_by_staff", "staff", "ops-1", conv.id),
    ]
