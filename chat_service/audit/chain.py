"""The hash chain: canonical encoding of an entry, its hash, and the checker
that walks a chain. Pure; no I/O.

Canonical encoding (format ``v`` = 1) of one stored entry::

    every stored field except ``_id`` and ``hash`` - exactly
    v, tenant, seq, at, actor{type, id, role}, action, target_type, target_id,
    details, prev_hash - as JSON with keys sorted at every level, no spaces
    (separators "," and ":"), ASCII only (``\\uXXXX`` escapes), NaN refused,
    and ``at`` written as integer milliseconds since the Unix epoch, UTC.

    hash = sha256(canonical bytes), lowercase hex
    prev_hash of entry 1 = "0" * 64; of entry n = hash of entry n - 1

The exact field set is part of the check, so adding a field to a stored
entry, removing one or changing a type (1 to 1.0 or "1", true to 1) all
change what is hashed and show up as ``hash_mismatch``.

An outsider with write access to the store can still rewrite an entry and
recompute every hash after it, or cut the chain's tail; the chain detects
edits made without recomputing. Keeping a copy of each chain's head
(``ChainReport.last_seq`` and ``head_hash``) outside the store detects both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from chat_service.audit.schemas import BreakReason, BrokenLink, ChainReport

__all__ = [
    "CHAIN_VERSION",
    "ENTRY_FIELDS",
    "GENESIS_HASH",
    "ChainVerifier",
    "MalformedEntry",
    "canonical_bytes",
    "entry_hash",
    "from_millis",
    "seal_entry",
    "to_millis",
]

CHAIN_VERSION = 1
GENESIS_HASH = "0" * 64
ENTRY_FIELDS = frozenset(
    {
        "v",
        "tenant",
        "seq",
        "at",
        "actor",
        "action",
        "target_type",
        "target_id",
        "details",
        "prev_hash",
    }
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


class MalformedEntry(ValueError):
    """A stored entry that cannot be what this service wrote."""


def to_millis(moment: datetime) -> int:
    """Integer milliseconds since the epoch (naive times are taken as UTC,
    which is what a client without ``tz_aware`` returns)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    return _EPOCH + millis * _MILLISECOND


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """The bytes hashed for ``entry`` (its stored fields without ``_id``/``hash``)."""
    fields = set(entry)
    if fields != ENTRY_FIELDS:
        odd = sorted(fields ^ ENTRY_FIELDS)
        raise MalformedEntry(f"fields missing or unexpected: {', '.join(odd)}")
    at = entry["at"]
    if not isinstance(at, datetime):
        raise MalformedEntry("'at' is not a time")
    body = {**entry, "at": to_millis(at)}
    try:
        text = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise MalformedEntry(f"not encodable: {type(exc).__name__}") from None
    return text.encode("ascii")


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(entry)).hexdigest()


def seal_entry(
    *,
    tenant: str,
    seq: int,
    at: datetime,
    actor: Mapping[str, Any],
    action: str,
    target_type: str,
    target_id: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    """The document to store as entry ``seq``, ``hash`` included. ``at`` is
    cut to milliseconds, the precision the store keeps."""
    entry: dict[str, Any] = {
        "v": CHAIN_VERSION,
        "tenant": tenant,
        "seq": seq,
        "at": from_millis(to_millis(at)),
        "actor": dict(actor),
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": dict(details),
        "prev_hash": prev_hash,
    }
    entry["hash"] = entry_hash(entry)
    return entry


class ChainVerifier:
    """Feed one tenant's stored entries in ``seq`` order; stops at the first
    broken link. Holds only the last link, so a chain of any length fits."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.checked = 0
        self.last_seq = 0
        self.head_hash = GENESIS_HASH
        self.broken: BrokenLink | None = None

    def feed(self, doc: Mapping[str, Any]) -> bool:
        """Check the next entry; False once the chain is broken."""
        if self.broken is not None:
            return False
        expected = self.last_seq + 1
        seq = doc.get("seq")
        if type(seq) is not int or seq != expected:
            return self._break(
                expected, "seq_gap", f"entry {expected} is missing; the next stored is {seq!r}"
            )
        body = {k: v for k, v in doc.items() if k not in ("_id", "hash")}
        try:
            computed = entry_hash(body)
        except MalformedEntry as exc:
            return self._break(seq, "hash_mismatch", f"entry {seq} is malformed: {exc}")
        if computed != doc.get("hash"):
            return self._break(
                seq, "hash_mismatch", f"entry {seq} was changed after it was written"
            )
        if doc["prev_hash"] != self.head_hash:
            return self._break(
                seq,
                "prev_mismatch",
                f"entry {seq} does not follow entry {self.last_seq}: "
                "an entry before it was removed, replaced or reordered",
            )
        self.checked += 1
        self.last_seq = seq
        self.head_hash = str(doc["hash"])
        return True

    def _break(self, seq: int, reason: BreakReason, detail: str) -> bool:
        self.broken = BrokenLink(seq=seq, reason=reason, detail=detail)
        return False

    def report(self) -> ChainReport:
        return ChainReport(
            tenant=self.tenant,
            ok=self.broken is None,
            entries_checked=self.checked,
            last_seq=self.last_seq,
            head_hash=self.head_hash,
            broken=self.broken,
        )
