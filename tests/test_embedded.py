"""The embedded default keeps data in its folder across a stop and a start."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from pymongo import MongoClient

from chat_service.embedded.servers import ChildServer, EmbeddedError, start_redis, start_store


def _redis(server: ChildServer, *command: str) -> bytes:
    """One RESP command over a plain socket (no client library in between)."""
    parts = [f"*{len(command)}\r\n".encode()]
    for arg in command:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"".join(parts))
        return sock.recv(4096)


def _assert_stopped_cleanly(server: ChildServer) -> None:
    assert not server.alive()
    # Exited on SIGTERM by itself (0, or the signal's own status), not SIGKILLed.
    assert server.process.returncode in (0, -15), server.log_path.read_text(errors="replace")


def test_store_keeps_documents_across_a_restart(tmp_path: Path) -> None:
    data, logs = tmp_path / "store", tmp_path / "logs"
    store = start_store(data_dir=data, log_dir=logs)
    try:
        client: MongoClient[dict[str, object]] = MongoClient(store.url)
        try:
            client["keep"]["things"].insert_one({"_id": "chair", "legs": 4})
        finally:
            client.close()
    finally:
        store.stop()
    _assert_stopped_cleanly(store)

    again = start_store(data_dir=data, log_dir=logs)
    try:
        client = MongoClient(again.url)
        try:
            assert client["keep"]["things"].find_one({"_id": "chair"}) == {
                "_id": "chair",
                "legs": 4,
            }
        finally:
            client.close()
    finally:
        again.stop()
    _assert_stopped_cleanly(again)


def test_redis_keeps_keys_across_a_restart(tmp_path: Path) -> None:
    data, logs = tmp_path / "redis", tmp_path / "logs"
    redis = start_redis(data_dir=data, log_dir=logs)
    try:
        assert _redis(redis, "SET", "chat:test:key", "kept") == b"+OK\r\n"
        assert _redis(redis, "CONFIG", "GET", "appendonly").endswith(b"yes\r\n")
    finally:
        redis.stop()
    _assert_stopped_cleanly(redis)

    again = start_redis(data_dir=data, log_dir=logs)
    try:
        assert _redis(again, "GET", "chat:test:key") == b"$4\r\nkept\r\n"
    finally:
        again.stop()
    _assert_stopped_cleanly(again)


def test_redis_without_a_folder_keeps_nothing(tmp_path: Path) -> None:
    redis = start_redis(data_dir=None, log_dir=tmp_path)
    try:
        assert _redis(redis, "CONFIG", "GET", "appendonly").endswith(b"no\r\n")
    finally:
        redis.stop()
    _assert_stopped_cleanly(redis)
    redis.stop()  # a second stop is harmless


@pytest.mark.parametrize("start", [start_redis, start_store], ids=["redis", "store"])
def test_a_server_that_cannot_bind_its_port_is_reported(
    tmp_path: Path, start: Callable[..., ChildServer]
) -> None:
    blocker = start(data_dir=None, log_dir=tmp_path / "a")
    try:
        # The port is taken: the health check must not mistake the server that
        # holds it for ours; ours exits, and the error says where its log is.
        with pytest.raises(EmbeddedError, match=f"{blocker.name} exited .* see "):
            start(data_dir=None, log_dir=tmp_path / "b", port=blocker.port, timeout=20)
        assert blocker.alive()
    finally:
        blocker.stop()
