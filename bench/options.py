"""The command line of ``python -m bench.load``."""

from __future__ import annotations

import argparse

__all__ = ["parser"]


def parser(description: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--connections", type=int, default=5000, help="sockets in total (even)")
    p.add_argument(
        "--idle-single-hub",
        action="store_true",
        help="all connections on ONE hub; only the idle phase runs",
    )
    p.add_argument("--rate", type=float, default=1000.0, help="target messages/s in total")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    p.add_argument("--senders", type=int, default=200, help="sockets that send (one per pair)")
    p.add_argument(
        "--hold",
        type=float,
        default=0.0,
        help="seconds to keep the idle connections open before the load phase, "
        "then count the ones still open (e.g. 300 with --idle-single-hub)",
    )
    p.add_argument(
        "--groups", type=int, default=4, help="group conversations (members on both hubs)"
    )
    p.add_argument("--group-size", type=int, default=50, help="participants per group (<= 50)")
    p.add_argument(
        "--group-share",
        type=float,
        default=0.02,
        help="share of the sends that go to the groups (each is delivered to every member)",
    )
    p.add_argument(
        "--typing", type=float, default=0.8, help="probability of a typing frame before a send"
    )
    p.add_argument(
        "--reads",
        type=float,
        default=0.8,
        help="probability of a read mark after a message from someone else "
        "(at most one per socket per second)",
    )
    p.add_argument(
        "--group-reads",
        type=float,
        default=0.1,
        help="the same in group conversations (few of 50 members have the group open)",
    )
    p.add_argument(
        "--stalled-readers",
        dest="stalled",
        type=int,
        default=0,
        help="group members (the last of the first N groups) that stop reading when the "
        "load starts: their unread frames pile up until the server disconnects them",
    )
    p.add_argument(
        "--peer",
        choices=["socketio"],
        default=None,
        help="then drive the python-socketio peer (bench/peers/) with the same workload",
    )
    p.add_argument("--encryption", choices=["on", "off"], default="on")
    p.add_argument("--workers", type=int, default=2, help="load-generator processes")
    p.add_argument("--text-chars", type=int, default=120, help="length of each message text")
    p.add_argument("--settle", type=float, default=30.0, help="max wait for stragglers (s)")
    p.add_argument("--ceiling-seconds", type=float, default=3.0)
    p.add_argument(
        "--ws-impl",
        default=None,
        help="uvicorn ws implementation for an experiment (default: the product's)",
    )
    p.add_argument(
        "--mongo-pool",
        type=int,
        default=None,
        help="experiment: maxPoolSize=N in the hubs' CHAT_MONGO_URL (PyMongo's default: 100)",
    )
    p.add_argument(
        "--profile-hubs",
        action="store_true",
        help="cProfile the hubs during the measured load phase",
    )
    p.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace hub allocations while opening the idle connections",
    )
    p.add_argument("--keep-logs", action="store_true", help="keep the run's log directory")
    return p
