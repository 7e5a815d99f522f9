"""Inbound replies per second: parsed and stripped, and through the SMTP listener.

    python -m bench.notifier_inbound [--replies 1000] [--conversations 200] [--concurrency 8]

Phases:

* ``parse+strip``: raw RFC 822 (a Gmail-style reply with quoted history and
  a signature) -> headers, checks, reply text; no I/O;
* ``handle``: the same work as below, called directly one at a time (no SMTP);
* ``smtp->store``: on the embedded store and Redis, each reply sent over its
  own SMTP connection (as a relaying MTA does) to the listener in this
  process, which checks the token (HMAC, then the handle in the store), the
  sender (decrypting the stored address), the policy, strips the reply, and
  posts it (encrypted, stored with its seq, published on Redis).
  ``--concurrency`` connections at once; every reply is then counted in the
  store. The client runs on the same event loop and CPU as the listener.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import tempfile
import time
from pathlib import Path

import aiosmtplib

from chat_service.auth.principals import ServerPrincipal
from chat_service.config import Settings
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.embedded.servers import start_redis, start_store, stop_all
from chat_service.services import build_services
from chat_service.tenants.schemas import TenantCreate
from notifier.config import NotifierSettings
from notifier.inbound.checks import automatic_reason, sender_reason
from notifier.inbound.config import InboundSettings
from notifier.inbound.listener import InboundSmtpServer
from notifier.inbound.parse import ParseLimits, parse_inbound, strip_reply
from notifier.inbound.wiring import build_inbound, reply_addresses

QUOTE = (
    "\r\n\r\nBest,\r\nSam\r\n\r\n-- \r\nSam Seller | Walnut & Co.\r\n\r\n"
    "On Wed, Nov 25, 2026 at 2:00 PM Shop <notify@shop.test> wrote:\r\n"
    + "> Can you do 40 units at $12 with freight to Denver?\r\n"
    * 20
)


def reply_bytes(i: int, sender: str) -> bytes:
    return (
        f"From: Seller <{sender}>\r\nTo: reply@x\r\nSubject: Re: order\r\n"
        f"Message-ID: <bench-{i}@mail.test>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Yes, 40 units at $12 works (reply {i})." + QUOTE
    ).encode()


def parse_phase(count: int) -> float:
    limits = ParseLimits()
    started = time.perf_counter()
    for i in range(count):
        mail = parse_inbound(reply_bytes(i, "s@x.test"), limits)
        assert automatic_reason(mail, envelope_sender="s@x.test", own_addresses=[]) is None
        assert sender_reason(mail, "s@x.test") is None
        assert strip_reply(mail.text).startswith("Yes")
    return count / (time.perf_counter() - started)


async def smtp_phase(
    replies: int, conversations: int, concurrency: int, direct: int
) -> tuple[float, float, int]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-inbound-"))
    store = start_store(data_dir=workdir / "store", log_dir=workdir)
    redis = start_redis(data_dir=None, log_dir=workdir)
    try:
        core = Settings(
            environment="development",
            mongo_url=store.url,
            mongo_db="bench_inbound",
            redis_url=redis.url,
            keks=f"1:{base64.b64encode(os.urandom(32)).decode()}",  # type: ignore[arg-type]
        )
        inbound = InboundSettings(environment="development", reply_domain="reply.shop.test")
        services = await build_services(core)
        await services.ensure_indexes()
        addresses = reply_addresses(services, inbound)
        await addresses.ensure_indexes()
        creds = await services.tenants.create(TenantCreate(name="Bench", origins=["http://x.t"]))
        server = ServerPrincipal(tenant=creds.tenant_id)
        targets: list[tuple[str, str]] = []
        for i in range(conversations):
            conv, _ = await services.conversations.open_conversation(
                server,
                ConversationCreate(
                    subject_type="order",
                    subject_id=f"o{i}",
                    participants=[
                        ParticipantIn(user_id="b", role="buyer", display_name="B", email="b@x.t"),
                        ParticipantIn(
                            user_id=f"s{i}", role="seller", display_name="S", email=f"s{i}@x.t"
                        ),
                    ],
                ),
            )
            address = await addresses(creds.tenant_id, conv.id, f"s{i}")
            assert address is not None
            targets.append((address, f"s{i}@x.t"))
        handler = build_inbound(services, inbound, NotifierSettings(environment="development"))
        # Direct calls first (no SMTP), on other Message-IDs, to separate the costs.
        direct_started = time.perf_counter()
        for i in range(direct):
            to, sender = targets[i % len(targets)]
            outcome = await handler.handle(reply_bytes(-1 - i, sender), to)
            assert outcome.status == "posted", outcome
        direct_rate = direct / (time.perf_counter() - direct_started) if direct else 0.0
        listener = InboundSmtpServer(handler, max_bytes=inbound.inbound_max_bytes)
        await listener.start()
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(replies):
            queue.put_nowait(i)

        async def client() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                to, sender = targets[i % len(targets)]
                smtp = aiosmtplib.SMTP(
                    hostname="127.0.0.1", port=listener.port, timeout=30, local_hostname="bench"
                )
                await smtp.connect()
                await smtp.sendmail(sender, [to], reply_bytes(i, sender))
                await smtp.quit()

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        rate = replies / (time.perf_counter() - started)
        stored = await services.stores.db["messages"].count_documents({"tenant": creds.tenant_id})
        await listener.stop()
        await services.stores.mongo.drop_database("bench_inbound")
        await services.close()
        return direct_rate, rate, stored - direct
    finally:
        stop_all(redis, store)


async def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.notifier_inbound")
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--direct", type=int, default=200, help="handle() calls without SMTP")
    args = parser.parse_args()
    parsed = parse_phase(args.replies)
    print(f"parse+strip:   {parsed:8.0f} replies/s ({args.replies} replies, no I/O)")
    direct, rate, stored = await smtp_phase(
        args.replies, args.conversations, args.concurrency, args.direct
    )
    print(f"handle:        {direct:8.0f} replies/s ({args.direct} replies, one at a time, no SMTP)")
    print(
        f"smtp->store:   {rate:8.0f} replies/s ({stored}/{args.replies} stored, "
        f"{args.conversations} conversations, concurrency {args.concurrency})"
    )


if __name__ == "__main__":
    asyncio.run(main())
