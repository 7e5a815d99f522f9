"""``python -m bench.drills {hub-kill,redis-restart,store-restart,celery-kill,all}``.

Sizes and timings have defaults per drill (see ``bench.drills.chat``); the
options below override them. Exits non-zero when any drill's invariant fails.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from bench.drills.chat import CHAT_DRILLS, run_chat_drill
from bench.drills.email import KILL_POINTS, run_email_drill

NAMES = [*CHAT_DRILLS, "celery-kill"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drills", description=__doc__)
    parser.add_argument("name", choices=[*NAMES, "all"])
    parser.add_argument("--pairs", type=int, help="conversations (2 clients each)")
    parser.add_argument("--rate", type=float, help="messages per second, all senders together")
    parser.add_argument("--seconds", type=float, help="length of the traffic")
    parser.add_argument("--fault-at", type=float, help="seconds into the traffic")
    parser.add_argument("--down", type=float, help="seconds Redis or the store stays down")
    parser.add_argument("--settle", type=float, help="bounded wait for the last deliveries")
    parser.add_argument(
        "--no-store-sync",
        dest="store_sync",
        action="store_false",
        default=None,
        help="start the store without --sync-on-commit (shows what a crash loses)",
    )
    parser.add_argument(
        "--store-wait",
        type=float,
        help="the hubs' CHAT_STORE_WAIT_SECONDS: how long a send waits for a store that is down",
    )
    parser.add_argument(
        "--at",
        choices=KILL_POINTS,
        action="append",
        help="celery-kill: where to kill the worker (default: refused and data)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the run folder")
    args = parser.parse_args(argv)
    overrides = {
        k: v
        for k, v in vars(args).items()
        if k not in ("name", "keep_logs", "at") and v is not None
    }
    failed = []
    for name in NAMES if args.name == "all" else [args.name]:
        if name == "celery-kill":
            points = args.at or list(KILL_POINTS)
            code = max(run_email_drill(point) for point in points)
        else:
            default = CHAT_DRILLS[name][1]
            code = run_chat_drill(
                name, dataclasses.replace(default, **overrides), keep_logs=args.keep_logs
            )
        if code:
            failed.append(name)
    print("\nfailed: " + ", ".join(failed) if failed else "\nall drills passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
