"""A subscriber that stops reading is cut off (close 4008) instead of growing
server memory, and resumes from its last seq on a new connection.

To make the server's send block quickly, the slow client's socket has a tiny
receive buffer and its WebSocket library buffers at most one frame; the
messages are large (about 60 kB each) so the remaining kernel and transport
buffers fill after a few dozen of them.
"""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.fixtures.app import ORIGIN
from tests.fixtures.ws import WsClient
from tests.hub.helpers import BUYER, SELLER, Hub, StartHub, send_text, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")

TEXT_CHARS = 60_000
MAX_SENDS = 400  # ~24 MB: far more than any socket buffer on the way


async def slow_reader(hub: Hub, user_id: str) -> WsClient:
    """An authenticated client whose reading the test controls (it reads only
    when asked: nothing is read in the background beyond one frame)."""
    url = urlsplit(hub.live.ws_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (url.hostname, url.port))
    conn = await connect(
        f"{hub.live.ws_url}?tenant={hub.tenant.id}",
        sock=sock,
        origin=ORIGIN,  # type: ignore[arg-type]
        max_queue=1,
        max_size=2**22,
        open_timeout=10,
    )
    client = WsClient(conn)
    hub.clients.append(client)
    await client.send({"type": "auth", "token": hub.tenant.token(user_id, "seller")})
    await client.expect("ready")
    return client


def server_side(hub: Hub, user_id: str) -> Any:
    # The hub has no public lookup of a user's connections; tests may peek.
    (conn,) = [
        c for c in hub.services.rooms._connections.values() if c.principal.user_id == user_id
    ]
    return conn


async def read_until_closed(client: WsClient) -> list[dict[str, Any]]:
    frames = []
    try:
        while True:
            frames.append(json.loads(await asyncio.wait_for(client.conn.recv(), 10)))
    except ConnectionClosed:
        return frames


async def test_slow_consumer_is_disconnected_with_4008_and_can_resume(
    start_hub: StartHub,
) -> None:
    hub = await start_hub(
        send_queue_frames=8,
        max_message_chars=TEXT_CHARS,
        ws_max_frame_bytes=TEXT_CHARS + 1024,
        send_rate_per_minute=10_000,
    )
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    seller = await slow_reader(hub, SELLER)
    await subscribe(seller, conv)
    watched = server_side(hub, SELLER)
    assert watched.max_queue == 8

    sent = 0
    while not watched.closed:
        assert sent < MAX_SENDS, "the slow reader was never cut off"
        sent += 1
        ack = await send_text(buyer, conv, f"{sent:06d}" + "x" * (TEXT_CHARS - 6), f"c{sent}")
        assert ack["seq"] == sent
    assert sent > 8

    # It can still write. A frame from it now ends the server's read loop, which
    # must still let the pending 4008 close go out rather than drop the socket.
    await seller.send({"type": "ping", "ref": "still there?"})
    await asyncio.sleep(0.1)  # let the server read that frame (same event loop)
    # Reading again drains what was in flight, then the close frame arrives.
    frames = await read_until_closed(seller)
    assert seller.conn.close_code == 4008
    assert seller.conn.close_reason == "slow_consumer"
    got = [f["message"]["seq"] for f in frames if f["type"] == "message"]
    assert got == list(range(1, len(got) + 1))  # in order, no gaps, nothing twice
    assert len(got) < sent  # the rest was dropped, not buffered without bound
    # The sender was never slowed down or disconnected.
    assert (await send_text(buyer, conv, "still here", "after"))["seq"] == sent + 1

    # Resuming on a new connection from the last seq received loses nothing.
    await hub.until(lambda: hub.services.rooms.user_connections(hub.tenant.id, SELLER) == 0)
    again = await hub.connect(SELLER)
    await subscribe(again, conv, after_seq=got[-1] if got else 0)
    rest = await again.messages(sent + 1 - len(got), timeout=10)
    assert [m["seq"] for m in rest] == list(range(len(got) + 1, sent + 2))
    assert rest[-1]["text"] == "still here"
