"""What an idle socket keeps on the server, beyond the hub's own state.

uvicorn's WebSocket protocol would hold the parsed upgrade request and the 101
response for the socket's whole life; the service's protocol drops them once
the response is sent (see ``chat_service/cli/server.py``). The socket keeps
working, and a handshake the service refuses still gets its HTTP 403.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import uvicorn
from websockets.exceptions import InvalidStatus

from chat_service.cli.server import LeanWebSocketProtocol
from tests.fixtures.app import (
    create_tenant,
    drop_database,
    make_settings,
    start_live_server,
    stop_live_server,
)
from tests.fixtures.servers import RealServers
from tests.fixtures.ws import WsClient
from tests.hub.helpers import BUYER, SELLER, Hub, assert_alive, send_text, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest_asyncio.fixture(loop_scope="package")
async def served(real_servers: RealServers) -> AsyncIterator[tuple[uvicorn.Server, Hub]]:
    settings = make_settings(real_servers)
    server, task, live = await start_live_server(settings)
    kit = Hub(live, await create_tenant(live.services))
    yield server, kit
    await kit.aclose()
    await stop_live_server(server, task)
    await drop_database(settings)


def sockets_of(server: uvicorn.Server) -> list[LeanWebSocketProtocol]:
    return [c for c in server.server_state.connections if isinstance(c, LeanWebSocketProtocol)]


async def test_open_sockets_keep_no_handshake_and_still_chat(
    served: tuple[uvicorn.Server, Hub],
) -> None:
    server, hub = served
    conv = await hub.conversation("2001")
    buyer, seller = await hub.connect(BUYER), await hub.connect(SELLER)
    await subscribe(buyer, conv)
    await subscribe(seller, conv)

    sockets = sockets_of(server)
    assert len(sockets) == 2
    assert all(s.request is None and s.response is None for s in sockets)  # type: ignore[comparison-overlap]
    await send_text(buyer, conv, "still works", "lean-1")
    delivered = await seller.expect("message", conversation_id=conv)
    assert delivered["message"]["text"] == "still works"
    await assert_alive(buyer)


async def test_a_refused_handshake_still_gets_its_403(served: tuple[uvicorn.Server, Hub]) -> None:
    _, hub = served
    with pytest.raises(InvalidStatus) as refused:
        await WsClient.open(hub.live.ws_url, hub.tenant.id, origin="https://evil.test")
    assert refused.value.response.status_code == 403
