"""The FastAPI app class, with the chat WebSocket served in front of everything.

A WebSocket routed through the middleware stack, the router and the
dependency machinery keeps their coroutine frames, closures and wrappers alive
for as long as the socket stays open; at thousands of idle connections per
process that is a measurable share of memory (see bench/README.md). So the
app hands ``/v1/ws`` to :func:`websocket_endpoint` before any of it.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from chat_service.hub.endpoint import websocket_endpoint
from chat_service.logs import request_id

__all__ = ["WEBSOCKET_PATH", "ChatApp"]

WEBSOCKET_PATH = "/v1/ws"


class ChatApp(FastAPI):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == WEBSOCKET_PATH:
            scope["app"] = self
            request_id.set(secrets.token_hex(8))  # this task's context only
            await websocket_endpoint(WebSocket(scope, receive, send))
            return
        await super().__call__(scope, receive, send)
