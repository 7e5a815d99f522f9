"""A load-generator worker process: many client WebSockets on loopback, one uvloop.

A worker owns whole buyer/seller pairs (the buyer's socket goes to one hub, the
seller's to the other, so every 1:1 delivery crossed processes through Redis)
and whole group conversations (members alternate between the two hubs), so it
can match each ack with every delivery of that message locally (see
bench/phase.py). It speaks the product's protocol or Socket.IO
(bench/peers/sioclient.py): the same workload against either server.

Traffic mix: before a send, with probability ``typing``, a typing ``start`` frame
to the same conversation; after a message from someone else arrives, with
probability ``reads`` (``group_reads`` in a group), a read mark for its seq (at
most one per socket per ``read_gap_s``: widgets debounce read marks). A share ``group_share`` of the
sends goes to this worker's group conversations, each from the next member in
turn.

The parent drives it through a pipe (bench/worker_process.py). Send
times are ``time.monotonic_ns()`` (the same clock in every process of the
machine), written into the message text and read back by the receiving socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.peers.sioclient import Wire, wire_for
from bench.phase import Phase, letters_time, time_letters
from bench.plan import Client, WorkerPlan
from bench.seed import buyer_id, seller_id
from chat_service.auth.tokens import mint_user_token

__all__ = ["MAX_SOCKETS_PER_PROCESS", "Worker", "WorkerPlan"]

MAX_SOCKETS_PER_PROCESS = 19_000
_SEND_TIMEOUT = 5.0


class Worker:
    def __init__(self, plan: WorkerPlan) -> None:
        self.plan = plan
        self.wire: Wire = wire_for(plan.wire)
        # The same typing choices against either server; read choices follow arrivals.
        self.typing_rng = random.Random(plan.index)
        self.read_rng = random.Random(plan.index + 1000)
        self.clients: list[Client] = []
        self.senders: list[Client] = []
        self.group_members: list[list[Client]] = []
        self.expected_for: dict[str, int] = {}
        self.group_convs = {conv for conv, _ in plan.groups}
        self.phases: dict[str, Phase] = {}
        self.current: Phase | None = None
        self.errors: Counter[str] = Counter()
        self.closing = False
        self.dropped = 0

    async def open_all(self) -> dict[str, Any]:
        plan = self.plan
        started = time.monotonic()
        gate = asyncio.Semaphore(plan.connect_concurrency)
        jobs = []
        for pair, conv_id in plan.pairs:
            jobs.append(self._open(plan.buyer_url, buyer_id(pair), "buyer", conv_id, gate))
            jobs.append(self._open(plan.seller_url, seller_id(pair), "seller", conv_id, gate))
        for g, (conv_id, members) in enumerate(plan.groups):
            for m, user in enumerate(members):
                url = plan.buyer_url if m % 2 == 0 else plan.seller_url
                role = "buyer" if m == 0 else "seller"
                # The one that will stall gets a phone-sized receive buffer from the start.
                small = g < plan.stalled and m == len(members) - 1
                jobs.append(self._open(url, user, role, conv_id, gate, small_buffer=small))
        results = await asyncio.gather(*jobs, return_exceptions=True)
        failures: Counter[str] = Counter()
        for side in results:
            if isinstance(side, Client):
                self.clients.append(side)
            else:
                failures[_describe(side)] += 1
        for i, (pair, conv_id) in enumerate(plan.pairs):
            buyer, seller = results[2 * i], results[2 * i + 1]
            if isinstance(buyer, Client) and isinstance(seller, Client):
                # Half the conversations are written by the buyer, half by the seller,
                # so both hubs store messages and both deliver across processes.
                self.senders.append(buyer if pair % 2 == 0 else seller)
                self.expected_for[conv_id] = 2
        offset = 2 * len(plan.pairs)
        for conv_id, members in plan.groups:
            held = [c for c in results[offset : offset + len(members)] if isinstance(c, Client)]
            offset += len(members)
            if held:
                self.group_members.append(held)
                self.expected_for[conv_id] = len(held)
        return {
            "connected": len(self.clients),
            "failed": sum(failures.values()),
            "failures": dict(failures),
            "seconds": time.monotonic() - started,
        }

    def open_count(self) -> int:  # sockets whose reader still runs
        return sum(1 for c in self.clients if c.reader is not None and not c.reader.done())

    async def _open(
        self,
        url: str,
        user_id: str,
        role: str,
        conv_id: str,
        gate: asyncio.Semaphore,
        *,
        small_buffer: bool = False,
    ) -> Client:
        plan, wire = self.plan, self.wire
        token = mint_user_token(
            tenant_id=plan.tenant_id,
            signing_secret=plan.signing_secret,
            audience=plan.audience,
            user_id=user_id,
            name=user_id,
            role=role,  # type: ignore[arg-type]
            lifetime=timedelta(hours=3),
        )
        acks = [0]
        async with gate, asyncio.timeout(plan.step_timeout):
            sock = None
            if small_buffer:
                host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.setblocking(False)
                await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
            ws = await connect(
                wire.url(url, plan.tenant_id),
                sock=sock,
                origin=plan.origin,  # type: ignore[arg-type]
                compression=None,
                proxy=None,
                ping_interval=None,  # the server pings; the client answers
                ping_timeout=None,
                close_timeout=3,
                open_timeout=plan.step_timeout,
                user_agent_header=None,
            )
            try:
                if wire.greets:
                    await self._expect(ws, "open")
                await ws.send(wire.encode({"type": "auth", "token": token}, acks))
                await self._expect(ws, "ready")
                sub = {"type": "subscribe", "ref": "s", "conversation_id": conv_id, "after_seq": 0}
                await ws.send(wire.encode(sub, acks))
                await self._expect(ws, "subscribed")
            except BaseException:
                ws.transport.abort()
                raise
        client = Client(ws, user_id, conv_id, acks)
        client.reader = asyncio.create_task(self._read(client))
        return client

    async def _expect(self, ws: ClientConnection, wanted: str) -> dict[str, Any]:
        """Read frames until one of type ``wanted`` (presence and the like are skipped)."""
        for _ in range(200):
            frame, answer = self.wire.decode(await ws.recv())
            if answer is not None:
                await ws.send(answer)
            if frame is None:
                continue
            if frame.get("type") == wanted:
                return frame
            if frame.get("type") == "error":
                raise RuntimeError(f"server error {frame.get('code')}")
        raise RuntimeError(f"no {wanted} frame")

    async def _read(self, client: Client) -> None:
        try:
            async for raw in client.ws:
                if client.stalled:
                    continue  # what it buffered before stalling: not counted
                frame, answer = self.wire.decode(raw)
                if frame is not None:
                    reply = self._on_frame(client, frame)
                    if reply is not None:
                        answer = self.wire.encode(reply, client.acks)
                if answer is not None:
                    await client.ws.send(answer)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd else "no frame"
            if client.stalled:
                self.errors[f"stalled reader closed by server: {code}"] += 1
            elif not self.closing:
                self.errors[f"closed by server: {code}"] += 1
        except Exception as exc:  # a bug in the counting: count it, do not hide it
            self.errors[f"reader {_describe(exc)}"] += 1
        finally:
            self.dropped += not (self.closing or client.stalled)

    def _on_frame(self, client: Client, frame: dict[str, Any]) -> dict[str, Any] | None:
        """Count one incoming frame; returns a frame to send back (a read mark) or None."""
        now = time.monotonic_ns()
        kind = frame.get("type")
        if kind == "message":
            message = frame["message"]
            parts = (message.get("text") or "").split(" ", 4)
            phase = self.phases.get(parts[1]) if len(parts) >= 4 and parts[0] == "bench" else None
            if phase is None:
                self.errors["foreign_message"] += 1
                return None
            conv, seq = frame["conversation_id"], int(message["seq"])
            own = message["sender_id"] == client.user_id
            phase.delivered(conv, seq, client.user_id, own, letters_time(parts[3]), now)
            chance = self.plan.group_reads if conv in self.group_convs else self.plan.reads
            if own or now < client.next_read or self.read_rng.random() >= chance:
                return None
            client.next_read = now + int(self.plan.read_gap_s * 1e9)
            phase.reads_sent += 1
            return {"type": "read", "conversation_id": conv, "seq": seq}
        phase = self.current
        if kind == "ack":
            if "read_seq" in frame:
                if phase is not None:
                    phase.read_acks += 1
                return None
            cmid = str(frame.get("client_msg_id") or "")
            phase = self.phases.get(cmid[:1])
            sent_at = phase.pending.pop(cmid, None) if phase is not None else None
            if phase is None or sent_at is None:
                self.errors["unknown_ack"] += 1
                return None
            phase.ack_ms.append((now - sent_at) / 1e6)
            phase.last_ack = now
            if frame.get("duplicate"):
                phase.ack_duplicates += 1
            else:
                phase.acked.add((frame["conversation_id"], int(frame["seq"])))
        elif kind == "typing" and phase is not None:
            phase.typing_received += 1
        elif kind == "read" and phase is not None:
            phase.read_events += 1
        elif kind == "error":
            self.errors[f"error:{frame.get('code')}"] += 1
            ref = str(frame.get("ref") or frame.get("client_msg_id") or "")
            phase = self.phases.get(ref[:1])
            if phase is not None and phase.pending.pop(ref, None) is not None:
                phase.send_errors += 1
        elif kind == "closed":
            self.errors["closed_by_server"] += 1
        return None

    async def run_phase(
        self, name: str, t0_ns: int, rate: float, count: int, settle: float, senders: int
    ) -> dict[str, Any]:
        """From t0, send ``count`` messages at ``rate``/s in total (open loop: on schedule,
        whether or not earlier ones were answered): 1:1 ones round-robin over ``senders``
        pair sockets, a share ``group_share`` round-robin over the groups and their
        members; then wait at most ``settle`` seconds for the last acks and deliveries."""
        if name == "m":
            self._stall_readers()
        phase = self.phases[name] = self.current = Phase(self.expected_for, self.group_convs)
        active = self.senders[: max(1, senders)]
        groups = self.group_members
        share = self.plan.group_share if groups else 0.0
        if count < 0:  # warm-up: one message from every socket that will send
            count = len(active) + sum(len(g) for g in groups)
            share = sum(len(g) for g in groups) / count if count else 0.0
        if not (active or groups) or count <= 0:
            return phase.summary(finished=True)
        period_ns = 1e9 / rate
        hard_stop = t0_ns + int((count / rate) * 3e9) + 30_000_000_000
        await asyncio.sleep(max(0.0, (t0_ns - time.monotonic_ns()) / 1e9))
        filler = "x" * self.plan.text_chars
        i = pair_turn = group_turn = 0
        while i < count and time.monotonic_ns() < hard_stop:
            due = min(count, int((time.monotonic_ns() - t0_ns) / period_ns) + 1)
            while i < due:
                if int((i + 1) * share) > int(i * share) or not active:
                    members = groups[group_turn % len(groups)]
                    client = members[(group_turn // len(groups)) % len(members)]
                    group_turn += 1
                    phase.group_sent += 1
                else:
                    client = active[pair_turn % len(active)]
                    pair_turn += 1
                await self._send(client, phase, f"{name}{self.plan.index}x{i}", filler)
                i += 1
            delay = (t0_ns + i * period_ns - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
        for _ in range(int(settle / 0.05)):
            if phase.done():
                break
            await asyncio.sleep(0.05)
        if name == "m":
            await self._release_stalled()
        return phase.summary(finished=phase.done())

    def _stall_readers(self) -> None:
        """The last member of each of the first ``stalled`` groups stops reading
        (a frozen browser tab): the socket stays open, unread frames fill the
        kernel's buffers, then the server's send queue. It no longer sends and
        nothing is expected at it; the reader resumes at close to see how the
        server ended it."""
        for members in self.group_members[: self.plan.stalled]:
            if len(members) < 2:
                continue
            client = members.pop()
            client.stalled = True
            self.expected_for[client.conv_id] -= 1
            client.ws.transport.pause_reading()

    async def _send(self, client: Client, phase: Phase, cmid: str, filler: str) -> None:
        frames = []
        if self.typing_rng.random() < self.plan.typing:
            typing = {"type": "typing", "conversation_id": client.conv_id, "state": "start"}
            frames.append(self.wire.encode(typing, client.acks))
            phase.typing_sent += 1
        now = time.monotonic_ns()
        text = f"bench {cmid[:1]} {cmid} {time_letters(now)} "
        text += filler[: max(1, self.plan.text_chars - len(text))]
        frame = {
            "type": "send",
            "ref": cmid,
            "conversation_id": client.conv_id,
            "client_msg_id": cmid,
            "text": text,
        }
        frames.append(self.wire.encode(frame, client.acks))
        phase.pending[cmid] = now
        phase.sent += 1
        phase.first_send = phase.first_send or now
        phase.last_send = now
        try:
            async with asyncio.timeout(_SEND_TIMEOUT):
                for data in frames:
                    await client.ws.send(data)
        except (TimeoutError, ConnectionClosed):
            phase.pending.pop(cmid, None)
            phase.send_errors += 1

    async def _release_stalled(self) -> None:
        """Let the stalled readers read again and see how the server ended them."""
        stalled = [c.reader for c in self.clients if c.stalled and c.reader is not None]
        for client in self.clients:
            if client.stalled:
                client.ws.transport.resume_reading()
        if stalled:  # bounded; one the server did not close yet is counted as such
            await asyncio.wait(stalled, timeout=10)
            still_open = sum(1 for reader in stalled if not reader.done())
            if still_open:
                self.errors["stalled reader never disconnected by the server"] += still_open

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


def _describe(exc: BaseException | Client) -> str:
    text = str(exc)[:80]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
