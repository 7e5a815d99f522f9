"""Load benchmark of the chat hub: idle connections, then a send load across two hubs.

Run from the repository root with the venv active::

    python -m bench.load                    # 5,000 connections over two hubs, 1,000 msg/s, 20 s
    python -m bench.load --idle-single-hub  # 5,000 idle connections on ONE hub, no load phase
    python -m bench.load --encryption off   # the same without encryption at rest
    python -m bench.load --peer socketio    # then the same workload against python-socketio

It starts its own store and Redis, seeds a tenant with N/2 order conversations
and a few large group conversations, starts two ``chat-service serve``
processes, and drives them from worker processes (sends, typing, read marks).
With ``--peer socketio`` it then stops all of that and drives two python-socketio
processes (bench/peers/) on a fresh store and Redis with the same workload.
Everything it starts is stopped at the end, also after an error or Ctrl-C.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cluster import ORIGIN, Cluster, Hub
from bench.drive import drive, measure_ceiling, note
from bench.options import parser
from bench.peers.side import seed_peer, start_peers
from bench.report import compare, machine, table, write_json
from bench.seed import seed
from chat_service.config import Settings

RESULTS = Path(__file__).resolve().parent / "results"


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


def run(
    args: argparse.Namespace, cluster: Cluster, peer_cluster: Cluster, result: dict[str, Any]
) -> None:
    pairs = args.connections // 2
    encryption = args.encryption == "on"
    note("starting store and Redis")
    cluster.start_backends()
    assert cluster.store is not None
    values = cluster.settings_values(encryption=encryption, send_rate=1_000_000)
    if args.mongo_pool:
        values["CHAT_MONGO_URL"] += f"&maxPoolSize={args.mongo_pool}"
    result["store_ceiling"] = measure_ceiling(cluster.store.url, args, "store ceiling")

    settings = Settings(**{k.removeprefix("CHAT_").lower(): v for k, v in values.items()})
    note(
        f"seeding a tenant, {pairs:,} order conversations and "
        f"{args.groups} groups of {args.group_size}"
    )
    seeded = asyncio.run(
        seed(settings, pairs, origin=ORIGIN, groups=args.groups, group_size=args.group_size)
    )
    result["seed_seconds"] = round(seeded.seconds, 1)

    names = ["hub-A"] if args.idle_single_hub else ["hub-A", "hub-B"]
    hubs: list[Hub] = [
        cluster.start_hub(n, values, _launcher(args, n, cluster.run_dir)) for n in names
    ]
    for hub in hubs:
        cluster.wait_ready(hub)
    note(f"hubs ready on ports {', '.join(str(h.port) for h in hubs)}")
    drive(args, cluster, hubs, seeded, "chat", result)
    if not args.peer:
        return
    # The peer's turn: the product's processes are stopped first, so both sides have
    # the machine to themselves and a store that holds only the seed.
    note("stopping the hubs, store and Redis; the peer's turn")
    result["hub_log_levels"] = cluster.log_levels()
    cluster.stop()
    peer: dict[str, Any] = {"name": "python-socketio (bench/peers/sioserver.py), 2 processes"}
    result["peer"] = peer
    peer_cluster.start_backends()
    assert peer_cluster.store is not None
    peer["store_ceiling"] = measure_ceiling(peer_cluster.store.url, args, "peer store ceiling")
    seed_peer(peer_cluster.store.url, seeded)
    peers = start_peers(peer_cluster, seeded)
    note(f"peer processes ready on ports {', '.join(str(h.port) for h in peers)}")
    drive(args, peer_cluster, peers, seeded, "socketio", peer)
    if "load" in result and "load" in peer:
        result["comparison"] = compare(result["load"], peer["load"])


def main(argv: list[str] | None = None) -> int:
    args = parser(__doc__).parse_args(argv)
    if args.connections < 2 or args.connections % 2:
        sys.exit("--connections must be an even number >= 2")
    if args.rate <= 0 or args.duration > 600 or args.settle > 300:
        sys.exit("--rate must be > 0, --duration <= 600, --settle <= 300")
    if args.peer and args.idle_single_hub:
        sys.exit("--peer needs two hubs: leave out --idle-single-hub")
    if not all(0 <= v <= 1 for v in (args.group_share, args.typing, args.reads, args.group_reads)):
        sys.exit("--group-share, --typing, --reads and --group-reads are shares from 0 to 1")
    if args.groups and not 2 <= args.group_size <= 50:
        sys.exit("--group-size must be 2..50 (the product's participant limit)")
    run_dir = Path(tempfile.mkdtemp(prefix="chat-bench-"))
    cluster = Cluster(run_dir)
    peer_cluster = Cluster(run_dir / "peer")
    command = " ".join(["python -m bench.load", *map(shlex.quote, sys.argv[1:])])
    result: dict[str, Any] = {"command": command, "args": vars(args), "machine": machine()}

    def interrupted(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    failed = True
    try:
        run(args, cluster, peer_cluster, result)
        failed = False
    finally:
        result.setdefault("hub_log_levels", cluster.log_levels())
        cluster.stop()
        if peer_cluster.hubs:
            result.setdefault("peer", {})["log_levels"] = peer_cluster.log_levels()
        peer_cluster.stop()
        result["machine"]["loadavg_at_end"] = os.getloadavg()
        levels = [*result["hub_log_levels"].values()]
        levels += result.get("peer", {}).get("log_levels", {}).values()
        troubled = any(n["error"] for n in levels) or any(
            side.get("idle", {}).get("failed", 0) > 0 for side in (result, result.get("peer", {}))
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
