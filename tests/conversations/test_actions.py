"""Seller quick actions: the payload rules (pure), and sending them through the
service against the real store (roles, idempotency, sealing at rest)."""

from __future__ import annotations

import datetime as dt

import pytest

from chat_service.conversations.actions import (
    MAX_ACTION_BYTES,
    ConfirmDeliveryDate,
    ProposeReplacement,
    RequestPhoto,
    action_from_stored,
    action_summary,
    action_to_stored,
    parse_action,
)
from chat_service.errors import BadRequest, Forbidden, NotFound
from chat_service.services import Services
from tests.conversations.test_encryption_at_rest import raw_dump
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, order_conversation

REPLACEMENT = {
    "action": "propose_replacement",
    "sku": "CHAIR-OAK-NAT",
    "name": "Natural oak chair, hand-waxed",
    "note": "Same frame, the blue one is sold out",
}


def test_each_action_parses_round_trips_and_summarises() -> None:
    replacement = parse_action(REPLACEMENT)
    assert isinstance(replacement, ProposeReplacement)
    photo = parse_action({"action": "request_photo"})
    assert isinstance(photo, RequestPhoto) and photo.note is None
    day = parse_action({"action": "confirm_delivery_date", "date": "2026-12-01", "note": "am"})
    assert isinstance(day, ConfirmDeliveryDate) and day.date == dt.date(2026, 12, 1)
    for action in (replacement, photo, day):
        assert action_from_stored(action_to_stored(action)) == action
    assert action_to_stored(photo) == '{"action":"request_photo"}'
    assert action_summary(day) == "Confirmed the delivery date: 2026-12-01. Note: am"
    assert action_summary(replacement).startswith(
        "Proposed a replacement: Natural oak chair, hand-waxed (SKU CHAIR-OAK-NAT)."
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ({"action": "refund_everything"}, "unknown_action"),
        ({"sku": "A", "name": "B"}, "unknown_action"),
        ({"action": ["request_photo"]}, "unknown_action"),
        ({"action": "propose_replacement", "name": "Chair"}, "invalid_action"),
        ({**REPLACEMENT, "price": "1.00"}, "invalid_action"),
        ({**REPLACEMENT, "sku": {"$ne": None}}, "invalid_action"),
        ({**REPLACEMENT, "sku": "no spaces allowed"}, "invalid_action"),
        ({**REPLACEMENT, "name": "   "}, "invalid_action"),
        ({**REPLACEMENT, "note": "nul\x00byte"}, "invalid_action"),
        ({"action": "confirm_delivery_date", "date": "2026-02-30"}, "invalid_action"),
        ({"action": "confirm_delivery_date", "date": "2026-W48-1"}, "invalid_action"),
        ({"action": "confirm_delivery_date", "date": "2026-12-01T10:00:00Z"}, "invalid_action"),
        ({"action": "confirm_delivery_date", "date": 20261201}, "invalid_action"),
        ({"action": "request_photo", "note": "x" * 501}, "action_too_large"),
        ({**REPLACEMENT, "name": "x" * 201}, "action_too_large"),
        ({"action": "request_photo", "padding": "x" * MAX_ACTION_BYTES}, "action_too_large"),
    ],
)
def test_malformed_unknown_and_oversized_payloads_get_stable_codes(
    raw: dict[str, object], code: str
) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_action(raw)
    assert refused.value.code == code


async def test_only_the_seller_sends_actions_and_they_are_sealed(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    seller = user(tenant, "seller-1", "seller")
    buyer = user(tenant, "buyer-1", "buyer")
    outsider = user(tenant, "seller-2", "seller")
    actions = services.conversations.actions

    with pytest.raises(Forbidden) as refused:
        await actions.send(buyer, conv.id, client_msg_id="b1", action=REPLACEMENT)
    assert refused.value.code == "role_not_allowed"
    # A seller token is not enough: the role in this conversation counts.
    with pytest.raises(NotFound):
        await actions.send(outsider, conv.id, client_msg_id="o1", action=REPLACEMENT)
    with pytest.raises(BadRequest) as unknown:
        await actions.send(seller, conv.id, client_msg_id="u1", action={"action": "nope"})
    assert unknown.value.code == "unknown_action"

    sent = await actions.send(seller, conv.id, client_msg_id="a1", action=REPLACEMENT)
    assert sent.created and sent.message.kind == "action" and sent.message.seq == 1
    assert isinstance(sent.message.action, ProposeReplacement)
    assert sent.message.action.sku == "CHAIR-OAK-NAT"
    assert sent.message.text is not None and "Natural oak chair" in sent.message.text
    again = await actions.send(seller, conv.id, client_msg_id="a1", action=REPLACEMENT)
    assert not again.created and again.message.id == sent.message.id

    page = await services.conversations.history(buyer, conv.id, after_seq=0)
    (stored,) = page.messages
    assert stored.action == sent.message.action and stored.text == sent.message.text
    summaries = await services.conversations.list_conversations(buyer)
    assert summaries[0].unread_count == 1
    assert summaries[0].last_message is not None
    assert summaries[0].last_message.kind == "action"

    dump = await raw_dump(services)
    assert b"seller-1" in dump
    for needle in ("Natural oak chair", "CHAIR-OAK-NAT", "sold out", "propose_replacement"):
        assert needle.encode() not in dump, needle


async def test_contact_details_in_notes_are_masked_as_in_text(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    seller = user(tenant, "seller-1", "seller")
    sent = await services.conversations.actions.send(
        seller,
        conv.id,
        client_msg_id="p1",
        action={"action": "request_photo", "note": "or mail it to sam@seller.example"},
    )
    assert sent.message.action is not None and sent.message.action.note is not None
    assert "sam@seller.example" not in sent.message.action.note
