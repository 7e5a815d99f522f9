"""Running the ASGI app under uvicorn with the service's limits applied."""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from chat_service.api.app import create_app
from chat_service.cli.lean_primitives import LeanEvent, LeanQueue
from chat_service.config import Settings
from chat_service.widget.demo import DemoConfig

__all__ = ["LeanWebSocketProtocol", "run_server", "uvicorn_config"]


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, minus the handshake it keeps.

    uvicorn holds the parsed upgrade request and the 101 response (with their
    header objects, ~3.7 KiB) for the whole life of the socket although it
    never reads them again once the response is sent. At thousands of idle
    sockets per process that is over a tenth of their memory. Its inbound
    ``asyncio.Queue`` and its ``writable`` ``asyncio.Event`` are swapped for
    lean equivalents (see :mod:`chat_service.cli.lean_primitives`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = LeanQueue()  # type: ignore[assignment]
        writable = LeanEvent()
        writable.set()
        self.writable = writable  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if self.handshake_complete and getattr(self, "response", None) is not None:
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]


def uvicorn_config(
    settings: Settings, *, log_level: str = "info", demo: DemoConfig | None = None
) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(settings, demo=demo),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        lifespan="on",
        ws=LeanWebSocketProtocol,
        # Frames a bit over the limit get a readable error frame from the app;
        # far over it, the server closes with 1009 before buffering them.
        ws_max_size=settings.ws_max_frame_bytes * 4,
        ws_max_queue=16,
        ws_per_message_deflate=False,
        ws_ping_interval=settings.heartbeat_interval_seconds,
        ws_ping_timeout=settings.heartbeat_timeout_seconds,
        log_level=log_level,
        access_log=False,
        server_header=False,
        log_config=None,
    )


def run_server(settings: Settings, *, demo: DemoConfig | None = None) -> None:
    server = uvicorn.Server(uvicorn_config(settings, demo=demo))
    server.run()
