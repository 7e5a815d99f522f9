"""The load-generator worker process: a :class:`bench.loadgen.Worker` driven through a pipe.

The parent sends commands, each answered once: ``("open",)``, ``("phase", name,
t0_ns, rate, count, settle_s, senders)`` (count -1: one message from every
sending socket, the warm-up), ``("status",)`` (sockets still open, after a
hold) and ``("close",)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from multiprocessing.connection import Connection as Pipe
from typing import Any

import uvloop

from bench.loadgen import Worker, WorkerPlan

__all__ = ["worker_main"]

_IDLE_COMMAND_TIMEOUT = 900.0


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
            elif command[0] == "status":
                reply = {"open": worker.open_count()}
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
