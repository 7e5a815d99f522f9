"""The processes one bench run owns: the store, Redis and the hub processes.

Everything here is started on loopback and free ports, and :meth:`Cluster.stop`
ends all of it (SIGTERM, then SIGKILL of the whole process group), also when
the run fails half-way.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from pymongo import MongoClient
from redis import Redis

from chat_service.embedded.servers import ChildServer, free_port, start_redis, start_store

__all__ = ["ORIGIN", "Cluster", "Hub", "cpu_seconds"]

ORIGIN = "http://bench.test"
_READY_TIMEOUT = 90.0


@dataclass
class Hub:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    ws_path: str = "/v1/ws"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{self.ws_path}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)


def _chat_service_script() -> str:
    beside = Path(sys.executable).parent / "chat-service"
    if beside.exists():
        return str(beside)
    found = shutil.which("chat-service")
    if found is None:
        raise RuntimeError("chat-service not found: run `pip install -e '.[bench]'` in the venv")
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0.0 if it is gone)."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return float(times.user + times.system)


@dataclass
class Cluster:
    run_dir: Path
    store: ChildServer | None = None
    redis: ChildServer | None = None
    hubs: list[Hub] = field(default_factory=list)
    kek: str = field(default_factory=lambda: base64.b64encode(os.urandom(32)).decode())

    def start_backends(self) -> None:
        logs = self.run_dir / "logs"
        self.store = start_store(data_dir=None, log_dir=logs)
        self.redis = start_redis(data_dir=None, log_dir=logs)

    def settings_values(self, *, encryption: bool, send_rate: int) -> dict[str, str]:
        """The CHAT_* values shared by the seeding code and every hub (without host/port)."""
        assert self.store is not None
        assert self.redis is not None
        return {
            "CHAT_ENVIRONMENT": "test",
            "CHAT_MONGO_URL": self.store.url,
            "CHAT_MONGO_DB": "bench",
            "CHAT_REDIS_URL": self.redis.url,
            "CHAT_REDIS_PREFIX": "bench",
            "CHAT_KEKS": f"1:{self.kek}",
            "CHAT_SEND_RATE_PER_MINUTE": str(send_rate),
            "CHAT_TYPING_RATE_PER_MINUTE": str(send_rate),
            "CHAT_MAX_CONNECTIONS_PER_USER": "4",
            "CHAT_BENCH_DISABLE_ENCRYPTION": "false" if encryption else "true",
        }

    def start_hub(
        self, name: str, values: dict[str, str], launcher: list[str], ws_path: str = "/v1/ws"
    ) -> Hub:
        """Start one hub (or peer process); ``launcher`` is empty for ``chat-service serve``."""
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
        env.update(values)
        env.update(
            {
                "CHAT_HOST": "127.0.0.1",
                "CHAT_PORT": str(port),
                "CHAT_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            }
        )
        argv = launcher or [_chat_service_script(), "serve"]
        log_path = self.run_dir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log_file:
            process = subprocess.Popen(
                argv,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        hub = Hub(name, port, process, log_path, ws_path)
        self.hubs.append(hub)
        return hub

    def wait_ready(self, hub: Hub, timeout: float = _READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{hub.port}/readyz"
        while time.monotonic() < deadline:
            if hub.process.poll() is not None:
                raise RuntimeError(f"{hub.name} exited early; see {hub.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{hub.name} not ready within {timeout}s; see {hub.log_path}")

    def backend_ops(self) -> dict[str, int]:
        """Operation counters of the store (serverStatus) and Redis (INFO), for deltas."""
        assert self.store is not None
        assert self.redis is not None
        counts: dict[str, int] = {}
        client: MongoClient[dict[str, Any]] = MongoClient(self.store.url, connect=True)
        try:
            status = client.admin.command("serverStatus")
            counts.update({f"store_{k}": int(v) for k, v in status.get("opcounters", {}).items()})
            # A gauge, not a counter: the store's open client connections (minus this one).
            counts["store_connections_open"] = int(status["connections"]["current"]) - 1
        finally:
            client.close()
        redis_client = Redis.from_url(self.redis.url)
        try:
            counts["redis_commands"] = int(redis_client.info("stats")["total_commands_processed"])
            for name, stats in redis_client.info("commandstats").items():
                counts[f"redis_{name.removeprefix('cmdstat_')}"] = int(stats["calls"])
        finally:
            redis_client.close()
        return counts

    def log_levels(self) -> dict[str, dict[str, int]]:
        """Counts of warning/error lines per hub log (the hubs log JSON lines; the peer
        processes log uvicorn's and python-socketio's plain ``LEVEL:`` lines)."""
        counts: dict[str, dict[str, int]] = {}
        for hub in self.hubs:
            found = {"warning": 0, "error": 0}
            with contextlib.suppress(OSError):
                for line in hub.log_path.read_text(errors="replace").splitlines():
                    for level in found:
                        if f'"level": "{level}"' in line or line.startswith(f"{level.upper()}:"):
                            found[level] += 1
            counts[hub.name] = found
        return counts

    def stop(self) -> None:
        for hub in self.hubs:
            hub.signal(signal.SIGTERM)
        for hub in self.hubs:
            try:
                hub.process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(hub.process.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    hub.process.wait(5)
        for server in (self.redis, self.store):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
                if server.alive():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(server.process.pid, signal.SIGKILL)
