"""Replies by email through the real SMTP listener into the real store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from chat_service.clock import ManualClock
from chat_service.embedded.servers import free_port
from chat_service.services import Services, build_services
from tests.notifier.conftest import Chat
from tests.notifier.inbound_corpus import MALFORMED, REPLY, SAMPLES
from tests.notifier.inbound_kit import OWN_FROM, Inbound, reply_email, running_inbound
from tests.notifier.test_content import set_policy


@pytest.fixture
async def inbound(services: Services) -> AsyncIterator[Inbound]:
    async with running_inbound(services) as running:
        yield running


async def texts(chat: Chat) -> list[tuple[str, str | None]]:
    page = await chat.services.conversations.history(chat.tenant.server, chat.conv_id)
    return [(m.sender_id, m.text) for m in page.messages]


@pytest.mark.parametrize(("name", "body", "expected"), SAMPLES, ids=[s[0] for s in SAMPLES])
async def test_a_reply_lands_as_the_sellers_message_without_history(
    inbound: Inbound, chat: Chat, name: str, body: str, expected: str
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    code, _ = await inbound.deliver(reply_email(body), to)
    assert code == 250
    assert await texts(chat) == [("seller-1", expected)]
    page = await chat.services.conversations.history(chat.tenant.server, chat.conv_id)
    assert page.messages[0].via == "email"
    record = await chat.services.stores.db["processed_inbound"].find_one({})
    assert record is not None
    assert (record["status"], record["via"]) == ("posted", "email")


async def test_the_reply_address_fits_a_local_part_and_survives_lowercasing(
    inbound: Inbound, chat: Chat
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    local = to.split("@")[0]
    assert len(local) <= 64
    assert local == local.lower()
    assert to == await inbound.address(chat.tenant.id, chat.conv_id)  # handle reused
    code, _ = await inbound.deliver(reply_email(REPLY), to.upper())
    assert code == 250
    assert await texts(chat) == [("seller-1", REPLY)]


async def test_the_same_message_id_is_posted_once(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    for _ in range(3):
        code, _ = await inbound.deliver(reply_email(REPLY), to)
        assert code == 250
    outcome = await inbound.replies.handle(reply_email(REPLY).as_bytes(), to)
    assert outcome.status == "duplicate"
    assert await texts(chat) == [("seller-1", REPLY)]


@pytest.mark.parametrize(
    "address",
    [
        "reply+{t}@reply.shop.test",  # a forged token: one character changed
        "reply+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@reply.shop.test",
        "reply+short@reply.shop.test",
        "someone@reply.shop.test",
        "reply+{ok}@other.test",
    ],
)
async def test_bad_or_forged_tokens_are_refused_at_rcpt(
    inbound: Inbound, chat: Chat, address: str
) -> None:
    good = await inbound.address(chat.tenant.id, chat.conv_id)
    token = good.split("+")[1].split("@")[0]
    forged = token[:-1] + ("a" if token[-1] != "a" else "b")
    code, message = await inbound.deliver(reply_email(REPLY), address.format(t=forged, ok=token))
    assert code == 550
    assert message.startswith("5.1.1")
    assert await texts(chat) == []


async def test_an_expired_token_is_refused_at_rcpt(
    services: Services, inbound: Inbound, chat: Chat
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    assert isinstance(services.clock, ManualClock)
    services.clock.advance(inbound.settings.reply_token_ttl_seconds + 1)
    code, message = await inbound.deliver(reply_email(REPLY), to)
    assert (code, message) == (550, "5.1.1 this reply address has expired")


async def test_a_handle_that_is_not_stored_is_refused(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    await chat.services.stores.db["reply_handles"].delete_many({})
    code, _ = await inbound.deliver(reply_email(REPLY), to)
    assert code == 550


async def test_a_wrong_sender_is_refused(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    code, _ = await inbound.deliver(reply_email(REPLY, sender="Mallory <b@mail.test>"), to)
    assert code == 550
    assert await texts(chat) == []


async def test_the_sender_is_compared_ignoring_case(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    code, _ = await inbound.deliver(reply_email(REPLY, sender="Sam <S@MAIL.TEST>"), to)
    assert code == 250
    assert len(await texts(chat)) == 1


@pytest.mark.parametrize(
    ("headers", "sender", "subject", "mail_from", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, None, None, None, "auto_reply"),
        ({"X-Autoreply": "yes"}, None, None, None, "auto_reply"),
        ({"X-Autorespond": "yes"}, None, None, None, "auto_reply"),
        ({}, None, "Out of office: back Monday", None, "auto_reply"),
        ({}, None, "Automatic reply: order #1042", None, "auto_reply"),
        ({}, None, None, "", "bounce"),
        ({"Return-Path": "<>"}, None, None, None, "bounce"),
        ({}, "MAILER-DAEMON@mail.test", None, None, "bounce"),
        ({}, OWN_FROM, None, None, "own_address"),
        ({"Precedence": "bulk"}, None, None, None, "bulk"),
        ({"Precedence": "list"}, None, None, None, "bulk"),
        ({"Precedence": "junk"}, None, None, None, "bulk"),
        ({"List-Id": "<sellers.shop.test>"}, None, None, None, "mailing_list"),
    ],
)
async def test_automatic_mail_is_accepted_and_discarded(
    inbound: Inbound,
    chat: Chat,
    headers: dict[str, str],
    sender: str | None,
    subject: str | None,
    mail_from: str | None,
    reason: str,
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    message = reply_email(
        REPLY,
        headers=headers,
        sender=sender or "Sam <s@mail.test>",
        subject=subject or "Re: 1 new message",
    )
    code, _ = await inbound.deliver(
        message, to, mail_from="s@mail.test" if mail_from is None else mail_from
    )
    assert code == 250  # accepted, so nobody retries
    assert await texts(chat) == []
    record = await chat.services.stores.db["processed_inbound"].find_one({})
    assert record is not None
    assert (record["status"], record["reason"]) == ("dropped", reason)


async def test_a_bounce_report_is_discarded(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    raw = (
        b"From: Sam <s@mail.test>\r\nMessage-ID: <dsn@mail.test>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed\r\n--b--\r\n"
    )
    code, _ = await inbound.deliver(raw, to)
    assert code == 250
    assert await texts(chat) == []


async def test_an_empty_reply_is_dropped_with_a_reason(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    body = "\n\nOn Wed, Nov 25, 2026 at 2:00 PM Shop <notify@shop.test> wrote:\n> hello\n"
    outcome = await inbound.replies.handle(reply_email(body).as_bytes(), to)
    assert (outcome.status, outcome.reason) == ("dropped", "empty_reply")
    assert await texts(chat) == []


async def test_oversize_mail_is_refused(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    code, _ = await inbound.deliver(reply_email("x" * 70_000), to)
    assert code == 552
    outcome = await inbound.replies.handle(b"x" * 70_000, to)
    assert (outcome.status, outcome.reason) == ("rejected", "too_large")
    assert await texts(chat) == []


async def test_too_many_mime_parts_are_refused(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    message = reply_email(REPLY)
    for n in range(12):
        message.add_attachment(
            b"x", maintype="application", subtype="octet-stream", filename=f"{n}"
        )
    code, _ = await inbound.deliver(message, to)
    assert code == 550
    assert await texts(chat) == []


async def test_an_html_only_reply_is_sanitised(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    html = (
        "<html><body><div>Shipped today &amp; tracked.<script>alert('x')</script></div>"
        "<div><img src=x onerror=alert(1)>Thanks</div>"
        '<div class="gmail_quote">On Wed, Nov 25, 2026 at 2:00 PM Shop wrote:<br>'
        "<blockquote>old text</blockquote></div></body></html>"
    )
    code, _ = await inbound.deliver(reply_email("", html=html), to)
    assert code == 250
    [(sender, text)] = await texts(chat)
    assert sender == "seller-1"
    assert text == "Shipped today & tracked.\nThanks"


async def test_a_policy_without_replies_refuses_them(
    services: Services, inbound: Inbound, chat: Chat
) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    await set_policy(services, chat.tenant, changes={"email": {"reply_by_email_allowed": False}})
    code, _ = await inbound.deliver(reply_email(REPLY), to)
    assert code == 550
    assert await texts(chat) == []


async def test_the_store_down_answers_451(services: Services, inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    dead = services.settings.model_copy(
        update={"mongo_url": f"mongodb://127.0.0.1:{free_port()}/?serverSelectionTimeoutMS=300"}
    )
    down = await build_services(dead, clock=services.clock)
    try:
        async with running_inbound(down, ensure_indexes=False) as unavailable:
            code, _ = await unavailable.deliver(reply_email(REPLY), to)
    finally:
        await down.close()
    assert code == 451
    assert await texts(chat) == []


async def test_malformed_mail_is_answered_cleanly_over_smtp(inbound: Inbound, chat: Chat) -> None:
    to = await inbound.address(chat.tenant.id, chat.conv_id)
    answers: dict[str, int] = {}
    for name, raw in MALFORMED:
        code, _ = await inbound.deliver(raw, to)
        answers[name] = code
    # 500: aiosmtpd itself refuses lines over RFC 5321's 1000 octets.
    assert set(answers.values()) <= {250, 500, 550, 552}, answers
    assert answers["huge-header-line"] == 500
    code, _ = await inbound.deliver(reply_email(REPLY, message_id="<after@mail.test>"), to)
    assert code == 250  # still serving
