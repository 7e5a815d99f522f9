"""Away emails per second: rendered, and rendered + handed to a local SMTP sink.

    python -m bench.notifier_emails [--emails 2000] [--concurrency 8] [--pipeline 500]

Phases:

* ``render``: gate verdict -> full email (3 messages, text + HTML, signed
  links), no I/O;
* ``render+smtp``: the same, each handed over its own SMTP connection (as the
  worker does) to an ``aiosmtpd`` sink in this process, ``--concurrency`` at once;
* ``pipeline`` (``--pipeline N``, needs the embedded servers): N conversations
  with one unread message each, then claim -> gate (store, Redis presence,
  decryption) -> render -> SMTP -> mark, on the real store and Redis.

The sink runs on its own thread and event loop in this process, so it shares
the CPU with the sender; a remote SMTP relay would be faster per email and
slower per round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from chat_service.clock import ManualClock
from chat_service.conversations.schemas import MessagePublic
from chat_service.embedded.servers import free_port
from chat_service.notifications.tokens import NotificationTokens
from notifier.compose import Composer
from notifier.config import NotifierSettings
from notifier.gate import Batch
from notifier.smtp import SmtpSender
from policies import default_policy


class CountingSink:
    def __init__(self) -> None:
        self.count = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def fake_batch(i: int) -> Batch:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    texts = ["The chair arrived green", "Can you send a blue one?", "Photo attached " * 8]
    messages = [
        MessagePublic(
            id=f"m_{i:08x}{n}",
            conversation_id=f"c_{i:024x}",
            seq=n + 1,
            kind="text",
            sender_id="buyer-1",
            text=text,
            client_msg_id=f"x{n}",
            created_at=at,
        )
        for n, text in enumerate(texts)
    ]
    conv = {"_id": f"c_{i:024x}", "subject_type": "order", "subject_id": str(1000 + i)}
    return Batch(
        conv={**conv, "title": "Blue velvet armchair", "participants": []},
        role="seller",
        mode="full",
        policy=default_policy(),
        email=f"seller{i}@mail.test",
        recipient_name="Sam Seller",
        messages=messages,
        through_seq=3,
        names={"buyer-1": "Brenda Buyer"},
    )


def make_composer(settings: NotifierSettings, clock: ManualClock) -> Composer:
    kek = os.urandom(32)
    return Composer(
        settings=settings,
        tokens=NotificationTokens({1: kek}, 1),
        thread_key=kek,
        public_base_url="http://127.0.0.1:8000",
        clock=clock,
    )


async def render_phase(composer: Composer, count: int) -> float:
    started = time.perf_counter()
    for i in range(count):
        note = {"tenant": "t_1", "conv": f"c_{i:024x}", "user": "seller-1"}
        email = await composer.compose(note, fake_batch(i), message_id=composer.message_id("a"))
        email.as_bytes()
    return count / (time.perf_counter() - started)


async def smtp_phase(composer: Composer, sender: SmtpSender, count: int, concurrency: int) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            note = {"tenant": "t_1", "conv": f"c_{i:024x}", "user": "seller-1"}
            email = await composer.compose(note, fake_batch(i), message_id=composer.message_id("b"))
            await sender.send(email, sender=composer.envelope_from, recipient=f"s{i}@mail.test")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / (time.perf_counter() - started)


async def pipeline_phase(settings: NotifierSettings, count: int, concurrency: int) -> float:
    from chat_service.auth.principals import ServerPrincipal
    from chat_service.config import Settings
    from chat_service.conversations.schemas import (
        ConversationCreate,
        ParticipantIn,
    )
    from chat_service.embedded.servers import start_redis, start_store, stop_all
    from chat_service.notifications.repository import NotificationRepository
    from chat_service.notifications.service import PendingNotifications
    from chat_service.services import build_services
    from chat_service.tenants.schemas import TenantCreate
    from notifier.wiring import build_notifier

    workdir = Path(tempfile.mkdtemp(prefix="bench-notifier-"))
    store = start_store(data_dir=workdir / "store", log_dir=workdir)
    redis = start_redis(data_dir=None, log_dir=workdir)
    try:
        core = Settings(
            environment="development",
            mongo_url=store.url,
            mongo_db="bench_notifier",
            redis_url=redis.url,
            keks=f"1:{base64.b64encode(os.urandom(32)).decode()}",  # type: ignore[arg-type]
        )
        clock = ManualClock()
        services = await build_services(core, clock=clock)
        await services.ensure_indexes()
        repository = NotificationRepository(services.stores.db)
        await repository.ensure_indexes()
        pending = PendingNotifications(repository)
        creds = await services.tenants.create(TenantCreate(name="Bench", origins=["http://x.test"]))
        server = ServerPrincipal(tenant=creds.tenant_id)
        policy = await services.policies.current(creds.tenant_id)
        for i in range(count):
            conv, _ = await services.conversations.open_conversation(
                server,
                ConversationCreate(
                    subject_type="order",
                    subject_id=f"o{i}",
                    title="Blue velvet armchair",
                    participants=[
                        ParticipantIn(user_id="b", role="buyer", display_name="B", email="b@x.t"),
                        ParticipantIn(
                            user_id=f"s{i}", role="seller", display_name="S", email=f"s{i}@x.t"
                        ),
                    ],
                ),
            )
            sent = await services.conversations.send(
                server, conv.id, client_msg_id="m1", text="Did it ship?", as_user="b"
            )
            doc = await services.conversations.check_access(server, conv.id)
            await pending.schedule(doc, sent.message, None, policy, clock.now())
        clock.advance(3600)
        notifier = build_notifier(services, settings)
        started = time.perf_counter()
        claims = await notifier.dispatch_due(limit=count)
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for claim in claims:
            queue.put_nowait(claim)

        async def worker() -> None:
            while not queue.empty():
                claim = queue.get_nowait()
                outcome = await notifier.deliver(claim.notification_id, claim.claim_id)
                assert outcome.status == "sent", outcome

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        rate = len(claims) / (time.perf_counter() - started)
        await services.stores.mongo.drop_database("bench_notifier")
        await services.close()
        return rate
    finally:
        stop_all(redis, store)


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notifier_emails")
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pipeline", type=int, default=0, help="conversations (0: skip)")
    args = parser.parse_args()
    handler = CountingSink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = NotifierSettings(
            environment="test", smtp_port=port, mail_from="Shop <notify@shop.test>"
        )
        composer = make_composer(settings, ManualClock())
        sender = SmtpSender(settings)
        rendered = await render_phase(composer, args.emails)
        print(f"render:        {rendered:8.0f} emails/s ({args.emails} emails)")
        sent = await smtp_phase(composer, sender, args.emails, args.concurrency)
        size = handler.bytes / max(1, handler.count)
        print(
            f"render+smtp:   {sent:8.0f} emails/s ({handler.count} received, "
            f"concurrency {args.concurrency}, {size:.0f} bytes each)"
        )
        if args.pipeline:
            piped = await pipeline_phase(settings, args.pipeline, args.concurrency)
            print(
                f"pipeline:      {piped:8.0f} emails/s ({args.pipeline} notifications, "
                f"claim -> gate -> render -> smtp -> mark)"
            )
    finally:
        controller.stop()


if __name__ == "__main__":
    asyncio.run(main())
