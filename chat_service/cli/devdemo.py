"""The demo marketplace's business records on the embedded default: order #1042
(two lines, one shipped, one back-ordered) in the demo conversation, and an
open quote the seller has priced. Made once, when ``dev`` creates its tenant."""

from __future__ import annotations

from datetime import date, timedelta

from chat_service.auth.principals import ServerPrincipal
from chat_service.conversations.schemas import ParticipantIn
from chat_service.orders.schemas import (
    BackorderCreate,
    BuyerIn,
    LineIn,
    OrderCreate,
    PartyIn,
    ShipmentCreate,
    ShipmentItemIn,
)
from chat_service.quotes.schemas import PartyIn as QuoteParty
from chat_service.quotes.schemas import QuoteCreate, QuoteLineIn, RespondIn
from chat_service.services import Services

__all__ = ["DEMO_ORDER", "DEMO_QUOTE", "seed_demo_records"]

DEMO_ORDER = "1042"
DEMO_QUOTE = "Q-2001"


async def seed_demo_records(
    services: Services, tenant_id: str, buyer: ParticipantIn, seller: ParticipantIn
) -> None:
    server = ServerPrincipal(tenant=tenant_id)
    await services.orders.create(
        server,
        OrderCreate(
            order_id=DEMO_ORDER,
            currency="USD",
            buyer=BuyerIn(user_id=buyer.user_id, display_name=buyer.display_name),
            seller=PartyIn(user_id=seller.user_id, display_name=seller.display_name),
            lines=[
                LineIn(
                    sku="CHAIR-OAK-BLUE", name="Blue oak chair", quantity=2, unit_price="189.00"
                ),
                LineIn(sku="CUSHION-BLUE", name="Seat cushion", quantity=2, unit_price="24.50"),
            ],
        ),
    )
    await services.orders.update_status(server, DEMO_ORDER, "processing")
    await services.orders.add_shipment(
        server,
        DEMO_ORDER,
        ShipmentCreate(
            shipment_id="S1",
            items=[ShipmentItemIn(line_id="1", quantity=2)],
            carrier="UPS",
            tracking_number="1Z999AA10123456784",
        ),
    )
    await services.orders.set_backorder(
        server,
        DEMO_ORDER,
        BackorderCreate(line_id="2", expected_date=date.today() + timedelta(days=21)),
    )
    await services.quotes.request(
        server,
        QuoteCreate(
            quote_id=DEMO_QUOTE,
            buyer=QuoteParty(user_id=buyer.user_id, display_name=buyer.display_name),
            seller=QuoteParty(user_id=seller.user_id, display_name=seller.display_name),
            currency="USD",
            title="Quote: 40 oak chairs, freight to Denver",
            lines=[
                QuoteLineIn(
                    line_id="1",
                    sku="CHAIR-OAK",
                    name="Oak chair",
                    quantity=40,
                    options={"colour": "natural oak", "freight": "Denver, CO"},
                )
            ],
        ),
    )
    await services.quotes.respond(
        server,
        DEMO_QUOTE,
        RespondIn(
            prices={"1": "12.00"},
            valid_until=services.clock.now() + timedelta(days=14),
        ),
    )
