"""Driving one side of a run (the product's hubs, or the peer's processes) from the
load-generator workers: open the sockets, warm up, send the load, collect figures.

Both sides get the same workload: the same plans, only the URLs and the wire
format differ (see bench/loadgen.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import signal
import sys
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import psutil

from bench.cluster import ORIGIN, Cluster, Hub, cpu_seconds
from bench.loadgen import MAX_SOCKETS_PER_PROCESS, WorkerPlan
from bench.profiling import profile_summary, tracemalloc_summary, wait_for_file
from bench.report import combine_phase
from bench.seed import Seeded, member_id, store_ceiling
from bench.worker_process import worker_main

__all__ = ["drive", "measure_ceiling", "note"]

Procs = list[multiprocessing.process.BaseProcess]


def note(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def measure_ceiling(url: str, args: argparse.Namespace, label: str) -> dict[str, Any]:
    ceiling = asyncio.run(store_ceiling(url, "bench_ceiling", seconds=args.ceiling_seconds))
    note(
        f"{label}: {ceiling['insert_per_s']:,.0f} insert/s, "
        f"{ceiling['send_path_per_s']:,.0f} send-path msg/s"
    )
    return ceiling


def _ask(pipes: list[Pipe], command: tuple[Any, ...], timeout: float) -> list[dict[str, Any]]:
    for pipe in pipes:
        pipe.send(command)
    deadline = time.monotonic() + timeout
    replies = []
    for pipe in pipes:
        if not pipe.poll(max(0.0, deadline - time.monotonic())):
            raise RuntimeError(f"a load worker did not answer {command[0]!r} in {timeout:.0f}s")
        replies.append(pipe.recv())
    return replies


def _stop_workers(pipes: list[Pipe], procs: Procs) -> None:
    for pipe in pipes:
        with contextlib.suppress(OSError, ValueError):
            pipe.send(("close",))
    deadline = time.monotonic() + 40
    for pipe in pipes:
        with contextlib.suppress(OSError, EOFError, ValueError):
            if pipe.poll(max(0.0, deadline - time.monotonic())):
                pipe.recv()
    for proc in procs:
        proc.join(max(0.1, deadline - time.monotonic()))
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)


def _per(before: dict[str, int], after: dict[str, int], n: int) -> dict[str, float]:
    """Backend operations per unit of work (nonzero counters only)."""
    return {
        k: round((after[k] - before.get(k, 0)) / n, 2)
        for k in after
        if n and after[k] != before.get(k, 0) and not k.endswith("_open")
    }


def _mib(n: int) -> float:
    return n / 2**20


def drive(
    args: argparse.Namespace,
    cluster: Cluster,
    hubs: list[Hub],
    seeded: Seeded,
    wire: str,
    result: dict[str, Any],
) -> None:
    """Start the workers against ``hubs``, measure, and always stop the workers."""
    pairs = len(seeded.conversation_ids)
    sockets = 2 * pairs + len(seeded.group_ids) * seeded.group_size
    workers = max(args.workers, -(-sockets // MAX_SOCKETS_PER_PROCESS))
    buyer_hub, seller_hub = hubs[0], hubs[-1]
    context = multiprocessing.get_context("spawn")
    pipes: list[Pipe] = []
    procs: Procs = []
    result["workers"] = workers
    size = seeded.group_size
    try:
        for index in range(workers):
            plan = WorkerPlan(
                index=index,
                tenant_id=seeded.tenant_id,
                signing_secret=seeded.signing_secret,
                audience=seeded.audience,
                origin=ORIGIN,
                pairs=[(p, seeded.conversation_ids[p]) for p in range(index, pairs, workers)],
                buyer_url=buyer_hub.ws_url,
                seller_url=seller_hub.ws_url,
                text_chars=args.text_chars,
                wire=wire,
                groups=[
                    (seeded.group_ids[g], [member_id(g, m) for m in range(size)])
                    for g in range(index, len(seeded.group_ids), workers)
                ],
                group_share=args.group_share,
                typing=args.typing,
                reads=args.reads,
                group_reads=args.group_reads,
                stalled=sum(
                    1 for g in range(index, len(seeded.group_ids), workers) if g < args.stalled
                ),
            )
            parent_end, child_end = context.Pipe()
            proc = context.Process(target=worker_main, args=(child_end, plan), daemon=True)
            proc.start()
            child_end.close()
            pipes.append(parent_end)
            procs.append(proc)
        half = size // 2
        per_hub = [pairs + len(seeded.group_ids) * (size - half)]
        per_hub.append(pairs + len(seeded.group_ids) * half)
        if len(hubs) == 1:
            per_hub = [sockets]
        _idle(args, cluster, hubs, per_hub, pipes, result)
        if not (args.idle_single_hub or args.duration <= 0):
            _load(args, cluster, hubs, pipes, procs, result)
    finally:
        note("closing connections and stopping workers")
        _stop_workers(pipes, procs)


def _hold(seconds: float, hubs: list[Hub], pipes: list[Pipe], idle: dict[str, Any]) -> None:
    """Keep the idle sockets open ``seconds`` (server pings answered), then count them."""
    note(f"holding the idle connections for {seconds:.0f}s")
    started = time.monotonic()
    samples = []
    while (left := seconds - (time.monotonic() - started)) > 0:
        time.sleep(min(30.0, left))
        samples.append({h.name: _mib(h.rss()) for h in hubs})
    status = _ask(pipes, ("status",), timeout=120.0)
    still_open = sum(r["open"] for r in status)
    idle["hold"] = {
        "seconds": round(time.monotonic() - started, 1),
        "still_open": still_open,
        "dropped": idle["connected"] - still_open,
        "closed_by_server": {k: v for r in status for k, v in r["errors"].items()},
        "rss_mib_every_30s": samples,
    }
    note(f"after {seconds:.0f}s: {still_open:,} of {idle['connected']:,} still open")


def _idle(
    args: argparse.Namespace,
    cluster: Cluster,
    hubs: list[Hub],
    per_hub: list[int],
    pipes: list[Pipe],
    result: dict[str, Any],
) -> None:
    time.sleep(2)
    before = {h.name: h.rss() for h in hubs}
    if args.tracemalloc:
        for hub in hubs:
            hub.signal(signal.SIGUSR1)
            wait_for_file(Path(f"{cluster.run_dir / hub.name}.trace.1"))
    note(f"opening {sum(per_hub):,} connections")
    ops_before = cluster.backend_ops()
    opened = _ask(pipes, ("open",), timeout=max(300.0, sum(per_hub) / 10))
    ops_after = cluster.backend_ops()
    connected = sum(r["connected"] for r in opened)
    seconds = max(r["seconds"] for r in opened)
    time.sleep(3)
    after = {h.name: h.rss() for h in hubs}
    failures: dict[str, int] = {}
    for reply in opened:
        for key, n in reply["failures"].items():
            failures[key] = failures.get(key, 0) + n
    result["idle"] = {
        "connected": connected,
        "failed": sum(r["failed"] for r in opened),
        "failures": failures,
        "seconds": round(seconds, 2),
        "per_s": connected / seconds if seconds else 0.0,
        "backend_ops_per_connection": _per(ops_before, ops_after, connected),
        "store_connections_open": ops_after.get("store_connections_open"),
        "hubs": [
            {
                "name": h.name,
                "connections": n,
                "rss_before_mib": _mib(before[h.name]),
                "rss_after_mib": _mib(after[h.name]),
                "kib_per_connection": (after[h.name] - before[h.name]) / 1024 / n if n else None,
            }
            for h, n in zip(hubs, per_hub, strict=True)
        ],
    }
    if args.hold > 0:
        _hold(args.hold, hubs, pipes, result["idle"])
    note(
        f"{connected:,} connected in {seconds:.1f}s; RSS "
        + ", ".join(
            f"{h.name} {_mib(before[h.name]):.0f}->{_mib(after[h.name]):.0f} MiB" for h in hubs
        )
    )
    if args.tracemalloc:
        reports = []
        for hub, n in zip(hubs, per_hub, strict=True):
            hub.signal(signal.SIGUSR1)
            second = Path(f"{cluster.run_dir / hub.name}.trace.2")
            if wait_for_file(second, timeout=120):
                first = Path(f"{cluster.run_dir / hub.name}.trace.1")
                reports.append(f"== {hub.name}\n" + tracemalloc_summary(first, second, n))
        result["tracemalloc"] = "\n".join(reports)


def _load(
    args: argparse.Namespace,
    cluster: Cluster,
    hubs: list[Hub],
    pipes: list[Pipe],
    procs: Procs,
    result: dict[str, Any],
) -> None:
    workers = len(pipes)
    senders_each = max(1, args.senders // workers)
    assert cluster.store is not None
    assert cluster.redis is not None
    # The store slows down as it fills up: measure its ceiling again as the load meets it.
    result["store_ceiling_before_load"] = measure_ceiling(
        cluster.store.url, args, "store ceiling now"
    )
    # Warm-up: every sending socket sends one message (first-use costs: data keys, seq cache).
    note("warm-up: one message per sending socket")
    t0 = time.monotonic_ns() + 500_000_000
    warm = _ask(
        pipes,
        ("phase", "w", t0, 100.0, -1, args.settle, senders_each),
        timeout=args.settle + 120 + (senders_each + args.groups * args.group_size) / 50,
    )
    result["warmup"] = {k: v for k, v in combine_phase(warm).items() if not k.endswith("_ms")}
    watched = {h.name: h.pid for h in hubs}
    watched |= {"store": cluster.store.process.pid, "redis": cluster.redis.process.pid}
    watched |= {f"loadgen-{i}": p.pid for i, p in enumerate(procs) if p.pid is not None}
    count_each = int(args.rate * args.duration / workers)
    if args.profile_hubs:
        for hub in hubs:
            hub.signal(signal.SIGUSR2)
    note(
        f"load: {args.rate:,.0f} msg/s for {args.duration:.0f}s from "
        f"{senders_each * workers} pair senders"
        + (f" and {args.groups} groups" if args.groups else "")
    )
    ops_before = cluster.backend_ops()
    cpu_before = {n: cpu_seconds(pid) for n, pid in watched.items()}
    system_before = psutil.cpu_times()
    wall = time.monotonic()
    t0 = time.monotonic_ns() + 1_000_000_000
    replies = _ask(
        pipes,
        ("phase", "m", t0, args.rate / workers, count_each, args.settle, senders_each),
        timeout=args.duration * 3 + args.settle + 90,
    )
    wall = time.monotonic() - wall - 1.0
    system_after = psutil.cpu_times()
    ops_after = cluster.backend_ops()
    used = {n: cpu_seconds(pid) - cpu_before[n] for n, pid in watched.items()}
    cpu = {n: seconds / wall * 100 for n, seconds in used.items()}
    busy = (sum(system_after) - system_after.idle - system_after.iowait) - (
        sum(system_before) - system_before.idle - system_before.iowait
    )
    cpu["everything else on the machine"] = max(0.0, busy / wall * 100 - sum(cpu.values()))
    result["cpu_during_load"] = cpu
    result["hub_rss_after_load_mib"] = {h.name: _mib(h.rss()) for h in hubs}
    load = combine_phase([{**r, "dropped": r.get("dropped", 0)} for r in replies])
    load["backend_ops_per_message"] = _per(ops_before, ops_after, load["acked"])
    load["backend_ops_delta"] = {k: ops_after[k] - ops_before.get(k, 0) for k in ops_after}
    load["store_connections_open"] = ops_after.get("store_connections_open")
    load["cpu_ms_per_stored_message"] = {
        n: round(seconds * 1000 / load["acked"], 2) if load["acked"] else None
        for n, seconds in used.items()
    }
    load["target"] = (
        f"{args.rate:,.0f} msg/s x {args.duration:.0f} s, {senders_each * workers} pair senders"
        + (
            f", {args.groups} groups of {args.group_size} ({args.group_share:.0%} of sends)"
            if args.groups
            else ""
        )
        + f", typing {args.typing:.0%}, reads {args.reads:.0%} (groups {args.group_reads:.0%})"
    )
    result["load"] = load
    if args.profile_hubs:
        profiles = []
        for hub in hubs:
            hub.signal(signal.SIGUSR2)
            path = cluster.run_dir / f"{hub.name}.prof"
            if wait_for_file(path):
                profiles.append(f"== {hub.name}\n{profile_summary(path)}")
                commands = json.loads(Path(f"{path}.commands.json").read_text())
                result.setdefault("store_commands_during_load", {})[hub.name] = commands
                per = ", ".join(
                    f"{name} {n / max(1, load['acked']):.2f}" for name, n in commands.items()
                )
                profiles.append(f"== {hub.name} store commands per stored message: {per}")
        result["profile"] = "\n".join(profiles)
