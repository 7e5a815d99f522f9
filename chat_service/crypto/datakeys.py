"""Data keys: created on demand, wrapped by the primary KEK, cached unwrapped.

Documents in ``data_keys``::

    {_id: key id, tenant, scope, period, kek_version, wrapped: Binary, created_at}

``scope`` is ``user:<id>`` for what a person wrote or is (their e-mail), or
``system`` for service-authored text; ``period`` is the calendar month. Erasing
a person deletes their scope's keys; retention deletes keys of old periods.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bson import Binary
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from chat_service.crypto.envelope import associated_data, new_key, open_sealed, seal
from chat_service.errors import IntegrityError

__all__ = ["DataKeyRepository", "KeyDestroyed", "RewrapReport"]


class KeyDestroyed(IntegrityError):
    """The data key was shredded (retention or erasure): the data is gone for good."""

    code = "key_destroyed"


@dataclass(frozen=True)
class RewrapReport:
    examined: int
    rewrapped: int


def _wrap_aad(key_id: str, tenant: str, scope: str, period: str) -> bytes:
    return associated_data("data-key", key_id, tenant, scope, period)


class DataKeyRepository:
    def __init__(
        self,
        collection: AsyncCollection[dict[str, object]],
        keks: dict[int, bytes],
        primary_version: int,
        *,
        now: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        cache_size: int = 4096,
        cache_seconds: float = 60.0,
    ) -> None:
        if primary_version not in keks:
            raise ValueError("the primary key-encryption key is not configured")
        self._keys = collection
        self._keks = keks
        self._primary = primary_version
        self._now = now
        self._by_id: OrderedDict[str, bytes] = OrderedDict()
        self._by_scope: dict[tuple[str, str, str], str] = {}
        self._cache_size = cache_size
        # Keys destroyed by another process (erasure, retention) stop being
        # used here within this many seconds.
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._fetched_at: dict[str, float] = {}

    async def ensure_indexes(self) -> None:
        await self._keys.create_index(
            [("tenant", 1), ("scope", 1), ("period", 1)], unique=True, name="scope_period"
        )

    async def current_key(self, tenant: str, scope: str, period: str) -> tuple[str, bytes]:
        """The (id, key) to seal new data of this scope and period with."""
        key_id = self._by_scope.get((tenant, scope, period))
        if key_id is not None and key_id in self._by_id and self._fresh(key_id):
            return key_id, self._by_id[key_id]
        doc = await self._keys.find_one({"tenant": tenant, "scope": scope, "period": period})
        if doc is None:
            doc = await self._create(tenant, scope, period)
        key_id = str(doc["_id"])
        key = self._unwrap(doc)
        self._remember(key_id, key, (tenant, scope, period))
        return key_id, key

    async def key_by_id(self, tenant: str, key_id: str) -> bytes:
        cached = self._by_id.get(key_id)
        if cached is not None and self._fresh(key_id):
            self._by_id.move_to_end(key_id)
            return cached
        doc = await self._keys.find_one({"_id": key_id, "tenant": tenant})
        if doc is None:
            raise KeyDestroyed("the data key for this record was destroyed")
        key = self._unwrap(doc)
        self._remember(key_id, key, (tenant, str(doc["scope"]), str(doc["period"])))
        return key

    async def destroy_scope(self, tenant: str, scope: str) -> int:
        """Shred every key of a scope; returns how many were destroyed."""
        result = await self._keys.delete_many({"tenant": tenant, "scope": scope})
        self.forget_cache()
        return result.deleted_count

    def forget_cache(self) -> None:
        self._by_id.clear()
        self._by_scope.clear()
        self._fetched_at.clear()

    def _fresh(self, key_id: str) -> bool:
        fetched = self._fetched_at.get(key_id)
        return fetched is not None and self._monotonic() - fetched < self._cache_seconds

    async def rewrap_all(
        self, *, batch_size: int = 200, progress: Callable[[int, int], None] | None = None
    ) -> RewrapReport:
        """Re-wrap every data key under the primary KEK. Resumable: it only
        touches keys still wrapped by another version, and each update is a
        compare-and-set on the old version, so running it twice is harmless."""
        examined = rewrapped = 0
        total = await self._keys.count_documents({"kek_version": {"$ne": self._primary}})
        while True:
            batch = await self._keys.find({"kek_version": {"$ne": self._primary}}).to_list(
                batch_size
            )
            if not batch:
                break
            for doc in batch:
                examined += 1
                key = self._unwrap(doc)
                aad = _wrap_aad(
                    str(doc["_id"]), str(doc["tenant"]), str(doc["scope"]), str(doc["period"])
                )
                wrapped = seal(self._keks[self._primary], key, aad)
                result = await self._keys.update_one(
                    {"_id": doc["_id"], "kek_version": doc["kek_version"]},
                    {"$set": {"kek_version": self._primary, "wrapped": Binary(wrapped)}},
                )
                rewrapped += result.modified_count
                if progress is not None:
                    progress(examined, total)
        return RewrapReport(examined=examined, rewrapped=rewrapped)

    async def _create(self, tenant: str, scope: str, period: str) -> dict[str, object]:
        key_id = "dk_" + secrets.token_hex(12)
        aad = _wrap_aad(key_id, tenant, scope, period)
        doc: dict[str, object] = {
            "_id": key_id,
            "tenant": tenant,
            "scope": scope,
            "period": period,
            "kek_version": self._primary,
            "wrapped": Binary(seal(self._keks[self._primary], new_key(), aad)),
            "created_at": self._now(),
        }
        try:
            await self._keys.insert_one(doc)
        except DuplicateKeyError:
            # Another process created it first; use theirs.
            existing = await self._keys.find_one(
                {"tenant": tenant, "scope": scope, "period": period}
            )
            if existing is None:
                raise
            return existing
        return doc

    def _unwrap(self, doc: dict[str, object]) -> bytes:
        version = doc.get("kek_version")
        kek = self._keks.get(version) if isinstance(version, int) else None
        if kek is None:
            # Fail closed: never try other keys.
            raise IntegrityError(
                f"data key {doc.get('_id')} is wrapped by an unknown key-encryption key version"
            )
        wrapped = doc.get("wrapped")
        if not isinstance(wrapped, bytes):
            raise IntegrityError(f"data key {doc.get('_id')} is malformed")
        aad = _wrap_aad(str(doc["_id"]), str(doc["tenant"]), str(doc["scope"]), str(doc["period"]))
        return open_sealed(kek, bytes(wrapped), aad)

    def _remember(self, key_id: str, key: bytes, scope_key: tuple[str, str, str]) -> None:
        self._fetched_at[key_id] = self._monotonic()
        self._by_id[key_id] = key
        self._by_id.move_to_end(key_id)
        self._by_scope[scope_key] = key_id
        while len(self._by_id) > self._cache_size:
            old_id, _ = self._by_id.popitem(last=False)
            self._fetched_at.pop(old_id, None)
            self._by_scope = {k: v for k, v in self._by_scope.items() if v != old_id}
