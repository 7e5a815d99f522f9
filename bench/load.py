"""Load benchmark of the chat hub: idle connections, then a send load across two hubs.

Run from the repository root with the venv active::

    python -m bench.load                    # 5,000 connections over two hubs, 1,000 msg/s, 20 s
    python -m bench.load --idle-single-hub  # 5,000 idle connections on ONE hub, no load phase
    python -m bench.load --encryption off   # the same without encryption at rest

It starts its own store and Redis, seeds a tenant with N/2 order conversations,
starts two ``chat-service serve`` processes, and drives them from worker
processes. Everything it starts is stopped at the end, also after an error.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from bench.cluster import ORIGIN, Cluster, Hub, cpu_seconds
from bench.loadgen import MAX_SOCKETS_PER_PROCESS, WorkerPlan, worker_main
from bench.options import parser
from bench.profiling import profile_summary, tracemalloc_summary, wait_for_file
from bench.report import combine_phase, machine, table, write_json
from bench.seed import seed, store_ceiling
from chat_service.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"


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


def _stop_workers(pipes: list[Pipe], procs: list[multiprocessing.process.BaseProcess]) -> None:
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


def _launcher(args: argparse.Namespace, name: str, run_dir: Path) -> list[str]:
    if not (args.ws_impl or args.profile_hubs or args.tracemalloc):
        return []  # plain `chat-service serve`
    argv = [sys.executable, "-m", "bench.hubrun"]
    if args.ws_impl:
        argv += ["--ws", args.ws_impl]
    if args.profile_hubs:
        argv += ["--profile", str(run_dir / f"{name}.prof")]
    if args.tracemalloc:
        argv += ["--tracemalloc", str(run_dir / f"{name}.trace")]
    return argv


def _measure_ceiling(url: str, args: argparse.Namespace, label: str) -> dict[str, Any]:
    ceiling = asyncio.run(store_ceiling(url, "bench_ceiling", seconds=args.ceiling_seconds))
    _note(
        f"{label}: {ceiling['insert_per_s']:,.0f} insert/s, "
        f"{ceiling['send_path_per_s']:,.0f} send-path msg/s"
    )
    return ceiling


def _note(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def _per(before: dict[str, int], after: dict[str, int], n: int) -> dict[str, float]:
    """Backend operations per unit of work (nonzero counters only)."""
    return {
        k: round((after[k] - before[k]) / n, 2)
        for k in after
        if n and after[k] != before.get(k, after[k]) and not k.endswith("_open")
    }


def _mib(n: int) -> float:
    return n / 2**20


def run(args: argparse.Namespace, cluster: Cluster, result: dict[str, Any]) -> None:
    pairs = args.connections // 2
    encryption = args.encryption == "on"
    _note("starting store and Redis")
    cluster.start_backends()
    assert cluster.store is not None
    assert cluster.redis is not None
    values = cluster.settings_values(encryption=encryption, send_rate=1_000_000)
    if args.mongo_pool:
        values["CHAT_MONGO_URL"] += f"&maxPoolSize={args.mongo_pool}"
    result["store_ceiling"] = _measure_ceiling(cluster.store.url, args, "store ceiling")

    settings = Settings(**{k.removeprefix("CHAT_").lower(): v for k, v in values.items()})
    _note(f"seeding a tenant and {pairs:,} order conversations")
    seeded = asyncio.run(seed(settings, pairs, origin=ORIGIN))
    result["seed_seconds"] = round(seeded.seconds, 1)

    names = ["hub-A"] if args.idle_single_hub else ["hub-A", "hub-B"]
    hubs: list[Hub] = [
        cluster.start_hub(n, values, _launcher(args, n, cluster.run_dir)) for n in names
    ]
    for hub in hubs:
        cluster.wait_ready(hub)
    _note(f"hubs ready on ports {', '.join(str(h.port) for h in hubs)}")

    workers = max(args.workers, -(-args.connections // MAX_SOCKETS_PER_PROCESS))
    buyer_hub, seller_hub = hubs[0], hubs[-1]
    context = multiprocessing.get_context("spawn")
    pipes: list[Pipe] = []
    procs: list[multiprocessing.process.BaseProcess] = []
    result["workers"] = workers
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
            )
            parent_end, child_end = context.Pipe()
            proc = context.Process(target=worker_main, args=(child_end, plan), daemon=True)
            proc.start()
            child_end.close()
            pipes.append(parent_end)
            procs.append(proc)
        _measure(args, cluster, hubs, pipes, procs, result)
    finally:
        _note("closing connections and stopping workers")
        _stop_workers(pipes, procs)


def _measure(
    args: argparse.Namespace,
    cluster: Cluster,
    hubs: list[Hub],
    pipes: list[Pipe],
    procs: list[multiprocessing.process.BaseProcess],
    result: dict[str, Any],
) -> None:
    time.sleep(2)
    before = {h.name: h.rss() for h in hubs}
    if args.tracemalloc:
        for hub in hubs:
            hub.signal(signal.SIGUSR1)
            wait_for_file(Path(f"{cluster.run_dir / hub.name}.trace.1"))
    _note(f"opening {args.connections:,} connections")
    ops_before = cluster.backend_ops()
    opened = _ask(pipes, ("open",), timeout=max(300.0, args.connections / 10))
    ops_after = cluster.backend_ops()
    connected = sum(r["connected"] for r in opened)
    seconds = max(r["seconds"] for r in opened)
    time.sleep(3)
    after = {h.name: h.rss() for h in hubs}
    per_hub = connected if len(hubs) == 1 else connected // 2
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
                "connections": per_hub,
                "rss_before_mib": _mib(before[h.name]),
                "rss_after_mib": _mib(after[h.name]),
                "kib_per_connection": (after[h.name] - before[h.name]) / 1024 / per_hub
                if per_hub
                else None,
            }
            for h in hubs
        ],
    }
    _note(
        f"{connected:,} connected in {seconds:.1f}s; RSS "
        + ", ".join(
            f"{h.name} {_mib(before[h.name]):.0f}->{_mib(after[h.name]):.0f} MiB" for h in hubs
        )
    )
    if args.tracemalloc:
        reports = []
        for hub in hubs:
            hub.signal(signal.SIGUSR1)
            second = Path(f"{cluster.run_dir / hub.name}.trace.2")
            if wait_for_file(second, timeout=120):
                first = Path(f"{cluster.run_dir / hub.name}.trace.1")
                reports.append(f"== {hub.name}\n" + tracemalloc_summary(first, second, per_hub))
        result["tracemalloc"] = "\n".join(reports)
    if args.idle_single_hub or args.duration <= 0:
        return
    _load(args, cluster, hubs, pipes, procs, result)


def _load(
    args: argparse.Namespace,
    cluster: Cluster,
    hubs: list[Hub],
    pipes: list[Pipe],
    procs: list[multiprocessing.process.BaseProcess],
    result: dict[str, Any],
) -> None:
    workers = len(pipes)
    senders_each = max(1, args.senders // workers)
    assert cluster.store is not None
    # The store slows down as it fills up: measure its ceiling again as the load meets it.
    result["store_ceiling_before_load"] = _measure_ceiling(
        cluster.store.url, args, "store ceiling now"
    )
    # Warm-up: every sender sends one message (first-use costs: data keys, seq cache).
    _note("warm-up: one message per sender")
    t0 = time.monotonic_ns() + 500_000_000
    warm = _ask(
        pipes, ("phase", "w", t0, 100.0, senders_each, args.settle, senders_each), timeout=120
    )
    result["warmup"] = {k: v for k, v in combine_phase(warm).items() if not k.endswith("_ms")}
    assert cluster.store is not None
    assert cluster.redis is not None
    watched = {h.name: h.pid for h in hubs}
    watched |= {"store": cluster.store.process.pid, "redis": cluster.redis.process.pid}
    watched |= {f"loadgen-{i}": p.pid for i, p in enumerate(procs) if p.pid is not None}
    count_each = int(args.rate * args.duration / workers)
    if args.profile_hubs:
        for hub in hubs:
            hub.signal(signal.SIGUSR2)
    _note(
        f"load: {args.rate:,.0f} msg/s for {args.duration:.0f}s from "
        f"{senders_each * workers} senders"
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
        f"{args.rate:,.0f} msg/s x {args.duration:.0f} s, {senders_each * workers} senders"
    )
    result["load"] = load
    if args.profile_hubs:
        profiles = []
        for hub in hubs:
            hub.signal(signal.SIGUSR2)
            path = cluster.run_dir / f"{hub.name}.prof"
            if wait_for_file(path):
                profiles.append(f"== {hub.name}\n{profile_summary(path)}")
        result["profile"] = "\n".join(profiles)


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__).parse_args(argv)
    if args.connections < 2 or args.connections % 2:
        sys.exit("--connections must be an even number >= 2")
    if args.rate <= 0 or args.duration > 600 or args.settle > 300:
        sys.exit("--rate must be > 0, --duration <= 600, --settle <= 300")
    run_dir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    cluster = Cluster(run_dir)
    command = " ".join(["python -m bench.load", *map(shlex.quote, sys.argv[1:])])
    result: dict[str, Any] = {"command": command, "args": vars(args), "machine": machine()}

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    failed = True
    try:
        run(args, cluster, result)
        failed = False
    finally:
        result["hub_log_levels"] = cluster.log_levels()
        cluster.stop()
        result["machine"]["loadavg_at_end"] = os.getloadavg()
        troubled = any(n["error"] for n in result["hub_log_levels"].values()) or (
            result.get("idle", {}).get("failed", 0) > 0
        )
        if args.keep_logs or failed or troubled:
            print(f"logs kept in {run_dir}", file=sys.stderr)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    path = write_json(result, RESULTS)
    for section in ("tracemalloc", "profile"):
        if result.get(section):
            print(result[section])
    print(table(result))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
