"""The side-by-side peer: the chat hub as a Python team would write it with python-socketio.

One ASGI app (``socketio.AsyncServer`` with ``AsyncRedisManager``) under uvicorn;
the bench runs two of these processes on one Redis, like the product's two hubs.
Straightforward code on purpose, neither slowed down nor tuned: every event is
handled as it comes (python-socketio runs each in its own task), one store
round trip per message, no batching.

Events (the payloads mirror the product's frames, so the load generator counts
both the same way):

- connect: ``auth = {"token": <JWT>}``, the same HS256 token the product takes
  (``iss`` = tenant, ``aud``, ``exp`` checked with PyJWT); Origin checked by
  python-socketio (``cors_allowed_origins``).
- ``subscribe {conversation_id}``: the user must be a member (one ``find_one``
  in the peer's ``conversations``), then ``enter_room``. Ack ``subscribed``.
- ``send {conversation_id, client_msg_id, text}``: ``seq`` from Redis ``INCR``,
  ``insert_one`` (unique on (conv, seq) and (conv, sender, client_msg_id)),
  emit ``message`` to the room (the sender included), ack with the seq.
- ``typing {conversation_id, state}``: emit ``typing`` to the room, not to the sender.
- ``read {conversation_id, seq}``: ``find_one_and_update`` ``$max`` (upsert) of the
  reader's mark, emit ``read`` to the room, ack with the stored mark.

Settings come from the environment: ``CHAT_PORT`` (loopback only), ``PEER_MONGO_URL``,
``PEER_MONGO_DB``, ``PEER_REDIS_URL``, ``PEER_TENANT``, ``PEER_JWT_SECRET``,
``PEER_JWT_AUDIENCE``, ``PEER_ORIGIN``.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from typing import Any

import jwt
import redis.asyncio as aioredis
import socketio
import uvicorn
from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

ENV = os.environ
MAX_TEXT = 4000

sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=socketio.AsyncRedisManager(ENV.get("PEER_REDIS_URL", ""), channel="peer"),
    cors_allowed_origins=[ENV.get("PEER_ORIGIN", "")],
)
state: dict[str, Any] = {}


async def startup() -> None:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(ENV["PEER_MONGO_URL"])
    db = mongo[ENV.get("PEER_MONGO_DB", "peer")]
    state.update(
        mongo=mongo,
        convs=db["conversations"],
        messages=db["messages"],
        reads=db["reads"],
        redis=aioredis.from_url(ENV["PEER_REDIS_URL"]),
    )
    await db["messages"].create_index([("conv", ASCENDING), ("seq", ASCENDING)], unique=True)
    await db["messages"].create_index(
        [("conv", ASCENDING), ("sender", ASCENDING), ("client_msg_id", ASCENDING)], unique=True
    )


async def shutdown() -> None:
    await state["redis"].aclose()
    await state["mongo"].close()


def _error(code: str, conv: Any = None, ref: Any = None) -> dict[str, Any]:
    return {"type": "error", "code": code, "conversation_id": conv, "client_msg_id": ref}


@sio.event
async def connect(sid: str, environ: dict[str, Any], auth: Any) -> None:
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        claims = jwt.decode(
            token or "",
            ENV["PEER_JWT_SECRET"],
            algorithms=["HS256"],
            audience=ENV["PEER_JWT_AUDIENCE"],
            issuer=ENV["PEER_TENANT"],
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise socketio.exceptions.ConnectionRefusedError("token_invalid") from exc
    await sio.save_session(sid, {"user": claims["sub"], "convs": set()})


@sio.event
async def subscribe(sid: str, data: Any) -> dict[str, Any]:
    conv = data.get("conversation_id") if isinstance(data, dict) else None
    async with sio.session(sid) as session:
        user = session["user"]
        if not isinstance(conv, str):
            return _error("invalid_field")
        if await state["convs"].find_one({"_id": conv, "members": user}, {"_id": 1}) is None:
            return _error("not_found", conv)
        session["convs"].add(conv)
    await sio.enter_room(sid, conv)
    return {"type": "subscribed", "conversation_id": conv}


@sio.event
async def send(sid: str, data: Any) -> dict[str, Any]:
    session = await sio.get_session(sid)
    if not isinstance(data, dict):
        return _error("invalid_field")
    conv, cmid, text = data.get("conversation_id"), data.get("client_msg_id"), data.get("text")
    if conv not in session["convs"]:
        return _error("not_found", conv, cmid)
    if not (isinstance(cmid, str) and 0 < len(cmid) <= 64):
        return _error("invalid_field", conv, cmid)
    if not (isinstance(text, str) and text.strip() and len(text) <= MAX_TEXT):
        return _error("invalid_field", conv, cmid)
    user = session["user"]
    seq = int(await state["redis"].incr(f"peer:seq:{conv}"))
    now = datetime.now(UTC)
    doc = {
        "_id": f"m_{secrets.token_hex(12)}",
        "conv": conv,
        "seq": seq,
        "sender": user,
        "client_msg_id": cmid,
        "text": text,
        "created_at": now,
    }
    try:
        await state["messages"].insert_one(doc)
    except DuplicateKeyError:  # a resend: answer with what is stored
        found = await state["messages"].find_one(
            {"conv": conv, "sender": user, "client_msg_id": cmid}
        )
        if found is None:
            return _error("conflict", conv, cmid)
        return _ack(found, duplicate=True)
    message = {
        "id": doc["_id"],
        "conversation_id": conv,
        "seq": seq,
        "kind": "text",
        "sender_id": user,
        "text": text,
        "client_msg_id": cmid,
        "created_at": now.isoformat(),
    }
    await sio.emit("message", {"conversation_id": conv, "message": message}, room=conv)
    return _ack(doc, duplicate=False)


def _ack(doc: dict[str, Any], *, duplicate: bool) -> dict[str, Any]:
    return {
        "type": "ack",
        "conversation_id": doc["conv"],
        "client_msg_id": doc["client_msg_id"],
        "seq": doc["seq"],
        "message_id": doc["_id"],
        "created_at": doc["created_at"].isoformat(),
        "duplicate": duplicate,
    }


@sio.event
async def typing(sid: str, data: Any) -> None:
    session = await sio.get_session(sid)
    conv = data.get("conversation_id") if isinstance(data, dict) else None
    if conv in session["convs"] and data.get("state") in ("start", "stop"):
        event = {"conversation_id": conv, "user_id": session["user"], "state": data["state"]}
        await sio.emit("typing", event, room=conv, skip_sid=sid)


@sio.event
async def read(sid: str, data: Any) -> dict[str, Any]:
    session = await sio.get_session(sid)
    conv = data.get("conversation_id") if isinstance(data, dict) else None
    seq = data.get("seq") if isinstance(data, dict) else None
    if conv not in session["convs"]:
        return _error("not_found", conv)
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        return _error("invalid_field", conv)
    user = session["user"]
    mark = await state["reads"].find_one_and_update(
        {"_id": f"{conv}|{user}"},
        {"$max": {"seq": seq}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    stored = int(mark["seq"])
    await sio.emit("read", {"conversation_id": conv, "user_id": user, "seq": stored}, room=conv)
    return {"type": "ack", "conversation_id": conv, "read_seq": stored}


async def _health(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/readyz`` (what the bench polls), 404 otherwise."""
    if scope["type"] != "http":
        return
    ok = scope["path"] == "/readyz"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if ok else 404,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"ok" if ok else b""})


app = socketio.ASGIApp(sio, other_asgi_app=_health, on_startup=startup, on_shutdown=shutdown)


def main() -> None:
    # The same server settings as the product's hubs where they apply.
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(ENV["CHAT_PORT"]),
        loop="uvloop",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        lifespan="on",
        log_level="warning",
        access_log=False,
        server_header=False,
    )


if __name__ == "__main__":
    main()
