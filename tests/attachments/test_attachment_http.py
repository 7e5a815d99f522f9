"""Photos over HTTP and WebSocket on a live server: upload, the message event,
signed links with their headers, and every refusal as problem details."""

from collections.abc import AsyncIterator

import pytest

from chat_service.config import Settings
from tests.attachments.photos import HTML_AS_PNG, phone_jpeg, png_bytes
from tests.fixtures.app import (
    LiveServer,
    TenantKit,
    drop_database,
    make_settings,
    order_conversation,
)
from tests.fixtures.servers import RealServers
from tests.fixtures.ws import WsClient

CAP = 200_000


@pytest.fixture
async def settings(real_servers: RealServers) -> AsyncIterator[Settings]:
    settings = make_settings(real_servers, attachment_max_bytes=CAP, image_workers=1)
    yield settings
    await drop_database(settings)


async def conversation(live: LiveServer, tenant: TenantKit) -> str:
    conv, _ = await live.services.conversations.open_conversation(
        tenant.server, order_conversation()
    )
    return conv.id


def path_of(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


async def test_photo_reaches_the_other_party_live(live: LiveServer, live_tenant: TenantKit) -> None:
    conv_id = await conversation(live, live_tenant)
    seller = await WsClient.authed(
        live.ws_url, live_tenant.id, live_tenant.token("seller-1", "seller")
    )
    try:
        await seller.send({"type": "subscribe", "conversation_id": conv_id})
        await seller.expect("subscribed", conversation_id=conv_id)
        async with live.http(live_tenant.token("buyer-1")) as buyer:
            uploaded = await buyer.put(
                f"/v1/conversations/{conv_id}/attachments/photo-1",
                content=phone_jpeg(orientation=6),
                headers={"Content-Type": "image/png"},  # a wrong declared type changes nothing
            )
            assert uploaded.status_code == 201, uploaded.text
            photo = uploaded.json()
            assert photo["source_format"] == "jpeg"
            again = await buyer.put(
                f"/v1/conversations/{conv_id}/attachments/photo-1", content=b"retry"
            )
            assert again.status_code == 200 and again.json()["id"] == photo["id"]
            sent = await buyer.post(
                f"/v1/conversations/{conv_id}/messages",
                json={"client_msg_id": "m1", "attachments": [photo["id"]]},
            )
            assert sent.status_code == 201, sent.text
        event = await seller.expect("message")
        assert [a["id"] for a in event["message"]["attachments"]] == [photo["id"]]
        assert event["message"]["text"] is None
        async with live.http(live_tenant.token("seller-1", "seller")) as http:
            described = await http.get(f"/v1/conversations/{conv_id}/attachments/{photo['id']}")
            assert described.status_code == 200
            thumb_link = described.json()["links"]["thumb"]
        async with live.http() as anonymous:  # an <img> tag sends no credentials
            thumb = await anonymous.get(path_of(thumb_link))
        assert thumb.status_code == 200
        assert thumb.headers["content-type"] == "image/jpeg"
        assert thumb.headers["x-content-type-options"] == "nosniff"
        assert thumb.headers["content-disposition"] == (
            f'inline; filename="photo-{photo["id"]}-thumb.jpg"'
        )
        assert thumb.headers["cache-control"].startswith("private, max-age=")
        assert thumb.content[:2] == b"\xff\xd8"
    finally:
        await seller.close()


async def test_upload_refusals_are_problem_details(
    live: LiveServer, live_tenant: TenantKit
) -> None:
    conv_id = await conversation(live, live_tenant)
    url = f"/v1/conversations/{conv_id}/attachments"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"\x89PNG" + b"\0" * 65_536

    async with live.http(live_tenant.token("buyer-1")) as buyer:
        cases = [
            (await buyer.put(f"{url}/a", content=HTML_AS_PNG), 415, "unsupported_image_type"),
            (await buyer.put(f"{url}/b", content=b"x" * (CAP + 1)), 413, "body_too_large"),
            (await buyer.put(f"{url}/c", content=chunks()), 413, "body_too_large"),
            (await buyer.put(f"{url}/bad%20id", content=png_bytes()), 422, "invalid_request"),
            (
                await buyer.post(
                    f"/v1/conversations/{conv_id}/messages", json={"client_msg_id": "e"}
                ),
                422,
                "invalid_request",
            ),
            (
                await buyer.post(
                    f"/v1/conversations/{conv_id}/messages",
                    json={"client_msg_id": "e", "attachments": [{"$ne": None}]},
                ),
                422,
                "invalid_request",
            ),
        ]
        async with live.http(live_tenant.token("buyer-2")) as outsider:
            cases.append((await outsider.put(f"{url}/d", content=png_bytes()), 404, "not_found"))
        async with live.http() as anonymous:
            cases.append(
                (await anonymous.put(f"{url}/e", content=png_bytes()), 401, "not_authenticated")
            )
            cases.append(
                (
                    await anonymous.get(
                        "/v1/attachments/a_" + "0" * 24 + "/thumb?exp=1&kv=1&sig=x"
                    ),
                    403,
                    "link_invalid",
                )
            )
            cases.append(
                (
                    await anonymous.get("/v1/attachments/a_" + "0" * 24 + "/thumb"),
                    422,
                    "invalid_request",
                )
            )
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == code
    assert await live.services.stores.db["attachments"].count_documents({}) == 0
    assert await live.services.stores.db["attachment_chunks"].count_documents({}) == 0
