"""A cap on HTTP request bodies, enforced while reading, answered as problem details.

A declared ``Content-Length`` over the cap is refused before the body is read;
a streamed (chunked) body is counted as it arrives and refused at the cap by
raising a 413 ``HTTPException``, which FastAPI passes through to our problem
handler (its own ``max_body_size`` answers in plain text instead).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_service.api.problems import problem

__all__ = ["BodyLimit"]


class BodyLimit:
    """``larger`` lists (path regex, cap) pairs for the few routes that take
    bigger bodies (photo uploads); those routes enforce their own finer caps."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, larger: Sequence[tuple[str, int]] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(re.compile(pattern), cap) for pattern, cap in larger]

    def _cap(self, path: str) -> int:
        for pattern, cap in self.larger:
            if pattern.match(path):
                return cap
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._cap(scope.get("path", ""))
        detail = f"request bodies may be at most {max_bytes} bytes"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            await problem(413, "body_too_large", detail)(scope, receive, send)
            return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted_receive, send)
