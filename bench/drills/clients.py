"""Chat clients that survive faults: reconnect with jittered backoff, resume, resend.

Each :class:`Party` is one participant of one order conversation with one
WebSocket. It does what ``docs/protocol.md`` asks of a client after any
disconnection: reconnect (exponential backoff with full jitter), authenticate,
``subscribe`` with ``after_seq`` = the highest ``seq`` seen in ``message``
frames, and resend every unacknowledged ``send`` with its original
``client_msg_id``. A ``send`` refused with a retryable code (``unavailable``,
``internal_error``) is resent after a backoff too.

The :class:`Fleet` drives traffic and keeps the books: what was acknowledged,
what each party received (gaps and repeats per socket), and how long the
reconnections took. Everything is bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from chat_service.auth.tokens import mint_user_token

__all__ = ["Fleet", "Party", "backoff_delay"]

RETRYABLE = frozenset({"unavailable", "internal_error"})
# Generous: under a reconnect storm on a loaded machine a hub takes long to answer,
# and a client that gives up early only adds another connection to the storm.
_STEP_TIMEOUT = 120.0


def backoff_delay(
    attempt: int, rng: random.Random, *, base: float = 0.5, cap: float = 30.0
) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0.0, min(cap, base * (2 ** min(attempt, 20))))


class Party:
    def __init__(
        self, fleet: Fleet, user_id: str, role: str, conv_id: str, urls: list[str]
    ) -> None:
        self.fleet = fleet
        self.user_id = user_id
        self.role = role
        self.conv_id = conv_id
        self.urls = urls  # urls[0] is home; retries rotate through the list
        self.ws: ClientConnection | None = None
        self.connected = asyncio.Event()
        self.last_seq = 0
        self.gaps = 0
        self.repeats = 0
        self.pending: dict[str, str] = {}  # client_msg_id -> text, until acknowledged
        self.connects = 0
        self.lost_at: float | None = None
        self.resumed_after: list[float] = []  # seconds from losing the socket to subscribed
        self.subscribed_at = 0.0  # monotonic time of the last successful subscribe
        self.sent_at: dict[str, float] = {}  # client_msg_id -> last time it went out
        self.task: asyncio.Task[None] | None = None

    # -- connection life ------------------------------------------------------------

    async def run(self) -> None:
        attempt = 0
        while not self.fleet.stopping:
            url = self.urls[attempt % len(self.urls)] if self.connects else self.urls[0]
            try:
                await self._session(url)
                attempt = 1  # the next try goes to the next hub in the list
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, RuntimeError) as exc:
                if self.connected.is_set():
                    attempt = 1  # lost after a resume: start over with short waits
                else:
                    self.fleet.connect_failures[type(exc).__name__] += 1
                    attempt += 1
            finally:
                self.connected.clear()
                self.ws = None
            if self.fleet.stopping:
                return
            if self.lost_at is None:
                self.lost_at = time.monotonic()
            await asyncio.sleep(backoff_delay(attempt, self.fleet.rng))

    async def _session(self, url: str) -> None:
        fleet = self.fleet
        async with asyncio.timeout(_STEP_TIMEOUT):
            ws = await connect(
                f"{url}?tenant={fleet.tenant_id}",
                origin=fleet.origin,  # type: ignore[arg-type]
                compression=None,
                proxy=None,
                open_timeout=_STEP_TIMEOUT,
                close_timeout=2,
                ping_interval=None,
                user_agent_header=None,
            )
        try:
            self.ws = ws
            async with asyncio.timeout(_STEP_TIMEOUT):
                await ws.send(_dumps({"type": "auth", "token": fleet.token(self)}))
                await self._until(ws, "ready")
                await ws.send(
                    _dumps(
                        {
                            "type": "subscribe",
                            "ref": "sub",
                            "conversation_id": self.conv_id,
                            "after_seq": self.last_seq,
                        }
                    )
                )
                await self._until(ws, "subscribed")
            self.connects += 1
            self.subscribed_at = time.monotonic()
            if self.lost_at is not None:
                self.resumed_after.append(time.monotonic() - self.lost_at)
                self.lost_at = None
            self.connected.set()
            for cmid, text in list(self.pending.items()):
                await self._send_frame(cmid, text)
            async for raw in ws:
                self._on_frame(raw)
        finally:
            ws.transport.abort()

    async def _until(self, ws: ClientConnection, wanted: str) -> None:
        for _ in range(1000):
            frame = orjson.loads(await ws.recv())
            if frame.get("type") == wanted:
                return
            if frame.get("type") == "error" and frame.get("ref") in (None, "sub"):
                raise RuntimeError(f"hub refused: {frame.get('code')}")
            self._handle(frame)
        raise RuntimeError(f"no {wanted}")

    # -- frames ---------------------------------------------------------------------

    def _on_frame(self, raw: str | bytes) -> None:
        self._handle(orjson.loads(raw))

    def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        fleet = self.fleet
        if kind == "message":
            message = frame["message"]
            seq = int(message["seq"])
            if seq <= self.last_seq:
                self.repeats += 1
                return
            if seq > self.last_seq + 1:
                self.gaps += seq - self.last_seq - 1
            self.last_seq = seq
            if message.get("sender_id") != self.user_id:
                fleet.delivered[(self.conv_id, seq)] += 1
        elif kind == "ack" and "client_msg_id" in frame:
            cmid = frame["client_msg_id"]
            if self.pending.pop(cmid, None) is None:
                return
            key = (self.conv_id, int(frame["seq"]))
            fleet.acked.add(key)
            fleet.ack_times.append(time.monotonic())
            if frame.get("duplicate"):
                fleet.duplicate_acks += 1
        elif kind == "error":
            code = str(frame.get("code"))
            fleet.errors[code] += 1
            ref = frame.get("ref")
            if code == "resync_failed":
                fleet.spawn(self._resubscribe())
            elif ref in self.pending and code in RETRYABLE:
                fleet.error_latency.append(time.monotonic() - self.sent_at.get(ref, 0.0))
                fleet.first_retryable = fleet.first_retryable or time.monotonic()
                fleet.last_retryable = time.monotonic()
                fleet.spawn(self._resend_later(ref))
            elif ref in self.pending:
                fleet.refused[code] += 1
                self.pending.pop(ref, None)

    async def _resubscribe(self) -> None:
        ws = self.ws
        if ws is not None:
            subscribe = {"type": "subscribe", "conversation_id": self.conv_id}
            with contextlib.suppress(ConnectionClosed):
                await ws.send(_dumps({**subscribe, "after_seq": self.last_seq}))

    async def _resend_later(self, cmid: str) -> None:
        await asyncio.sleep(backoff_delay(2, self.fleet.rng))
        if cmid in self.pending and self.connected.is_set():
            self.fleet.resends += 1
            await self._send_frame(cmid, self.pending[cmid])

    async def _send_frame(self, cmid: str, text: str) -> None:
        ws = self.ws
        if ws is None:
            return  # resent by the next session
        frame = {
            "type": "send",
            "ref": cmid,
            "conversation_id": self.conv_id,
            "client_msg_id": cmid,
            "text": text,
        }
        self.sent_at[cmid] = time.monotonic()
        with contextlib.suppress(ConnectionClosed):
            await ws.send(_dumps(frame))

    async def send(self, cmid: str, text: str) -> None:
        """Queue a message; it goes out now if connected, else after the next resume."""
        self.pending[cmid] = text
        self.fleet.sent += 1
        if self.connected.is_set():
            await self._send_frame(cmid, text)


class Fleet:
    """All parties of a drill and the books of what happened to their messages."""

    def __init__(
        self,
        *,
        tenant_id: str,
        signing_secret: str,
        audience: str,
        origin: str,
        seed: int = 8,
    ) -> None:
        self.tenant_id = tenant_id
        self._secret = signing_secret
        self._audience = audience
        self.origin = origin
        self.rng = random.Random(seed)
        self.parties: list[Party] = []
        self.senders: list[Party] = []
        self.stopping = False
        self.sent = 0
        self.resends = 0
        self.acked: set[tuple[str, int]] = set()
        self.duplicate_acks = 0
        self.delivered: Counter[tuple[str, int]] = Counter()  # to the other party
        self.errors: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.connect_failures: Counter[str] = Counter()
        self.first_retryable: float | None = None
        self.last_retryable: float | None = None
        self.ack_times: list[float] = []
        self.error_latency: list[float] = []  # send -> retryable error frame, seconds
        self._background: set[asyncio.Task[None]] = set()

    def spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """A background job, referenced until it ends (and cancelled by ``close``)."""
        task = asyncio.get_running_loop().create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def token(self, party: Party) -> str:
        return mint_user_token(
            tenant_id=self.tenant_id,
            signing_secret=self._secret,
            audience=self._audience,
            user_id=party.user_id,
            name=party.user_id,
            role=party.role,  # type: ignore[arg-type]
            lifetime=timedelta(hours=3),
        )

    def add_pair(self, conv_id: str, buyer: str, seller: str, urls: list[str], n: int) -> None:
        """The buyer's home is urls[0], the seller's urls[1]; even pairs send as buyer."""
        pair = [
            Party(self, buyer, "buyer", conv_id, urls),
            Party(self, seller, "seller", conv_id, urls[1:] + urls[:1]),
        ]
        self.parties += pair
        self.senders.append(pair[n % 2])

    async def open(self, limit_s: float, concurrency: int = 32) -> float:
        """Start every party; wait (bounded) until all are subscribed. Seconds taken."""
        started = time.monotonic()
        gate = asyncio.Semaphore(concurrency)

        async def first(party: Party) -> None:
            async with gate:
                party.task = asyncio.create_task(party.run())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(party.connected.wait(), _STEP_TIMEOUT)

        await asyncio.gather(*(first(p) for p in self.parties))
        await self.wait_connected(self.parties, max(1.0, limit_s - (time.monotonic() - started)))
        return time.monotonic() - started

    async def wait_connected(self, parties: list[Party], limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if all(p.connected.is_set() for p in parties):
                return True
            await asyncio.sleep(0.05)
        return False

    async def traffic(self, rate: float, seconds: float, tag: str) -> None:
        """Open loop: ``rate`` messages/s for ``seconds``, round-robin over the senders."""
        if not self.senders or rate <= 0:
            return
        total = int(rate * seconds)
        t0 = time.monotonic()
        for i in range(total):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            party = self.senders[i % len(self.senders)]
            await party.send(f"{tag}{i}", f"drill {tag} {i}")

    def settled(self) -> bool:
        if any(p.pending for p in self.parties):
            return False
        if any(self.delivered[key] < 1 for key in self.acked):
            return False
        tops: dict[str, int] = {}
        for conv, seq in self.acked:
            tops[conv] = max(tops.get(conv, 0), seq)
        return all(p.last_seq >= tops.get(p.conv_id, 0) for p in self.parties)

    async def settle(self, limit_s: float) -> bool:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if self.settled():
                return True
            await asyncio.sleep(0.1)
        return self.settled()

    async def close(self) -> None:
        self.stopping = True
        tasks = [p.task for p in self.parties if p.task is not None] + list(self._background)
        for party in self.parties:
            if party.ws is not None:
                party.ws.transport.abort()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def books(self) -> dict[str, Any]:
        """Acknowledged vs delivered, from the clients' side (stored comes from the store)."""
        once = sum(1 for key in self.acked if self.delivered[key] == 1)
        return {
            "sent": self.sent,
            "acknowledged": len(self.acked),
            "duplicate_acks": self.duplicate_acks,
            "unacknowledged": sum(len(p.pending) for p in self.parties),
            "delivered_once": once,
            "delivered_twice_or_more": sum(1 for n in self.delivered.values() if n > 1),
            "not_delivered": sum(1 for key in self.acked if self.delivered[key] == 0),
            "delivered_unacknowledged": sum(1 for key in self.delivered if key not in self.acked),
            "gaps": sum(p.gaps for p in self.parties),
            "repeats": sum(p.repeats for p in self.parties),
            "resends_after_error": self.resends,
            "errors": dict(self.errors),
            "refused": dict(self.refused),
            "connect_failures": dict(self.connect_failures),
        }


def _dumps(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()
