"""Seeding the tenant and its order conversations, and the store's raw insert ceiling.

Seeding writes through the product's own service layer (``build_services``)
in the bench process, as the marketplace backend would through the API.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

from bson import Binary
from pymongo import ASCENDING, AsyncMongoClient

from chat_service.auth.principals import ServerPrincipal
from chat_service.config import Settings
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.services import build_services
from chat_service.tenants.schemas import TenantCreate

__all__ = ["Seeded", "buyer_id", "member_id", "seed", "seller_id", "store_ceiling"]


def member_id(group: int, member: int) -> str:
    """Member ``member`` of group conversation ``group`` (member 0 is the buyer)."""
    return f"group{group:02d}-m{member:02d}"


def buyer_id(pair: int) -> str:
    return f"buyer-{pair:06d}"


def seller_id(pair: int) -> str:
    return f"seller-{pair:06d}"


@dataclass(frozen=True)
class Seeded:
    tenant_id: str
    signing_secret: str
    audience: str
    conversation_ids: list[str]
    seconds: float
    group_ids: list[str] = field(default_factory=list)
    group_size: int = 0


async def seed(
    settings: Settings,
    pairs: int,
    *,
    origin: str,
    groups: int = 0,
    group_size: int = 0,
    concurrency: int = 32,
) -> Seeded:
    """One tenant, ``pairs`` order conversations, each with a buyer and a seller, and
    ``groups`` quote conversations of ``group_size`` participants (one buyer, the
    rest sellers: a request for quotes sent to many sellers)."""
    started = time.monotonic()
    services = await build_services(settings)
    try:
        await services.ensure_indexes()
        creds = await services.tenants.create(
            TenantCreate(name="Bench marketplace", origins=[origin])
        )
        server = ServerPrincipal(tenant=creds.tenant_id)
        gate = asyncio.Semaphore(concurrency)

        async def open_one(pair: int) -> str:
            request = ConversationCreate(
                subject_type="order",
                subject_id=f"B{pair:06d}",
                title=f"Order #B{pair:06d}",
                participants=[
                    ParticipantIn(
                        user_id=uid,
                        role=role,
                        display_name=uid,
                        email=f"{uid}@bench.test",
                    )
                    for uid, role in ((buyer_id(pair), "buyer"), (seller_id(pair), "seller"))
                ],
            )
            async with gate:
                conv, _ = await services.conversations.open_conversation(server, request)
            return conv.id

        async def open_group(group: int) -> str:
            request = ConversationCreate(
                subject_type="quote",
                subject_id=f"G{group:06d}",
                title=f"Request for quotes G{group:06d}",
                participants=[
                    ParticipantIn(
                        user_id=member_id(group, m),
                        role="buyer" if m == 0 else "seller",
                        display_name=member_id(group, m),
                        email=f"{member_id(group, m)}@bench.test",
                    )
                    for m in range(group_size)
                ],
            )
            async with gate:
                conv, _ = await services.conversations.open_conversation(server, request)
            return conv.id

        ids = await asyncio.wait_for(
            asyncio.gather(*(open_one(p) for p in range(pairs))),
            # ~10-40 conversations/s on the embedded store (each opens two users' keys)
            timeout=max(120, pairs / 4),
        )
        group_ids = await asyncio.wait_for(
            asyncio.gather(*(open_group(g) for g in range(groups))), timeout=120
        )
    finally:
        await services.close()
    return Seeded(
        tenant_id=creds.tenant_id,
        signing_secret=creds.signing_secret,
        audience=settings.jwt_audience,
        conversation_ids=list(ids),
        seconds=time.monotonic() - started,
        group_ids=list(group_ids),
        group_size=group_size,
    )


async def store_ceiling(
    url: str, db_name: str, *, seconds: float = 3.0, tasks: int = 4
) -> dict[str, Any]:
    """How fast the store takes writes from one client process, with the store otherwise idle.

    ``insert_per_s``: bare ``insert_one`` of a message-shaped document (same two
    unique indexes as ``messages``). ``send_path_per_s``: the three store round
    trips the hub makes per stored message (find the conversation, insert the
    message, ``$max`` the conversation's ``last_seq``), as messages per second.
    """
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    db = client[db_name]
    messages, convs = db["bench_ceiling_messages"], db["bench_ceiling_convs"]
    try:
        await messages.create_index([("conv", ASCENDING), ("seq", ASCENDING)], unique=True)
        await messages.create_index([("conv", ASCENDING), ("idem", ASCENDING)], unique=True)
        await convs.insert_many([{"_id": f"cc{t}", "last_seq": 0} for t in range(tasks * 2)])
        blob = Binary(os.urandom(96))

        def document(conv: str, seq: int) -> dict[str, Any]:
            return {
                "_id": f"m{conv}-{seq}",
                "tenant": "t_bench",
                "conv": conv,
                "seq": seq,
                "kind": "text",
                "sender": "buyer",
                "idem": f"buyer|{seq}",
                "client_msg_id": str(seq),
                "key_id": "k",
                "text": blob,
                "created_at": None,
            }

        async def bare(conv: str, deadline: float) -> int:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                await messages.insert_one(document(conv, n))
            return n

        async def send_path(conv: str, deadline: float) -> int:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                await convs.find_one({"_id": conv})
                await messages.insert_one(document(conv, n))
                await convs.update_one({"_id": conv}, {"$max": {"last_seq": n}})
            return n

        result: dict[str, Any] = {"tasks": tasks, "seconds": seconds}
        for name, body, offset in (("insert_per_s", bare, 0), ("send_path_per_s", send_path, 1)):
            start = time.monotonic()
            deadline = start + seconds
            counts = await asyncio.gather(
                *(body(f"cc{t * 2 + offset}", deadline) for t in range(tasks))
            )
            result[name] = sum(counts) / (time.monotonic() - start)
        return result
    finally:
        await db.drop_collection("bench_ceiling_messages")
        await db.drop_collection("bench_ceiling_convs")
        await client.close()
