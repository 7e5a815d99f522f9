"""What an away email carries: full or redacted per policy and role, fail closed,
no header injection, no markup injection."""

from __future__ import annotations

from datetime import UTC, datetime

from chat_service.audit import AuditActor
from chat_service.services import Services
from notifier.delivery import AwayNotifier
from notifier.wiring import build_notifier
from tests.fixtures.app import TenantKit
from tests.notifier.conftest import (
    ORDER,
    TITLE,
    Chat,
    PendingNotifications,
    advance,
    notifier_settings,
    open_chat,
    run_due,
)
from tests.notifier.smtp_sink import Received, Sink

OFFICER = AuditActor(type="staff", id="officer-1", role="compliance_officer")
SECRET_TEXT = "Item 3 is the walnut credenza, ship to 12 Elm Street"


def every_byte(received: Received) -> str:
    """The raw message, every header decoded, every part decoded: all of it."""
    message = received.parsed()
    pieces = [received.raw.decode("utf-8", "replace")]
    pieces += [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            pieces.append(payload.decode("utf-8", "replace"))
    return "\n".join(pieces).lower()


def assert_reveals_nothing(received: Received, chat: Chat, *needles: str) -> None:
    haystack = every_byte(received)
    for needle in (
        SECRET_TEXT,
        "walnut",
        "Brenda",
        "Buyer",
        "buyer-1",
        ORDER,
        "1042",
        TITLE,
        "velvet",
        "armchair",
        "order",
        chat.conv_id,
        *needles,
    ):
        assert needle.lower() not in haystack, f"redacted email reveals {needle!r}"


async def set_policy(services: Services, tenant: TenantKit, **kwargs: object) -> None:
    await services.policies.update(tenant.id, OFFICER, expected_version=0, **kwargs)  # type: ignore[arg-type]


async def test_standard_policy_sends_full_text_with_a_link_back(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", SECRET_TEXT)
    advance(services, 121)
    await run_due(notifier)
    [received] = sink.received
    email = received.parsed()
    # Verbatim, not folded into encoded words: mail clients must see the URL.
    assert b"\r\nList-Unsubscribe: <http://127.0.0.1:8000/v1/unsubscribe?token=" in received.raw
    plain = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert SECRET_TEXT in plain
    assert "Brenda Buyer" in plain
    assert TITLE in plain
    assert "http://127.0.0.1:8000/v1/open?token=" in plain
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["X-Auto-Response-Suppress"] == "All"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/v1/unsubscribe?token=")
    assert email["In-Reply-To"] == email["References"]
    assert email["Reply-To"] is None  # no reply address until the inbound half supplies one
    assert email.get_content_type() == "multipart/alternative"


async def test_hipaa_sends_redacted_and_reveals_nothing_anywhere(
    services: Services, tenant: TenantKit, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await set_policy(services, tenant, preset_name="hipaa")
    for text in (SECRET_TEXT, "second secret: the walnut one"):
        await chat.send("buyer-1", "buyer", text)
    advance(services, 121)
    assert [o.status for o in await run_due(notifier)] == ["sent"]
    [received] = sink.received
    email = received.parsed()
    assert email["Subject"] == "You have a new secure message"
    assert "sign in to read it" in every_byte(received)
    assert_reveals_nothing(received, chat, "second secret", "Sam Seller")


async def test_mode_follows_the_recipient_role(
    services: Services, tenant: TenantKit, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await set_policy(
        services, tenant, changes={"email": {"content_by_role": {"seller": "redacted"}}}
    )
    await chat.send("buyer-1", "buyer", SECRET_TEXT)
    await chat.send("seller-1", "seller", "Sorry, shipping the walnut one today")
    advance(services, 121)
    await run_due(notifier)
    by_recipient = {r.recipients[0]: r for r in sink.received}
    assert set(by_recipient) == {"s@mail.test", "b@mail.test"}
    assert_reveals_nothing(by_recipient["s@mail.test"], chat)
    buyer_mail = by_recipient["b@mail.test"].parsed()
    assert "Sam Seller" in buyer_mail["Subject"]


async def test_an_unreadable_policy_fails_closed_to_redacted(
    services: Services, tenant: TenantKit, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", SECRET_TEXT)
    await services.stores.db["policy_history"].insert_one(
        {"tenant": tenant.id, "version": 1, "at": datetime.now(UTC), "new": {"broken": True}}
    )
    advance(services, 121)
    assert [o.status for o in await run_due(notifier)] == ["sent"]
    [received] = sink.received
    assert_reveals_nothing(received, chat)


async def test_mode_off_sends_nothing(
    services: Services, tenant: TenantKit, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await set_policy(services, tenant, changes={"email": {"content_by_role": {"seller": "off"}}})
    await chat.send("buyer-1", "buyer", SECRET_TEXT)
    advance(services, 121)
    assert await run_due(notifier) == []  # nothing was even scheduled
    assert sink.received == []


async def test_reply_to_only_when_the_policy_allows_replies(
    services: Services, tenant: TenantKit, chat: Chat, sink: Sink
) -> None:
    async def reply_address(tenant_id: str, conv: str, user: str) -> str:
        return "reply+opaque-token@in.shop.test"

    notifier = build_notifier(services, notifier_settings(sink), reply_address=reply_address)
    await chat.send("buyer-1", "buyer", "standard policy")
    advance(services, 121)
    await run_due(notifier)
    await set_policy(services, tenant, preset_name="hipaa")
    await chat.send("buyer-1", "buyer", "hipaa policy")
    advance(services, 121)
    await run_due(notifier)
    standard, hipaa = sink.messages()
    assert standard["Reply-To"] == "reply+opaque-token@in.shop.test"
    assert hipaa["Reply-To"] is None


async def test_line_breaks_in_a_name_cannot_inject_headers(
    services: Services, tenant: TenantKit, pending: PendingNotifications, sink: Sink
) -> None:
    notifier = build_notifier(services, notifier_settings(sink))
    chat = await open_chat(
        services,
        tenant,
        pending,
        buyer_name="Brenda\r\nBcc: victim@evil.test\r\nX-Injected: yes\n\n<b>body</b>",
    )
    await chat.send("buyer-1", "buyer", "<script>alert(1)</script> & <img src=x>")
    advance(services, 121)
    await run_due(notifier)
    [received] = sink.received
    assert received.recipients == ["s@mail.test"]
    email = received.parsed()
    assert email["Bcc"] is None
    assert email["X-Injected"] is None
    headers = received.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers
    assert b"\nX-Injected:" not in headers
    # Names are one line in the body too.
    assert b"\nBcc:" not in received.raw
    assert "Brenda Bcc: victim@evil.test X-Injected" in email["Subject"]
    html = email.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html
    assert "<b>body</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x&gt;" in html
