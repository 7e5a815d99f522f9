"""Per-seller response times and the notification log."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from admin.reports.response_times import MessageRow, response_times
from chat_service.clock import ManualClock
from tests.admin.kit import ConsoleKit
from tests.fixtures.app import order_conversation

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def row(conv: str, seq: int, sender: str, minutes: float) -> MessageRow:
    return MessageRow(conv=conv, seq=seq, sender=sender, at=T0 + timedelta(minutes=minutes))


def test_median_from_first_unanswered_buyer_message_to_first_seller_reply() -> None:
    roles = {
        "c1": {"b1": "buyer", "s1": "seller"},
        "c2": {"b2": "buyer", "s1": "seller"},
        "c3": {"b3": "buyer", "s2": "seller"},
    }
    rows = [
        row("c1", 1, "b1", 0),
        row("c1", 2, "b1", 5),  # still waiting since minute 0
        row("c1", 3, "s1", 10),  # 10 min
        row("c1", 4, "s1", 11),  # not a reply to anything new
        row("c1", 5, "b1", 20),
        row("c1", 6, "s1", 50),  # 30 min
        row("c2", 1, "s1", 0),  # seller first: no wait
        row("c2", 2, "b2", 1),
        row("c2", 3, "s1", 3),  # 2 min
        row("c3", 1, "b3", 0),  # never answered
        row("c3", 2, "stranger", 1),
    ]
    figures = response_times(rows, roles)
    assert [(f.seller_id, f.replies, f.median_seconds, f.slowest_seconds) for f in figures] == [
        ("s1", 3, 600.0, 1800.0)
    ]
    assert response_times([], roles) == []


async def test_response_time_page_from_a_clocked_history(
    kit: ConsoleKit, manual_clock: ManualClock
) -> None:
    tenant = await kit.tenant()
    conversations = kit.console.services.conversations

    async def talk(order: str, seller: str, script: list[tuple[str, float]]) -> None:
        conv, _ = await conversations.open_conversation(
            tenant.server,
            order_conversation(order, ("buyer-" + order, "buyer"), (seller, "seller")),
        )
        for index, (who, wait_minutes) in enumerate(script):
            manual_clock.advance(wait_minutes * 60)
            sender = "buyer-" + order if who == "buyer" else seller
            await conversations.send(
                tenant.server, conv.id, client_msg_id=f"m{index}", text="hello", as_user=sender
            )

    await talk("1", "seller-a", [("buyer", 0), ("seller", 500)])  # too old for 30 days
    manual_clock.advance(39 * 86400)
    await talk("2", "seller-a", [("buyer", 0), ("seller", 4), ("buyer", 60), ("seller", 8)])
    await talk("3", "seller-a", [("buyer", 0), ("buyer", 1), ("seller", 5)])
    await talk("4", "seller-b", [("buyer", 0), ("seller", 90)])
    async with kit.signed_in(tenant.id, "viewer@shop.test", "viewer") as client:
        page = await client.get("/response-times", params={"days": "30"})
        assert page.status_code == 200
        medians = dict(re.findall(r'data-seller="([^"]+)".*?data-seconds="([^"]+)"', page.text))
        assert medians == {"seller-b": "5400.0", "seller-a": "360.0"}  # 4, 6 and 8 min
        assert "90.0 min" in page.text or "1.5 h" in page.text
        wide = await client.get("/response-times", params={"days": "90"})
        assert 'data-seller="seller-a"' in wide.text
        medians = dict(re.findall(r'data-seller="([^"]+)".*?data-seconds="([^"]+)"', wide.text))
        assert medians["seller-a"] == "420.0"  # 4, 6, 8 and 500 min -> median 7 min


async def test_notification_log_shows_ids_modes_and_outcomes_only(
    kit: ConsoleKit, manual_clock: ManualClock
) -> None:
    tenant, other = await kit.tenant(), await kit.tenant("Other")
    conv, _ = await kit.console.services.conversations.open_conversation(
        tenant.server, order_conversation("1042")
    )
    now = manual_clock.now()
    notes = kit.console.services.stores.db["notifications"]
    # What the notifier leaves behind after sending (the mode once it records it).
    await notes.insert_many(
        [
            {
                "_id": f"{conv.id}|buyer-1",
                "tenant": tenant.id,
                "conv": conv.id,
                "user": "buyer-1",
                "state": "idle",
                "outcome": "sent",
                "mode": "redacted",
                "last_sent_at": now,
                "updated_at": now,
            },
            {
                "_id": f"{conv.id}|seller-1",
                "tenant": tenant.id,
                "conv": conv.id,
                "user": "seller-1",
                "state": "idle",
                "outcome": "mode_off",
                "updated_at": now - timedelta(minutes=1),
            },
            {
                "_id": "elsewhere|buyer-9",
                "tenant": other.id,
                "conv": "elsewhere",
                "user": "buyer-9",
                "state": "idle",
                "outcome": "sent",
                "updated_at": now,
            },
        ]
    )
    async with kit.signed_in(tenant.id, "op@shop.test", "operator") as client:
        page = await client.get("/notifications")
        assert page.status_code == 200
        body = page.text[page.text.index("<tbody>") :]
        assert body.index("buyer-1") < body.index("seller-1")
        assert "order #1042" in body
        assert "redacted" in body
        assert "mode_off" in body
        assert "buyer-9" not in body
        assert "@mail.test" not in page.text
        only = await client.get("/notifications", params={"user": "seller-1"})
        assert "buyer-1</code>" not in only.text
        bad = await client.get("/notifications", params={"user": '{"$gt": ""}'})
        assert bad.status_code == 400
