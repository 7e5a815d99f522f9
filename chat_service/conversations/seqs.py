"""What this process believes is the last ``seq`` of each conversation.

Only a guess that saves a store round trip per message: the unique index on
``(conv, seq)`` is the authority. Kept fresh by this process's own writes and
by the live events it receives from other processes, bounded in size.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

__all__ = ["SeqCache"]


class SeqCache:
    def __init__(self, messages: AsyncCollection[dict[str, Any]], *, size: int = 50_000) -> None:
        self._messages = messages
        self._last: OrderedDict[str, int] = OrderedDict()
        self._size = size

    async def last(self, conv: str) -> int:
        known = self._last.get(conv)
        if known is None:
            known = await self.refresh(conv)
        return known

    async def refresh(self, conv: str) -> int:
        """Read the true last seq from the store."""
        cursor = self._messages.find({"conv": conv}, {"seq": 1}).sort("seq", DESCENDING).limit(1)
        docs = await cursor.to_list(None)
        last = int(docs[0]["seq"]) if docs else 0
        self.observe(conv, last, force=True)
        return last

    def observe(self, conv: str, seq: int, *, force: bool = False) -> None:
        if force or seq > self._last.get(conv, -1):
            self._last[conv] = seq
        self._last.move_to_end(conv)
        while len(self._last) > self._size:
            self._last.popitem(last=False)
