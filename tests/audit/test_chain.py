"""The hash chain without a store: the canonical format and the checker."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from chat_service.audit.chain import (
    GENESIS_HASH,
    ChainVerifier,
    canonical_bytes,
    entry_hash,
    seal_entry,
)

AT = datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)


def _entry(seq: int, prev_hash: str, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "tenant": "t_1",
        "seq": seq,
        "at": AT,
        "actor": {"type": "staff", "id": "s1", "role": None},
        "action": "policy.changed",
        "target_type": "policy",
        "target_id": "t_1",
        "details": {"old_version": 3, "new_version": 4, "preset": "hipaa"},
        "prev_hash": prev_hash,
    }
    values.update(changes)
    return seal_entry(**values)


def _chain(length: int) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for seq in range(1, length + 1):
        docs.append(_entry(seq, docs[-1]["hash"] if docs else GENESIS_HASH))
    return docs


def test_canonical_encoding_is_sorted_compact_json_with_millisecond_times() -> None:
    entry = _entry(1, GENESIS_HASH)
    expected = (
        '{"action":"policy.changed","actor":{"id":"s1","role":null,"type":"staff"},'
        '"at":1767225600123,"details":{"new_version":4,"old_version":3,"preset":"hipaa"},'
        f'"prev_hash":"{"0" * 64}","seq":1,"target_id":"t_1","target_type":"policy",'
        '"tenant":"t_1","v":1}'
    ).encode()
    body = {k: v for k, v in entry.items() if k != "hash"}
    assert canonical_bytes(body) == expected
    assert entry["hash"] == hashlib.sha256(expected).hexdigest()
    # Stored at the store's precision, so what is read back hashes the same.
    assert entry["at"] == datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)
    naive = {**body, "at": entry["at"].replace(tzinfo=None)}
    assert entry_hash(naive) == entry["hash"]


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2},
        {"tenant": "t_2"},
        {"at": datetime(2026, 1, 1, 0, 0, 0, 124000, tzinfo=UTC)},
        {"actor": {"type": "staff", "id": "s2", "role": None}},
        {"actor": {"type": "staff", "id": "s1"}},
        {"action": "subject.erased"},
        {"target_type": "subject"},
        {"target_id": "t_2"},
        {"details": {"old_version": 3, "new_version": 5, "preset": "hipaa"}},
        {"details": {"old_version": 3, "new_version": 4.0, "preset": "hipaa"}},
        {"details": {"old_version": 3, "new_version": "4", "preset": "hipaa"}},
        {"details": {"old_version": 3, "new_version": 4}},
        {"prev_hash": "1" * 64},
        {"v": 2},
        {"note": "added"},
    ],
)
def test_any_change_to_a_stored_entry_changes_its_hash(change: dict[str, Any]) -> None:
    entry = _entry(1, GENESIS_HASH)
    changed = {**entry, **change}
    verifier = ChainVerifier("t_1")
    assert not verifier.feed(changed)
    assert verifier.broken is not None
    assert verifier.broken.seq == 1


def test_true_and_one_are_different_values() -> None:
    as_bool = _entry(1, GENESIS_HASH, details={"flag": True})
    as_int = _entry(1, GENESIS_HASH, details={"flag": 1})
    assert as_bool["hash"] != as_int["hash"]


def test_an_intact_chain_verifies() -> None:
    verifier = ChainVerifier("t_1")
    docs = _chain(5)
    assert all(verifier.feed(doc) for doc in docs)
    report = verifier.report()
    assert report.ok and report.broken is None
    assert (report.entries_checked, report.last_seq) == (5, 5)
    assert report.head_hash == docs[-1]["hash"]
    empty = ChainVerifier("t_1").report()
    assert empty.ok and empty.last_seq == 0 and empty.head_hash == GENESIS_HASH


def _first_break(docs: list[dict[str, Any]]) -> tuple[int, str, int]:
    verifier = ChainVerifier("t_1")
    for doc in docs:
        if not verifier.feed(doc):
            break
    report = verifier.report()
    assert not report.ok and report.broken is not None
    return report.broken.seq, report.broken.reason, report.entries_checked


def test_an_edited_entry_is_a_hash_mismatch() -> None:
    docs = _chain(5)
    docs[2]["details"] = {"old_version": 1, "new_version": 4, "preset": "hipaa"}
    assert _first_break(docs) == (3, "hash_mismatch", 2)


def test_a_removed_entry_is_a_seq_gap() -> None:
    docs = _chain(5)
    del docs[2]
    assert _first_break(docs) == (3, "seq_gap", 2)
    assert _first_break(_chain(3)[1:]) == (1, "seq_gap", 0)


def test_a_removed_entry_with_the_rest_renumbered_is_caught() -> None:
    docs = _chain(5)
    del docs[2]
    for doc in docs[2:]:
        doc["seq"] -= 1
    assert _first_break(docs) == (3, "hash_mismatch", 2)
    # Renumbered and rehashed: the entry no longer follows the one before it.
    for doc in docs[2:]:
        doc["hash"] = entry_hash({k: v for k, v in doc.items() if k != "hash"})
    assert _first_break(docs) == (3, "prev_mismatch", 2)


def test_a_forged_entry_with_a_consistent_hash_breaks_the_next_link() -> None:
    docs = _chain(5)
    docs[2] = _entry(3, docs[1]["hash"], target_id="t_other")
    assert _first_break(docs) == (4, "prev_mismatch", 3)


def test_reordered_entries_are_caught() -> None:
    docs = _chain(5)
    docs[1], docs[2] = docs[2], docs[1]
    assert _first_break(docs) == (2, "seq_gap", 1)


def test_a_malformed_entry_is_a_hash_mismatch() -> None:
    docs = _chain(3)
    docs[1]["at"] = "yesterday"
    assert _first_break(docs) == (2, "hash_mismatch", 1)
    docs = _chain(3)
    docs[1]["details"] = {"blob": object()}
    assert _first_break(docs) == (2, "hash_mismatch", 1)
