"""A stalled store delays a socket's replies but never stops the server reading it.

The store process is really stopped (SIGSTOP) for a moment: the frames read
meanwhile wait in the socket's inbox, the server keeps answering WebSocket
pings, a frame past ``CHAT_WS_MAX_WAITING_FRAMES`` is refused at once as
``unavailable``, and once the store runs again every waiting send is stored
in order and acknowledged, none lost.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tests.fixtures.servers import RealServers
from tests.hub.helpers import BUYER, Hub, StartHub, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")

WAITING = 4


def send_frame(conv: str, i: int) -> dict[str, object]:
    return {
        "type": "send",
        "conversation_id": conv,
        "client_msg_id": f"c{i}",
        "text": f"while the store sleeps {i}",
        "ref": f"s{i}",
    }


async def test_frames_wait_in_order_and_the_socket_stays_read(
    start_hub: StartHub, real_servers: RealServers
) -> None:
    hub: Hub = await start_hub(ws_max_waiting_frames=WAITING)
    conv = await hub.conversation()
    buyer = await hub.connect(BUYER)
    await subscribe(buyer, conv)
    sends = WAITING + 6
    store = real_servers.store.process.pid
    os.kill(store, signal.SIGSTOP)
    try:
        for i in range(sends):
            await buyer.send(send_frame(conv, i))
        # Refused at once, while the store still sleeps: the frames past the
        # limit (the first frame may or may not have left the inbox yet).
        answers: dict[str, dict[str, object]] = {}
        for _ in range(sends - WAITING - 1):
            frame = await buyer.expect("error", timeout=5)
            answers[str(frame["ref"])] = frame
        # The socket is still read: a WebSocket ping is answered.
        pong = await buyer.conn.ping()
        await asyncio.wait_for(pong, 5)
    finally:
        os.kill(store, signal.SIGCONT)
    for _ in range(4 * sends):  # bounded; also skips the live message events
        if len(answers) == sends:
            break
        frame = await buyer.recv(timeout=30)
        if frame["type"] in ("ack", "error"):
            answers[str(frame["ref"])] = frame
    assert sorted(answers, key=lambda r: int(r[1:])) == [f"s{i}" for i in range(sends)]
    acked = [answers[f"s{i}"] for i in range(sends) if answers[f"s{i}"]["type"] == "ack"]
    refused = [answers[f"s{i}"] for i in range(sends) if answers[f"s{i}"]["type"] == "error"]
    assert {f["code"] for f in refused} == {"unavailable"}
    assert len(acked) in (WAITING, WAITING + 1)
    # The waiting ones were the first, stored in the order they were sent.
    assert [a["ref"] for a in acked] == [f"s{i}" for i in range(len(acked))]
    assert [a["seq"] for a in acked] == list(range(1, len(acked) + 1))
    assert await hub.message_count() == len(acked)
    # Nothing stays behind: the refused sends can simply be sent again.
    for i in range(len(acked), sends):
        await buyer.send(send_frame(conv, i))
        assert (await buyer.expect("ack", ref=f"s{i}"))["seq"] == i + 1
