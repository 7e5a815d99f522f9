"""Bench-only hub launcher: what ``chat-service serve`` does, with knobs for experiments.

Only used when the bench is asked for ``--ws-impl``, ``--profile-hubs`` or
``--tracemalloc``; the default run starts the hubs with ``chat-service serve``.

- ``--ws NAME``: another uvicorn WebSocket implementation than the product's.
- ``--profile PATH``: cProfile (CPU time), switched on and off by SIGUSR2 (the bench
  profiles only the load phase); the stats are written to PATH when it stops,
  and the store commands sent meanwhile, counted by name and collection, to
  ``PATH.commands.json``.
- ``--tracemalloc PATH``: trace allocations; each SIGUSR1 writes a snapshot to
  ``PATH.<n>`` (the bench takes one before and one after opening connections).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import signal
import time
import tracemalloc
from collections import Counter
from types import FrameType

import uvicorn
from pymongo import monitoring

from chat_service.cli.server import uvicorn_config
from chat_service.config import Settings
from chat_service.logs import configure_logging


class _CommandCounter(monitoring.CommandListener):
    """Store commands by ``name collection`` while ``on``."""

    def __init__(self) -> None:
        self.on = False
        self.counts: Counter[str] = Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on:
            target = event.command.get(event.command_name)
            where = target if isinstance(target, str) else ""
            self.counts[f"{event.command_name} {where}".strip()] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ws", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--tracemalloc", default=None)
    args = parser.parse_args()
    configure_logging()
    config = uvicorn_config(Settings())
    if args.ws:
        config.ws = args.ws
    if args.tracemalloc:
        tracemalloc.start(12)
        snapshots = [0]

        def snapshot(_signum: int, _frame: FrameType | None) -> None:
            snapshots[0] += 1
            tracemalloc.take_snapshot().dump(f"{args.tracemalloc}.{snapshots[0]}")

        signal.signal(signal.SIGUSR1, snapshot)
    # CPU time, not wall time: on a shared machine wall time mostly measures who got scheduled.
    profiler = cProfile.Profile(time.process_time)
    commands = _CommandCounter()
    if args.profile:
        monitoring.register(commands)

        def toggle(_signum: int, _frame: FrameType | None) -> None:
            if commands.on:
                profiler.disable()
                with open(f"{args.profile}.commands.json", "w") as out:
                    json.dump(dict(commands.counts.most_common()), out, indent=1)
                profiler.dump_stats(args.profile)
            else:
                profiler.enable()
            commands.on = not commands.on

        signal.signal(signal.SIGUSR2, toggle)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
