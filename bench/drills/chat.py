"""The chat fault drills: kill -9 a hub, restart Redis, restart the store, mid-traffic.

Each drill opens ``pairs`` order conversations (buyer on hub A, seller on hub
B), sends ``rate`` messages/s for ``seconds`` from one party of every pair in
turn, injects its fault at ``fault_at`` seconds, then waits (bounded) until
every send is acknowledged and delivered. It prints acknowledged vs stored vs
delivered and exits non-zero when the invariant fails (see ``verdict``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import uvloop

from bench.drills.clients import Fleet
from bench.drills.harness import DrillEnv, print_books, verdict

__all__ = ["CHAT_DRILLS", "ChatDrill", "chat_drill", "run_chat_drill"]


@dataclass
class ChatDrill:
    pairs: int = 100
    rate: float = 40.0
    seconds: float = 30.0
    fault_at: float = 8.0
    down: float = 5.0  # how long Redis or the store stays down
    settle: float = 90.0
    open_timeout: float = 300.0
    reconnect_timeout: float = 180.0
    store_sync: bool = True  # start the store with --sync-on-commit
    store_wait: float | None = None  # the hubs' CHAT_STORE_WAIT_SECONDS (product default: 5)


T = TypeVar("T")
Fault = Callable[[DrillEnv, Fleet, ChatDrill], Awaitable[dict[str, Any]]]


async def _spawner(env: DrillEnv, call: Callable[..., T], *args: Any) -> T:
    """Run a blocking fault step on the env's long-lived spawner thread."""
    return await asyncio.get_running_loop().run_in_executor(env.spawner, call, *args)


def _nearest_rank(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def _acks_after(fleet: Fleet, since: float, limit_s: float) -> list[float]:
    """Ack times after ``since``, once the first one came (or ``limit_s`` passed)."""
    for _ in range(int(limit_s / 0.05)):
        if fleet.ack_times and fleet.ack_times[-1] > since:
            break
        await asyncio.sleep(0.05)
    return [t for t in fleet.ack_times if t > since]


async def _kill_hub(env: DrillEnv, fleet: Fleet, drill: ChatDrill) -> dict[str, Any]:
    """kill -9 hub A; its clients fail over to hub B (their next URL) and resume."""
    victim = env.cluster.hubs[0]
    parties = [p for p in fleet.parties if p.urls[0] == victim.ws_url]
    killed_at = time.monotonic()
    await asyncio.to_thread(env.kill_hub, victim)
    deadline = killed_at + drill.reconnect_timeout
    while time.monotonic() < deadline:
        if all(p.subscribed_at > killed_at for p in parties):
            break
        await asyncio.sleep(0.05)
    times = [p.subscribed_at - killed_at for p in parties if p.subscribed_at > killed_at]
    full = len(times) == len(parties)
    return {
        "clients on the killed hub": len(parties),
        "reconnected and resumed": len(times),
        "time to 95% reconnected (s)": _nearest_rank(times, 0.95)
        if len(times) >= math.ceil(0.95 * len(parties))
        else None,
        "time to 100% reconnected (s)": max(times) if full else None,
        "_ok": full,
    }


async def _restart_redis(env: DrillEnv, fleet: Fleet, drill: ChatDrill) -> dict[str, Any]:
    """kill -9 Redis; start a fresh one (no data) on the same port after ``down`` s."""
    before = sum(p.connects for p in fleet.parties)
    figures = await _spawner(env, env.restart_redis, drill.down)
    back_at = time.monotonic()
    after = await _acks_after(fleet, back_at, 15.0)
    return {
        "redis down (s)": figures["down_s"],
        "first ack after Redis is back (s)": (after[0] - back_at) if after else None,
        "retryable errors until (s after back)": (fleet.last_retryable or back_at) - back_at,
        "reconnects caused": sum(p.connects for p in fleet.parties) - before,
        "_ok": True,
        "_back_at": back_at,
    }


async def _restart_store(env: DrillEnv, fleet: Fleet, drill: ChatDrill) -> dict[str, Any]:
    """kill -9 the store; start it again on its data directory after ``down`` s."""
    before = sum(p.connects for p in fleet.parties)
    killed_at = time.monotonic()
    await asyncio.to_thread(env.kill_store)
    await asyncio.sleep(drill.down)
    start_s = await _spawner(env, env.start_store_again)
    back_at = time.monotonic()
    after = await _acks_after(fleet, back_at, 15.0)
    hubs_alive = all(h.process.poll() is None for h in env.cluster.hubs)
    first_error = fleet.first_retryable - killed_at if fleet.first_retryable else None
    return {
        "store down (s)": back_at - killed_at,
        "store start on its data (s)": start_s,
        "first retryable error after the kill (s)": first_error,
        "send -> retryable error p50 / max (s)": (
            f"{_nearest_rank(fleet.error_latency, 0.5) or 0:.2f} / "
            f"{max(fleet.error_latency, default=0):.2f}"
        ),
        "first ack after the store is back (s)": (after[0] - back_at) if after else None,
        "reconnects caused": sum(p.connects for p in fleet.parties) - before,
        "hubs still running (no restart)": hubs_alive,
        "_ok": hubs_alive and bool(after),
    }


CHAT_DRILLS: dict[str, tuple[Fault, ChatDrill]] = {
    "hub-kill": (
        _kill_hub,
        ChatDrill(pairs=1000, rate=40, seconds=40, fault_at=10, reconnect_timeout=300),
    ),
    "redis-restart": (_restart_redis, ChatDrill(pairs=100, rate=40, seconds=30, down=3)),
    "store-restart": (_restart_store, ChatDrill(pairs=100, rate=30, seconds=40, down=10)),
}


async def _drive(env: DrillEnv, fault: Fault, drill: ChatDrill) -> dict[str, Any]:
    fleet = env.make_fleet()
    figures: dict[str, Any] = {}
    try:
        figures["open (s)"] = await fleet.open(drill.open_timeout)
        held = sum(p.connected.is_set() for p in fleet.parties)
        figures["clients connected"] = f"{held} / {len(fleet.parties)}"
        if held < len(fleet.parties):
            figures["_ok"] = False
            return figures
        traffic = asyncio.create_task(fleet.traffic(drill.rate, drill.seconds, "d"))
        await asyncio.sleep(drill.fault_at)
        figures.update(await fault(env, fleet, drill))
        await traffic
        started = time.monotonic()
        figures["settled"] = await fleet.settle(drill.settle)
        figures["settle wait (s)"] = time.monotonic() - started
        figures.update(fleet.books())
        return figures
    finally:
        await fleet.close()


def run_chat_drill(name: str, drill: ChatDrill | None = None, *, keep_logs: bool = False) -> int:
    """Run one chat drill end to end; 0 when the invariant holds."""
    return chat_drill(name, drill, keep_logs=keep_logs)[0]


def chat_drill(
    name: str, drill: ChatDrill | None = None, *, keep_logs: bool = False
) -> tuple[int, dict[str, Any]]:
    """Run one chat drill end to end: (exit code, printed figures)."""
    fault, default = CHAT_DRILLS[name]
    drill = drill or default
    hub_env = {} if drill.store_wait is None else {"CHAT_STORE_WAIT_SECONDS": str(drill.store_wait)}
    env = DrillEnv(name, pairs=drill.pairs, store_sync=drill.store_sync, hub_env=hub_env)
    env.keep_logs = keep_logs
    try:
        env.start()
        figures = uvloop.run(_drive(env, fault, drill))
        problems: list[str] = []
        if "acknowledged" in figures:
            figures.update(env.stored())
            problems = verdict(figures, figures)
        if not figures.pop("_ok", True):
            problems.append("the fault was not recovered from in time (see figures)")
        figures.pop("_back_at", None)
        figures["hub log errors"] = env.hub_log_errors()
        keys: tuple[str, ...] = ("acknowledged", "stored", "delivered_once")
        shown: dict[str, Any] = {k: figures[k] for k in keys if k in figures}
        print_books(name, {**shown, **figures})
        if problems:
            env.keep_logs = True
            print(f"FAIL {name}: " + "; ".join(problems))
            return 1, figures
        print(f"PASS {name}")
        return 0, figures
    finally:
        env.stop()
