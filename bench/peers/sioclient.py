"""The load generator's two wire formats: the product's JSON frames, and Socket.IO.

Both turn the product-shaped frames the worker builds (``{"type": "send", ...}``)
into text frames, and incoming text frames back into product-shaped dicts, so
the worker's counting is the same for both servers.

Socket.IO is spoken directly over a WebSocket (Engine.IO v4,
``/socket.io/?EIO=4&transport=websocket``, no long-polling first), with the
text packets ``0{...}`` (open), ``40{auth}`` / ``40{sid}`` (connect),
``42[event, data]`` (event), ``42<id>[event, data]`` (event that wants an ack),
``43<id>[data]`` (ack), and ping ``2`` / pong ``3`` (the server pings).
The peer's acks are already product-shaped (``{"type": "ack", ...}``).
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["ChatWire", "SocketIOWire", "Wire", "wire_for"]

Frame = dict[str, Any]


class Wire:
    """The product's protocol: one JSON object per text frame."""

    name = "chat"
    greets = False  # the server speaks first (Engine.IO open packet)

    def url(self, base: str, tenant: str) -> str:
        return f"{base}?tenant={tenant}"

    def encode(self, frame: Frame, state: list[int]) -> str:
        return orjson.dumps(frame).decode()

    def decode(self, raw: str | bytes) -> tuple[Frame | None, str | None]:
        """(frame or None, text to answer at once or None)."""
        return orjson.loads(raw), None


ChatWire = Wire

_WANTS_ACK = {"send", "subscribe", "read"}


class SocketIOWire(Wire):
    name = "socketio"
    greets = True

    def url(self, base: str, tenant: str) -> str:
        return f"{base}?EIO=4&transport=websocket"

    def encode(self, frame: Frame, state: list[int]) -> str:
        """``state[0]`` is the socket's last ack id."""
        kind = frame["type"]
        if kind == "auth":
            return "40" + orjson.dumps({"token": frame["token"]}).decode()
        data = {k: v for k, v in frame.items() if k not in ("type", "ref")}
        body = orjson.dumps([kind, data]).decode()
        if kind in _WANTS_ACK:
            state[0] += 1
            return f"42{state[0]}{body}"
        return "42" + body

    def decode(self, raw: str | bytes) -> tuple[Frame | None, str | None]:
        text = raw.decode() if isinstance(raw, bytes) else raw
        head = text[:2]
        if head == "42":
            name, data = orjson.loads(text[2:])
            frame = data if isinstance(data, dict) else {"data": data}
            frame["type"] = name
            return frame, None
        if head == "43":
            start = text.index("[")
            reply = orjson.loads(text[start:])
            return (reply[0] if reply and isinstance(reply[0], dict) else {"type": "ack"}), None
        if text == "2":
            return None, "3"
        if head == "40":
            return {"type": "ready"}, None
        if head == "44":
            return {"type": "error", "code": "connect_refused", "detail": text[2:]}, None
        if head == "41" or text == "1":
            return {"type": "closed"}, None
        if text[:1] == "0":
            return {"type": "open"}, None
        return None, None


def wire_for(name: str) -> Wire:
    return SocketIOWire() if name == "socketio" else Wire()
