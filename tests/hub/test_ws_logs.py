"""SECURITY.md: logs carry user, origin and violations, never message bodies,
tokens or e-mail addresses. The live server runs in this process, so its log
records can be inspected directly."""

from __future__ import annotations

import logging

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chat_service.ids import new_id
from tests.hub.helpers import BUYER, SELLER, Hub, error_of, refused_with, send_text, subscribe

pytestmark = pytest.mark.asyncio(loop_scope="package")

SECRET_TEXT = "card 4111-1111-1111-1111 zebra-cactus"
EMAIL = "ada.private@mail.test"


def server_log(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        if record.name.startswith(("chat_service", "uvicorn")):
            lines.append(record.getMessage())
            if record.exc_text:
                lines.append(record.exc_text)
    return "\n".join(lines)


async def test_logs_name_violations_but_never_text_tokens_or_emails(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chat_service")
    caplog.set_level(logging.INFO, logger="uvicorn")
    conv = await hub.conversation()
    token = hub.tenant.token(BUYER, email=EMAIL)
    buyer = await hub.connect(BUYER, token=token)
    seller = await hub.connect(SELLER)
    await subscribe(seller, conv)
    await send_text(buyer, conv, SECRET_TEXT, "c1")
    await seller.messages(1)
    # Violations whose frames contain the secret text.
    for frame in (
        {
            "type": "send",
            "conversation_id": conv,
            "client_msg_id": "c2",
            "text": SECRET_TEXT,
            "note": SECRET_TEXT,
        },
        {
            "type": "send",
            "conversation_id": conv,
            "client_msg_id": "c3",
            "text": SECRET_TEXT + "\x00",
        },
        {"type": "send", "conversation_id": conv, "client_msg_id": "c4", "text": SECRET_TEXT * 200},
    ):
        await buyer.send(frame)
        await error_of(buyer)
    await buyer.send_raw("{" + SECRET_TEXT)
    await error_of(buyer)
    await buyer.send({"type": "subscribe", "conversation_id": new_id("c")})
    await error_of(buyer)
    # A forged token and a cross-origin handshake.
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    intruder = await hub.open()
    await intruder.send({"type": "auth", "token": forged})
    await refused_with(intruder, "token_invalid")
    with pytest.raises(InvalidStatus):
        await connect(f"{hub.live.ws_url}?tenant={hub.tenant.id}", origin="http://evil.test")  # type: ignore[arg-type]

    log = server_log(caplog)
    for secret in (SECRET_TEXT, "zebra-cactus", token, forged, token.split(".")[2], EMAIL):
        assert secret not in log
    # What the logs are for is there: who, which violation, which origin.
    assert f"user:{hub.tenant.id}/{BUYER}" in log
    codes = ("invalid_field", "invalid_text", "message_too_long", "bad_json", "not_found")
    for code in (*codes, "token_invalid"):
        assert code in log, code
    assert "http://evil.test" in log
