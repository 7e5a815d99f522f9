"""What every chat drill sets up and tears down: store, Redis, two hubs, seeded pairs.

Built on :class:`bench.cluster.Cluster`, so everything started is stopped by
``Cluster.stop`` (SIGTERM, then SIGKILL of the process group), also on error.
The store and Redis can be killed and started again on the same port; the
store keeps its data on disk (``--storage-path``) so a restart loses nothing
that was written.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pymongo import MongoClient

from bench.cluster import ORIGIN, Cluster, Hub
from bench.drills.clients import Fleet
from bench.seed import buyer_id, seed, seller_id
from chat_service.config import Settings
from chat_service.embedded.servers import ChildServer, start_redis, start_store

__all__ = ["DrillEnv", "print_books", "verdict"]


class DrillEnv:
    def __init__(
        self,
        name: str,
        *,
        pairs: int,
        hub_env: dict[str, str] | None = None,
        store_sync: bool = True,
    ) -> None:
        self.name = name
        # --sync-on-commit: the store fsyncs its log before it answers a write, so
        # a kill -9 loses nothing it acknowledged (SecantusDB's default, like
        # mongod's j:false, can lose the last writes before a crash).
        self.store_args = "--sync-on-commit" if store_sync else ""
        self.pairs = pairs
        self.run_dir = Path(tempfile.mkdtemp(prefix=f"drill-{name}-"))
        self.cluster = Cluster(self.run_dir)
        self.hub_env = hub_env or {}
        self.values: dict[str, str] = {}
        self.conv_ids: list[str] = []
        self.keep_logs = False
        self.fleet: Fleet | None = None
        # Servers started again mid-drill are spawned from this thread: they get
        # SIGTERM when the thread that spawned them exits (PR_SET_PDEATHSIG), so
        # it must outlive them (it is shut down after ``Cluster.stop``).
        self.spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drill-spawn")

    # -- start ------------------------------------------------------------------------

    def start(self) -> None:
        logs = self.run_dir / "logs"
        self.cluster.store = self._start_store(None)
        self.cluster.redis = start_redis(data_dir=None, log_dir=logs)
        self.values = self.cluster.settings_values(encryption=True, send_rate=1_000_000)
        self.values["CHAT_MONGO_DB"] = "drill"
        self.values["CHAT_REDIS_PREFIX"] = "drill"
        self.values.update(self.hub_env)
        fields: dict[str, Any] = {
            k.removeprefix("CHAT_").lower(): v for k, v in self.values.items()
        }
        settings = Settings(**fields)
        seeded = asyncio.run(seed(settings, self.pairs, origin=ORIGIN))
        self.conv_ids = seeded.conversation_ids
        self.seeded = seeded
        for hub_name in ("hub-a", "hub-b"):
            self.cluster.start_hub(hub_name, self.values, [])
        for hub in self.cluster.hubs:
            self.cluster.wait_ready(hub)

    def make_fleet(self) -> Fleet:
        fleet = Fleet(
            tenant_id=self.seeded.tenant_id,
            signing_secret=self.seeded.signing_secret,
            audience=self.seeded.audience,
            origin=ORIGIN,
        )
        urls = [hub.ws_url for hub in self.cluster.hubs]
        for n, conv_id in enumerate(self.conv_ids):
            fleet.add_pair(conv_id, buyer_id(n), seller_id(n), urls, n)
        self.fleet = fleet
        return fleet

    # -- faults -----------------------------------------------------------------------

    def kill_hub(self, hub: Hub) -> None:
        hub.process.kill()
        hub.process.wait(10)

    def restart_redis(self, down_seconds: float) -> dict[str, float]:
        """kill -9 Redis, keep it down, start a fresh one (no persistence) on the same port."""
        old = self.cluster.redis
        assert old is not None
        t0 = time.monotonic()
        old.kill()
        time.sleep(down_seconds)
        self.cluster.redis = start_redis(
            data_dir=None, log_dir=self.run_dir / "logs", port=old.port
        )
        return {"down_s": time.monotonic() - t0}

    def kill_store(self) -> None:
        store = self.cluster.store
        assert store is not None
        store.kill()

    def start_store_again(self) -> float:
        """The same data directory and port; seconds until it answered."""
        old = self.cluster.store
        assert old is not None
        t0 = time.monotonic()
        self.cluster.store = self._start_store(old.port)
        return time.monotonic() - t0

    def _start_store(self, port: int | None) -> ChildServer:
        """The store on its data directory, with ``store_args`` (read from the
        environment by ``start_store``; restored afterwards)."""
        before = os.environ.get("CHAT_STORE_EXTRA_ARGS")
        os.environ["CHAT_STORE_EXTRA_ARGS"] = self.store_args
        try:
            return start_store(
                data_dir=self.run_dir / "store", log_dir=self.run_dir / "logs", port=port
            )
        finally:
            if before is None:
                os.environ.pop("CHAT_STORE_EXTRA_ARGS", None)
            else:
                os.environ["CHAT_STORE_EXTRA_ARGS"] = before

    # -- books ------------------------------------------------------------------------

    def stored(self) -> dict[str, int]:
        """Messages in the store for the drill's conversations, and distinct (conv, seq)."""
        assert self.cluster.store is not None
        client: MongoClient[dict[str, Any]] = MongoClient(
            self.cluster.store.url, serverSelectionTimeoutMS=10_000
        )
        try:
            messages = client["drill"]["messages"]
            docs = list(
                messages.find({"conv": {"$in": self.conv_ids}}, {"conv": 1, "seq": 1, "_id": 0})
            )
        finally:
            client.close()
        return {"stored": len(docs), "stored_distinct": len({(d["conv"], d["seq"]) for d in docs})}

    def hub_log_errors(self) -> dict[str, int]:
        return {name: c["error"] for name, c in self.cluster.log_levels().items()}

    def stop(self) -> None:
        self.cluster.stop()
        self.spawner.shutdown(wait=True)
        if self.keep_logs:
            print(f"logs kept in {self.run_dir}")
        else:
            shutil.rmtree(self.run_dir, ignore_errors=True)


def print_books(name: str, figures: dict[str, Any]) -> None:
    """One line per figure; counts first."""
    print(f"\n== drill {name} ==")
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        if isinstance(value, float):
            value = f"{value:.2f}"
        print(f"  {key:<{width}}  {value}")


def verdict(books: dict[str, Any], stored: dict[str, int]) -> list[str]:
    """What broke the invariant: every acknowledged message stored once and
    delivered to the other party exactly once, no gap, no repeat, nothing left unanswered."""
    problems = []
    if stored["stored"] != books["acknowledged"]:
        problems.append(f"stored {stored['stored']} != acknowledged {books['acknowledged']}")
    if stored["stored_distinct"] != stored["stored"]:
        problems.append("a (conversation, seq) is stored twice")
    if books["delivered_once"] != books["acknowledged"]:
        problems.append(
            f"delivered once {books['delivered_once']} != acknowledged {books['acknowledged']}"
        )
    for key in ("delivered_twice_or_more", "gaps", "repeats", "unacknowledged"):
        if books[key]:
            problems.append(f"{key} = {books[key]}")
    if books["refused"]:
        problems.append(f"sends refused for good: {books['refused']}")
    return problems
