"""What one send phase of a load-generator worker sent, had stored and saw delivered.

A message is *expected* at every socket of its conversation that this worker
holds (they are all subscribed): for a 1:1 pair the other participant and the
echo to the sender's own socket, for a group every member, the sender included.
Deliveries are counted once per (conversation, seq, user); a second one is a
repeat. A message is *complete* when every expected socket has it.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["Phase", "letters_time", "time_letters"]

Key = tuple[str, int]


class Phase:
    def __init__(self, expected_for: dict[str, int], groups: set[str]) -> None:
        self.expected_for = expected_for  # conversation -> sockets that must get each message
        self.groups = groups  # conversation ids of the group conversations
        self.sent = 0
        self.group_sent = 0
        self.send_errors = 0
        self.pending: dict[str, int] = {}  # client_msg_id -> send time (ns)
        self.acked: set[Key] = set()  # (conversation, seq) newly stored
        self.ack_duplicates = 0
        self.seen: set[tuple[str, int, str]] = set()  # (conversation, seq, receiving user)
        self.count: Counter[Key] = Counter()
        self.complete_at: dict[Key, int] = {}
        self.peer: set[Key] = set()  # 1:1 messages delivered to the other participant
        self.repeats = 0
        self.ack_ms: list[float] = []
        self.peer_ms: list[float] = []  # 1:1, to the other participant (always the other hub)
        self.group_ms: list[float] = []  # groups, to every member but the sender
        self.first_send = 0
        self.last_send = 0
        self.last_ack = 0
        self.last_peer = 0
        self.typing_sent = 0
        self.typing_received = 0
        self.reads_sent = 0
        self.read_acks = 0
        self.read_events = 0

    def delivered(self, conv: str, seq: int, user: str, own: bool, sent_ns: int, now: int) -> None:
        mark = (conv, seq, user)
        if mark in self.seen:
            self.repeats += 1
            return
        self.seen.add(mark)
        key = (conv, seq)
        self.count[key] += 1
        if self.count[key] == self.expected_for.get(conv, 0):
            self.complete_at[key] = now
        if own:
            return
        if conv in self.groups:
            self.group_ms.append((now - sent_ns) / 1e6)
        else:
            self.peer.add(key)
            self.peer_ms.append((now - sent_ns) / 1e6)
            self.last_peer = now

    def done(self) -> bool:
        return not self.pending and not (self.acked - self.complete_at.keys())

    def summary(self, *, finished: bool) -> dict[str, Any]:
        expected_for = self.expected_for
        acked = self.acked
        completed = [self.complete_at[k] for k in acked if k in self.complete_at]
        group_acked = sum(1 for conv, _ in acked if conv in self.groups)
        return {
            "finished": finished,
            "sent": self.sent,
            "group_sent": self.group_sent,
            "send_errors": self.send_errors,
            "unanswered": len(self.pending),
            "acked": len(acked),
            "group_acked": group_acked,
            "ack_duplicates": self.ack_duplicates,
            "expected": sum(expected_for.get(conv, 0) for conv, _ in acked),
            "delivered": sum(
                min(self.count[k], expected_for.get(k[0], 0)) for k in acked if k in self.count
            ),
            "delivered_peer": len(acked & self.peer),
            "complete": len(completed),
            "unexpected": sum(n for k, n in self.count.items() if k not in acked),
            "repeats": self.repeats,
            "typing_sent": self.typing_sent,
            "typing_received": self.typing_received,
            "reads_sent": self.reads_sent,
            "read_acks": self.read_acks,
            "read_events": self.read_events,
            "ack_ms": self.ack_ms,
            "peer_ms": self.peer_ms,
            "group_ms": self.group_ms,
            "first_send": self.first_send,
            "last_send": self.last_send,
            "last_ack": self.last_ack,
            "last_peer": self.last_peer,
            "last_complete": max(completed, default=0),
        }


def time_letters(n: int) -> str:
    """``n`` in base 26 with the letters a-z: the product masks long digit runs in texts
    as phone numbers, so send times travel as letters."""
    out = ""
    while n:
        n, digit = divmod(n, 26)
        out = chr(97 + digit) + out
    return out or "a"


def letters_time(text: str) -> int:
    n = 0
    for char in text:
        n = n * 26 + ord(char) - 97
    return n
