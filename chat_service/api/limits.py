"""A cap on HTTP request bodies, enforced while reading, answered as problem details.

A declared ``Content-Length`` over the cap is refused before the body is read;
a streamed (chunked) body is counted as it arrives and refused at the cap by
raising a 413 ``HTTPException``, which FastAPI passes through to our problem
handler (its own ``max_body_size`` answers in plain text instead).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chat_service.api.problems import problem

__all__ = ["BodyLimit"]


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        detail = f"request bodies may be at most {self.max_bytes} bytes"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await problem(413, "body_too_large", detail)(scope, receive, send)
            return
        seen = 0

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, detail)
            return message

        await self.app(scope, counted_receive, send)
