"""A load-generator worker process: many client WebSockets on loopback, one uvloop.

A worker owns whole buyer/seller pairs: the buyer's socket goes to one hub and
the seller's to the other, so every delivery it counts crossed processes
through Redis, and it can match each ack with both deliveries of that message
(to the other participant, and the echo to the sender's own socket) locally.

The parent drives it through a pipe with three commands, each answered once:
``("open",)``, ``("phase", name, t0_ns, rate, count, settle_s, senders)`` and
``("close",)``.
Send times are ``time.monotonic_ns()`` (CLOCK_MONOTONIC, the same clock in every
process of the machine), written into the message text and read back by the
receiving socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection as Pipe
from typing import Any

import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.seed import buyer_id, seller_id
from chat_service.auth.tokens import mint_user_token

__all__ = ["MAX_SOCKETS_PER_PROCESS", "WorkerPlan", "worker_main"]

MAX_SOCKETS_PER_PROCESS = 19_000
_IDLE_COMMAND_TIMEOUT = 900.0
_SEND_TIMEOUT = 5.0


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


class Client:
    __slots__ = ("conv_id", "reader", "user_id", "ws")

    def __init__(self, ws: ClientConnection, user_id: str, conv_id: str) -> None:
        self.ws = ws
        self.user_id = user_id
        self.conv_id = conv_id
        self.reader: asyncio.Task[None] | None = None


class Phase:
    """What one send phase of this worker sent, had acknowledged and saw delivered."""

    def __init__(self) -> None:
        self.sent = 0
        self.send_errors = 0
        self.pending: dict[str, int] = {}  # client_msg_id -> send time (ns)
        self.acked: set[tuple[str, int]] = set()  # (conversation, seq) newly stored
        self.ack_duplicates = 0
        self.peer: set[tuple[str, int]] = set()  # delivered to the other participant
        self.echo: set[tuple[str, int]] = set()  # delivered to the sender's own socket
        self.repeats = 0
        self.ack_ms: list[float] = []
        self.peer_ms: list[float] = []
        self.first_send = 0
        self.last_send = 0
        self.last_ack = 0
        self.last_peer = 0

    def done(self) -> bool:
        return not self.pending and self.acked <= self.peer and self.acked <= self.echo

    def summary(self, *, finished: bool) -> dict[str, Any]:
        return {
            "finished": finished,
            "sent": self.sent,
            "send_errors": self.send_errors,
            "unanswered": len(self.pending),
            "acked": len(self.acked),
            "ack_duplicates": self.ack_duplicates,
            "expected": 2 * len(self.acked),
            "delivered_peer": len(self.acked & self.peer),
            "delivered_echo": len(self.acked & self.echo),
            "unexpected": len(self.peer - self.acked) + len(self.echo - self.acked),
            "repeats": self.repeats,
            "ack_ms": self.ack_ms,
            "peer_ms": self.peer_ms,
            "first_send": self.first_send,
            "last_send": self.last_send,
            "last_ack": self.last_ack,
            "last_peer": self.last_peer,
        }


class Worker:
    def __init__(self, plan: WorkerPlan) -> None:
        self.plan = plan
        self.clients: list[Client] = []
        self.senders: list[Client] = []
        self.phases: dict[str, Phase] = {}
        self.errors: Counter[str] = Counter()
        self.closing = False
        self.dropped = 0

    # -- connections --------------------------------------------------------------

    async def open_all(self) -> dict[str, Any]:
        started = time.monotonic()
        gate = asyncio.Semaphore(self.plan.connect_concurrency)
        jobs = []
        for pair, conv_id in self.plan.pairs:
            jobs.append(self._open(self.plan.buyer_url, buyer_id(pair), "buyer", conv_id, gate))
            jobs.append(self._open(self.plan.seller_url, seller_id(pair), "seller", conv_id, gate))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        failures: Counter[str] = Counter()
        for i, (pair, _) in enumerate(self.plan.pairs):
            buyer, seller = results[2 * i], results[2 * i + 1]
            for side in (buyer, seller):
                if isinstance(side, Client):
                    self.clients.append(side)
                else:
                    failures[_describe(side)] += 1
            if isinstance(buyer, Client) and isinstance(seller, Client):
                # Half the conversations are written by the buyer, half by the seller,
                # so both hubs store messages and both deliver across processes.
                self.senders.append(buyer if pair % 2 == 0 else seller)
        return {
            "connected": len(self.clients),
            "failed": sum(failures.values()),
            "failures": dict(failures),
            "seconds": time.monotonic() - started,
        }

    async def _open(
        self, url: str, user_id: str, role: str, conv_id: str, gate: asyncio.Semaphore
    ) -> Client:
        plan = self.plan
        token = mint_user_token(
            tenant_id=plan.tenant_id,
            signing_secret=plan.signing_secret,
            audience=plan.audience,
            user_id=user_id,
            name=user_id,
            role=role,  # type: ignore[arg-type]
            lifetime=timedelta(hours=3),
        )
        async with gate, asyncio.timeout(plan.step_timeout):
            ws = await connect(
                f"{url}?tenant={plan.tenant_id}",
                origin=plan.origin,  # type: ignore[arg-type]
                compression=None,
                proxy=None,
                ping_interval=None,  # the hub pings; the client answers
                ping_timeout=None,
                close_timeout=3,
                open_timeout=plan.step_timeout,
                user_agent_header=None,
            )
            try:
                await ws.send(_dumps({"type": "auth", "token": token}))
                await _expect(ws, "ready")
                await ws.send(
                    _dumps(
                        {
                            "type": "subscribe",
                            "ref": "sub",
                            "conversation_id": conv_id,
                            "after_seq": 0,
                        }
                    )
                )
                await _expect(ws, "subscribed")
            except BaseException:
                ws.transport.abort()
                raise
        client = Client(ws, user_id, conv_id)
        client.reader = asyncio.create_task(self._read(client))
        return client

    async def _read(self, client: Client) -> None:
        try:
            async for raw in client.ws:
                self._on_frame(client, raw)
        except ConnectionClosed:
            pass
        finally:
            if not self.closing:
                self.dropped += 1

    def _on_frame(self, client: Client, raw: str | bytes) -> None:
        now = time.monotonic_ns()
        frame = orjson.loads(raw)
        kind = frame.get("type")
        if kind == "message":
            message = frame["message"]
            parts = (message.get("text") or "").split(" ", 4)
            phase = self.phases.get(parts[1]) if len(parts) >= 4 and parts[0] == "bench" else None
            if phase is None:
                self.errors["foreign_message"] += 1
                return
            key = (frame["conversation_id"], int(message["seq"]))
            own = message["sender_id"] == client.user_id
            seen = phase.echo if own else phase.peer
            if key in seen:
                phase.repeats += 1
                return
            seen.add(key)
            if not own:
                phase.peer_ms.append((now - int(parts[3])) / 1e6)
                phase.last_peer = now
        elif kind == "ack":
            cmid = str(frame.get("client_msg_id") or "")
            phase = self.phases.get(cmid[:1])
            sent_at = phase.pending.pop(cmid, None) if phase is not None else None
            if phase is None or sent_at is None:
                self.errors["unknown_ack"] += 1
                return
            phase.ack_ms.append((now - sent_at) / 1e6)
            phase.last_ack = now
            if frame.get("duplicate"):
                phase.ack_duplicates += 1
            else:
                phase.acked.add((frame["conversation_id"], int(frame["seq"])))
        elif kind == "error":
            self.errors[f"error:{frame.get('code')}"] += 1
            ref = str(frame.get("ref") or "")
            phase = self.phases.get(ref[:1])
            if phase is not None and phase.pending.pop(ref, None) is not None:
                phase.send_errors += 1

    # -- sending ------------------------------------------------------------------

    async def run_phase(
        self, name: str, t0_ns: int, rate: float, count: int, settle: float, senders: int
    ) -> dict[str, Any]:
        """From t0, ``senders`` sockets send ``count`` messages in turn at ``rate``/s in total
        (open loop: on schedule, whether or not earlier ones were answered); then wait at
        most ``settle`` seconds for the last acks and deliveries."""
        phase = self.phases[name] = Phase()
        active = self.senders[: max(1, senders)]
        if not active or count <= 0:
            return phase.summary(finished=True)
        period_ns = 1e9 / rate
        hard_stop = t0_ns + int((count / rate) * 3e9) + 30_000_000_000
        await asyncio.sleep(max(0.0, (t0_ns - time.monotonic_ns()) / 1e9))
        filler = "x" * max(0, self.plan.text_chars - 48)
        i = 0
        while i < count and time.monotonic_ns() < hard_stop:
            due = min(count, int((time.monotonic_ns() - t0_ns) / period_ns) + 1)
            while i < due:
                client = active[i % len(active)]
                await self._send(client, phase, f"{name}{self.plan.index}x{i}", filler)
                i += 1
            delay = (t0_ns + i * period_ns - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
        for _ in range(int(settle / 0.05)):
            if phase.done():
                break
            await asyncio.sleep(0.05)
        return phase.summary(finished=phase.done())

    async def _send(self, client: Client, phase: Phase, cmid: str, filler: str) -> None:
        now = time.monotonic_ns()
        text = f"bench {cmid[:1]} {cmid} {now} {filler}"
        frame = {
            "type": "send",
            "ref": cmid,
            "conversation_id": client.conv_id,
            "client_msg_id": cmid,
            "text": text,
        }
        phase.pending[cmid] = now
        phase.sent += 1
        phase.first_send = phase.first_send or now
        phase.last_send = now
        try:
            async with asyncio.timeout(_SEND_TIMEOUT):
                await client.ws.send(_dumps(frame))
        except (TimeoutError, ConnectionClosed):
            phase.pending.pop(cmid, None)
            phase.send_errors += 1

    # -- shutdown -----------------------------------------------------------------

    async def close_all(self) -> None:
        self.closing = True
        if self.clients:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await asyncio.gather(
                        *(c.ws.close() for c in self.clients), return_exceptions=True
                    )
        for client in self.clients:
            client.ws.transport.abort()
            if client.reader is not None:
                client.reader.cancel()
        await asyncio.gather(
            *(c.reader for c in self.clients if c.reader is not None), return_exceptions=True
        )


def _dumps(frame: dict[str, Any]) -> str:
    return orjson.dumps(frame).decode()


async def _expect(ws: ClientConnection, wanted: str) -> dict[str, Any]:
    """Read frames until one of type ``wanted`` (presence and the like are skipped)."""
    for _ in range(100):
        frame: dict[str, Any] = orjson.loads(await ws.recv())
        if frame.get("type") == wanted:
            return frame
        if frame.get("type") == "error":
            raise RuntimeError(f"hub error {frame.get('code')}")
    raise RuntimeError(f"no {wanted} frame")


def _describe(exc: BaseException | Client) -> str:
    text = str(exc)[:80]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _recv(pipe: Pipe) -> tuple[Any, ...]:
    if not pipe.poll(_IDLE_COMMAND_TIMEOUT):
        return ("close",)
    try:
        command: tuple[Any, ...] = pipe.recv()
    except EOFError:
        return ("close",)
    return command


async def _serve(pipe: Pipe, plan: WorkerPlan) -> None:
    worker = Worker(plan)
    loop = asyncio.get_running_loop()
    try:
        while True:
            command = await loop.run_in_executor(None, _recv, pipe)
            if command[0] == "open":
                reply = await worker.open_all()
            elif command[0] == "phase":
                reply = await worker.run_phase(*command[1:])
            else:
                break
            reply["errors"] = dict(worker.errors)
            reply["dropped"] = worker.dropped
            pipe.send(reply)
    finally:
        await worker.close_all()
        with contextlib.suppress(OSError, ValueError):
            pipe.send({"closed": True})


def worker_main(pipe: Pipe, plan: WorkerPlan) -> None:
    """Entry point of the worker process (multiprocessing, spawn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    uvloop.run(_serve(pipe, plan))
