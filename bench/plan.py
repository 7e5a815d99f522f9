"""What one load-generator process is told to do, and one socket it holds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection

__all__ = ["Client", "WorkerPlan"]


@dataclass(frozen=True)
class WorkerPlan:
    index: int
    tenant_id: str
    signing_secret: str
    audience: str
    origin: str
    pairs: list[tuple[int, str]]  # (pair number, conversation id)
    buyer_url: str
    seller_url: str
    text_chars: int = 120
    connect_concurrency: int = 64
    step_timeout: float = 30.0
    wire: str = "chat"  # "chat" (the product) or "socketio" (the peer)
    groups: list[tuple[str, list[str]]] = field(default_factory=list)  # (conv id, members)
    group_share: float = 0.0
    typing: float = 0.0
    reads: float = 0.0
    group_reads: float = 0.0
    read_gap_s: float = 1.0
    stalled: int = 0  # the last member of each of the first N groups stops reading at load


class Client:
    __slots__ = ("acks", "conv_id", "next_read", "reader", "stalled", "user_id", "ws")

    def __init__(self, ws: ClientConnection, user_id: str, conv_id: str, acks: list[int]) -> None:
        self.ws = ws
        self.user_id = user_id
        self.conv_id = conv_id
        self.acks = acks  # Socket.IO: the last ack id used on this socket
        self.next_read = 0
        self.reader: asyncio.Task[None] | None = None
        self.stalled = False
