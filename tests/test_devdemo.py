"""The demo marketplace's records that ``dev`` seeds: an order with a split
shipment and a back-order in the demo conversation, and an open quote."""

from pathlib import Path

from chat_service.auth.principals import ServerPrincipal
from chat_service.cli.devdemo import DEMO_ORDER, DEMO_QUOTE, seed_demo_records
from chat_service.cli.devmode import DEMO_BUYER, DEMO_SELLER, DevState, banner
from chat_service.config import Settings
from chat_service.services import Services
from tests.fixtures.app import TenantKit


async def test_demo_records_are_a_split_order_and_an_open_quote(
    services: Services, tenant: TenantKit
) -> None:
    await seed_demo_records(services, tenant.id, DEMO_BUYER, DEMO_SELLER)
    server = ServerPrincipal(tenant=tenant.id)
    order = await services.orders.get(server, DEMO_ORDER)
    assert order.status == "partially_shipped"
    assert len(order.shipments) == 1 and len(order.backorders) == 1
    quote = await services.quotes.get(server, DEMO_QUOTE)
    assert quote.status == "responded"
    history = await services.conversations.history(server, order.conversation_id)
    assert [m.kind for m in history.messages] == ["system"] * len(history.messages)
    assert len(history.messages) >= 3  # placed, processing, shipment (and the back-order)


def test_the_banner_points_at_both_demo_conversations(settings: Settings) -> None:
    state = DevState(
        tenant_id="t_0123456789abcdef",
        signing_secret="s3cret-s3cret-s3cret-s3cret-s3cret",
        server_key="sk_t_0123456789abcdef_x",
        conversation_id="c_0123456789abcdef01234567",
    )
    text = banner(settings, state, "mongodb://x", "redis://x", Path("/tmp/dev"))
    base = settings.public_base_url
    assert f"{base}/demo/buyer?subject=quote" in text
    assert f"{base}/demo/seller?subject=quote" in text
    assert f"quote {DEMO_QUOTE}" in text
