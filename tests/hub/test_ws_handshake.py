"""Before a socket is accepted: the tenant's exact Origin allowlist, the tenant
id, and the first frame (auth within the timeout). Refusals before the upgrade
are HTTP 403; refusals after it are an error frame and close code 1008."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from chat_service.tenants.schemas import TenantCreate
from tests.fixtures.app import ORIGIN, create_tenant
from tests.hub.helpers import Hub, StartHub, assert_alive, refused_with, rejected

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def assert_403(url: str, origin: str | None) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, origin=origin, open_timeout=5)  # type: ignore[arg-type]
    assert refused.value.response.status_code == 403


async def test_allowed_origin_is_accepted(hub: Hub) -> None:
    client = await hub.connect("buyer-1")
    await assert_alive(client)
    assert hub.services.rooms.connection_count == 1


BAD_ORIGINS = [
    "http://evil.test",
    "https://shop.test",  # other scheme
    "http://shop.test:8080",  # other port
    "http://shop.test.evil.test",  # suffix trick
    "http://evil.test.shop.test",  # subdomain
    "http://shop.test/",  # not an exact origin
    "null",  # sandboxed iframe, file://
    "http://shop.test, http://evil.test",
]


@pytest.mark.parametrize("origin", BAD_ORIGINS)
async def test_origin_not_on_allowlist_is_refused_with_403(hub: Hub, origin: str) -> None:
    before = rejected(hub, "origin")
    await assert_403(f"{hub.live.ws_url}?tenant={hub.tenant.id}", origin)
    assert rejected(hub, "origin") == before + 1
    assert hub.services.rooms.connection_count == 0


async def test_missing_origin_is_refused(hub: Hub) -> None:
    before = rejected(hub, "origin")
    await assert_403(f"{hub.live.ws_url}?tenant={hub.tenant.id}", None)
    assert rejected(hub, "origin") == before + 1


async def test_origin_of_another_tenant_is_refused(hub: Hub) -> None:
    other = await hub.services.tenants.create(
        TenantCreate(name="Other", origins=["http://other.test"])
    )
    before = rejected(hub, "origin")
    # shop.test is allowed for hub.tenant, not for the other tenant, and vice versa.
    await assert_403(f"{hub.live.ws_url}?tenant={other.tenant_id}", ORIGIN)
    await assert_403(f"{hub.live.ws_url}?tenant={hub.tenant.id}", "http://other.test")
    assert rejected(hub, "origin") == before + 2


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?tenant=",
        "?tenant=t_0000000000000000",  # well-formed, unknown
        "?tenant=shop",
        "?tenant=T_{upper}",
        "?tenant={tenant}x",
        "?tenant={tenant}%0a",
        "?tenant=" + quote('{"$ne": null}'),
        "?tenant[$ne]=x",
    ],
)
async def test_unknown_or_malformed_tenant_is_refused(hub: Hub, query: str) -> None:
    query = query.format(tenant=hub.tenant.id, upper=hub.tenant.id[2:].upper())
    before = rejected(hub, "origin")
    await assert_403(f"{hub.live.ws_url}{query}", ORIGIN)
    assert rejected(hub, "origin") == before + 1
    assert hub.services.rooms.connection_count == 0


@pytest.mark.parametrize(
    "first",
    [
        '{"type": "ping"}',
        '{"type": "subscribe", "conversation_id": "c_0123456789abcdef01234567"}',
        '{"type": "send", "conversation_id": "c_0123456789abcdef01234567",'
        ' "client_msg_id": "x", "text": "hi"}',
    ],
)
async def test_first_frame_must_be_auth(hub: Hub, first: str) -> None:
    before = rejected(hub, "not_authenticated")
    client = await hub.open()
    await client.send_raw(first)
    await refused_with(client, "not_authenticated")
    assert await hub.message_count() == 0
    assert rejected(hub, "not_authenticated") == before + 1


@pytest.mark.parametrize(
    ("first", "code"),
    [
        ("{not json", "bad_json"),
        (b'{"type": "auth", "token": "x"}', "binary_not_supported"),
        ('{"type": "auth"}', "invalid_field"),
        ('{"type": "auth", "token": {"$ne": null}}', "invalid_field"),
        ('{"type": "auth", "token": ""}', "invalid_field"),
        ('{"type": "auth", "token": "x", "user_id": "seller-1"}', "invalid_field"),
    ],
)
async def test_malformed_auth_frame_is_refused(hub: Hub, first: str | bytes, code: str) -> None:
    client = await hub.open()
    await client.send_raw(first)
    await refused_with(client, code)
    assert hub.services.rooms.connection_count == 0


async def test_no_auth_frame_in_time_closes_with_auth_timeout(start_hub: StartHub) -> None:
    hub = await start_hub(auth_timeout_seconds=0.5)
    client = await hub.open()
    await refused_with(client, "auth_timeout")
    assert rejected(hub, "auth_timeout") == 1
    assert hub.services.rooms.connection_count == 0


async def test_refused_handshakes_never_become_connections(hub: Hub) -> None:
    """The figure SECURITY.md asks for: cross-origin and unauthenticated
    handshakes accepted = 0, over a mixed batch of attempts."""
    reasons = ("origin", "not_authenticated", "token_invalid", "bad_frame")
    before = sum(rejected(hub, reason) for reason in reasons)
    url = f"{hub.live.ws_url}?tenant={hub.tenant.id}"
    attempts = 0
    for origin in [*BAD_ORIGINS, None]:
        await assert_403(url, origin)
        attempts += 1
    for first, code in [
        ('{"type": "ping"}', "not_authenticated"),
        ('{"type": "auth", "token": "nope"}', "token_invalid"),
        ("[]", "bad_frame"),
    ]:
        client = await hub.open()
        await client.send_raw(first)
        await refused_with(client, code)
        attempts += 1
    other = await create_tenant(hub.services, "Other")
    client = await hub.open()
    await client.send({"type": "auth", "token": other.token("buyer-1")})
    await refused_with(client, "token_invalid")
    attempts += 1
    assert sum(rejected(hub, reason) for reason in reasons) - before == attempts
    assert hub.services.rooms.connection_count == 0
    assert hub.services.rooms.user_connections(hub.tenant.id, "buyer-1") == 0
