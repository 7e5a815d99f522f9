"""The notification log: who was sent an away email, when, in which mode, and
how it ended. Reads the ``notifications`` collection (one document per
conversation and recipient, holding its latest outcome); never content or
e-mail addresses, only user and conversation ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

__all__ = ["NotificationLog", "NotificationRow"]


@dataclass(frozen=True)
class NotificationRow:
    conv: str
    subject: str
    user: str
    role: str
    mode: str | None
    outcome: str
    state: str
    last_sent_at: datetime | None
    updated_at: datetime | None


class NotificationLog:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._notes = db["notifications"]
        self._convs = db["conversations"]

    async def page(
        self, tenant: str, *, user: str | None, before: datetime | None, limit: int
    ) -> tuple[list[NotificationRow], datetime | None]:
        """Newest first; returns the rows and the cursor of the next page."""
        query: dict[str, Any] = {"tenant": tenant, "outcome": {"$exists": True}}
        if user:
            query["user"] = user
        if before is not None:
            query["updated_at"] = {"$lt": before}
        fields = {"conv": 1, "user": 1, "mode": 1, "outcome": 1, "state": 1}
        fields |= {"last_sent_at": 1, "updated_at": 1}
        cursor = self._notes.find(query, fields).sort("updated_at", DESCENDING).limit(limit + 1)
        docs = await cursor.to_list(None)
        more = len(docs) > limit
        docs = docs[:limit]
        convs = {
            c["_id"]: c
            async for c in self._convs.find(
                {"_id": {"$in": sorted({d["conv"] for d in docs})}, "tenant": tenant},
                {"subject_type": 1, "subject_id": 1, "participants": 1},
            )
        }
        rows = []
        for d in docs:
            conv = convs.get(d["conv"], {})
            roles = {p["user_id"]: p["role"] for p in conv.get("participants", [])}
            rows.append(
                NotificationRow(
                    conv=d["conv"],
                    subject=f"{conv.get('subject_type', '?')} #{conv.get('subject_id', '?')}",
                    user=d["user"],
                    role=roles.get(d["user"], "?"),
                    mode=d.get("mode"),
                    outcome=str(d.get("outcome")),
                    state=str(d.get("state")),
                    last_sent_at=d.get("last_sent_at"),
                    updated_at=d.get("updated_at"),
                )
            )
        return rows, (docs[-1].get("updated_at") if more and docs else None)
