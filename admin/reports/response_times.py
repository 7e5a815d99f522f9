"""Per-seller response times: the median time from a buyer's message to the
seller's first reply, over a window.

:func:`response_times` is pure: it walks messages in (conversation, seq)
order; the first buyer message that has no seller reply yet starts a wait, the
next message of a seller of that conversation ends it and counts for that
seller. Later buyer messages in the same wait do not restart it (the buyer has
been waiting since the first). :class:`ResponseTimes` reads at most
``max_messages`` messages of the window (ids, senders and times only, never
text) and says when it stopped early.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["MessageRow", "ResponseReport", "ResponseTimes", "SellerFigures", "response_times"]

_CONV_BATCH = 500


@dataclass(frozen=True)
class MessageRow:
    conv: str
    seq: int
    sender: str
    at: datetime


@dataclass(frozen=True)
class SellerFigures:
    seller_id: str
    replies: int
    median_seconds: float
    slowest_seconds: float


@dataclass(frozen=True)
class ResponseReport:
    sellers: list[SellerFigures]
    messages_read: int
    truncated: bool


def response_times(
    rows: Iterable[MessageRow], roles: Mapping[str, Mapping[str, str]]
) -> list[SellerFigures]:
    """Figures per seller, slowest median first. ``roles`` is
    ``{conv: {user_id: role}}``; messages of unknown senders are ignored."""
    waits: dict[str, list[float]] = {}
    conv: str | None = None
    waiting_since: datetime | None = None
    for row in rows:
        if row.conv != conv:
            conv, waiting_since = row.conv, None
        role = roles.get(row.conv, {}).get(row.sender)
        if role == "buyer" and waiting_since is None:
            waiting_since = row.at
        elif role == "seller" and waiting_since is not None:
            seconds = max(0.0, (row.at - waiting_since).total_seconds())
            waits.setdefault(row.sender, []).append(seconds)
            waiting_since = None
    figures = [
        SellerFigures(
            seller_id=seller,
            replies=len(times),
            median_seconds=float(statistics.median(times)),
            slowest_seconds=max(times),
        )
        for seller, times in waits.items()
    ]
    return sorted(figures, key=lambda f: (-f.median_seconds, f.seller_id))


class ResponseTimes:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, max_messages: int) -> None:
        self._messages = db["messages"]
        self._convs = db["conversations"]
        self._max = max_messages

    async def report(self, tenant: str, since: datetime, until: datetime) -> ResponseReport:
        cursor = (
            self._messages.find(
                {"tenant": tenant, "kind": "text", "created_at": {"$gte": since, "$lte": until}},
                {"_id": 0, "conv": 1, "seq": 1, "sender": 1, "created_at": 1},
            )
            .sort([("conv", ASCENDING), ("seq", ASCENDING)])
            .limit(self._max + 1)
        )
        docs = await cursor.to_list(None)
        truncated = len(docs) > self._max
        rows = [
            MessageRow(conv=d["conv"], seq=d["seq"], sender=d["sender"], at=d["created_at"])
            for d in docs[: self._max]
        ]
        roles = await self._roles(tenant, sorted({r.conv for r in rows}))
        return ResponseReport(response_times(rows, roles), len(rows), truncated)

    async def _roles(self, tenant: str, conv_ids: list[str]) -> dict[str, dict[str, str]]:
        roles: dict[str, dict[str, str]] = {}
        for start in range(0, len(conv_ids), _CONV_BATCH):
            chunk = conv_ids[start : start + _CONV_BATCH]
            cursor = self._convs.find(
                {"_id": {"$in": chunk}, "tenant": tenant}, {"participants": 1}
            )
            async for doc in cursor:
                roles[doc["_id"]] = {p["user_id"]: p["role"] for p in doc["participants"]}
        return roles
