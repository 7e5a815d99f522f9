"""CORS for the widget's REST calls from marketplace pages.

A browser preflight carries no credentials, so it cannot name its tenant:
an origin is allowed when it is on *some* marketplace's allowlist (re-read at
most every ``refresh_seconds``). That only lets a page send requests; each
request still needs a token of the tenant it touches, and tokens are bearer
headers, never cookies (no ``Allow-Credentials``). The WebSocket checks the
origin against its own tenant's allowlist, as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["TenantCors"]

OriginSource = Callable[[], Awaitable[set[str]]]
_METHODS = "GET, POST, PUT, DELETE"
_HEADERS = "Authorization, Content-Type, Upload-Id, X-Request-ID"


class TenantCors:
    def __init__(
        self,
        app: ASGIApp,
        *,
        origins: Callable[[Scope], OriginSource | None],
        monotonic: Callable[[], float],
        refresh_seconds: float = 30.0,
    ) -> None:
        self.app = app
        self._origins = origins
        self._monotonic = monotonic
        self._refresh = refresh_seconds
        self._known: set[str] = set()
        self._read_at: float | None = None

    async def _allowed(self, scope: Scope, origin: str) -> bool:
        source = self._origins(scope)
        if source is None:
            return False
        now = self._monotonic()
        stale = self._read_at is None or now - self._read_at >= self._refresh
        if stale or (origin not in self._known and now - (self._read_at or 0) >= 1.0):
            self._known, self._read_at = await source(), now
        return origin in self._known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or not await self._allowed(scope, origin):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": _METHODS,
                    "Access-Control-Allow-Headers": _HEADERS,
                    "Access-Control-Max-Age": "600",
                    "Vary": "Origin",
                },
            )
            await preflight(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                out["Access-Control-Allow-Origin"] = origin
                out["Access-Control-Expose-Headers"] = "X-Request-ID"
                out.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, with_cors)
