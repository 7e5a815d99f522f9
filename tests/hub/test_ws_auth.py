"""The auth frame: only a well-signed, unexpired HS256 token of this tenant and
this service's audience gets a ``ready``; everything else ``token_invalid`` or
``token_expired`` and close 1008, without becoming a connection."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from chat_service.auth.tokens import mint_user_token
from tests.fixtures.app import TenantKit, create_tenant
from tests.hub.helpers import (
    Hub,
    assert_alive,
    claims_of,
    refused_with,
    resigned_token,
    swap_payload,
    unsigned_token,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


def mint(kit: TenantKit, **overrides: object) -> str:
    values: dict[str, object] = {
        "tenant_id": kit.id,
        "signing_secret": kit.creds.signing_secret,
        "audience": kit.settings.jwt_audience,
        "user_id": "buyer-1",
        "name": "Buyer",
        "role": "buyer",
    }
    values.update(overrides)
    return mint_user_token(**values)  # type: ignore[arg-type]


def with_claims(kit: TenantKit, **changes: object) -> dict[str, object]:
    return {**claims_of(mint(kit)), **changes}


# Each case builds a token for the hub's tenant that must be refused.
BAD_TOKENS: dict[str, tuple[Callable[[TenantKit], str], str]] = {
    "expired": (
        lambda k: mint(k, now=datetime.now(UTC) - timedelta(hours=1)),
        "token_expired",
    ),
    "expired_beyond_leeway": (
        lambda k: mint(k, now=datetime.now(UTC) - timedelta(minutes=15, seconds=31)),
        "token_expired",
    ),
    "issued_in_the_future": (
        lambda k: mint(k, now=datetime.now(UTC) + timedelta(hours=1)),
        "token_invalid",
    ),
    "lifetime_over_maximum": (lambda k: mint(k, lifetime=timedelta(days=2)), "token_invalid"),
    "forged_signature": (
        lambda k: resigned_token(claims_of(mint(k)), secrets.token_urlsafe(48)),
        "token_invalid",
    ),
    "payload_swapped": (
        lambda k: swap_payload(mint(k), with_claims(k, sub="seller-1", role="seller")),
        "token_invalid",
    ),
    "signature_stripped": (lambda k: mint(k).rsplit(".", 1)[0] + ".", "token_invalid"),
    "alg_none": (lambda k: unsigned_token(claims_of(mint(k))), "token_invalid"),
    "alg_None": (lambda k: unsigned_token(claims_of(mint(k)), alg="None"), "token_invalid"),
    "alg_hs256_unsigned": (
        lambda k: unsigned_token(claims_of(mint(k)), alg="HS256"),
        "token_invalid",
    ),
    "alg_hs512_right_secret": (
        lambda k: resigned_token(claims_of(mint(k)), k.creds.signing_secret, alg="HS512"),
        "token_invalid",
    ),
    "wrong_audience": (lambda k: mint(k, audience="another-service"), "token_invalid"),
    "no_audience": (
        lambda k: resigned_token(
            {c: v for c, v in claims_of(mint(k)).items() if c != "aud"}, k.creds.signing_secret
        ),
        "token_invalid",
    ),
    "no_exp": (
        lambda k: resigned_token(
            {c: v for c, v in claims_of(mint(k)).items() if c != "exp"}, k.creds.signing_secret
        ),
        "token_invalid",
    ),
    "role_admin": (lambda k: mint(k, role="admin"), "token_invalid"),
    "operator_in_subject": (lambda k: mint(k, user_id="$where"), "token_invalid"),
    "not_a_jwt": (lambda k: "not-a-token", "token_invalid"),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
async def test_bad_tokens_are_refused(hub: Hub, case: str) -> None:
    build, code = BAD_TOKENS[case]
    client = await hub.open()
    await client.send({"type": "auth", "token": build(hub.tenant)})
    await refused_with(client, code)
    assert hub.services.rooms.connection_count == 0


async def test_token_of_another_tenant_is_refused(hub: Hub) -> None:
    other = await create_tenant(hub.services, "Other shop")
    client = await hub.open()
    await client.send({"type": "auth", "token": other.token("buyer-1")})
    await refused_with(client, "token_invalid")


async def test_token_naming_this_tenant_but_signed_by_another_is_refused(hub: Hub) -> None:
    other = await create_tenant(hub.services, "Other shop")
    claims = claims_of(hub.tenant.token("buyer-1"))
    client = await hub.open()
    await client.send({"type": "auth", "token": resigned_token(claims, other.creds.signing_secret)})
    await refused_with(client, "token_invalid")


async def test_token_within_leeway_is_accepted(hub: Hub) -> None:
    # Expired 10 s ago, within the 30 s leeway: still accepted (clock skew).
    token = mint(hub.tenant, now=datetime.now(UTC) - timedelta(minutes=15, seconds=10))
    client = await hub.connect("buyer-1", token=token)
    await assert_alive(client)


async def test_second_auth_frame_is_refused_but_harmless(hub: Hub) -> None:
    client = await hub.connect("buyer-1")
    await client.send({"type": "auth", "token": hub.tenant.token("seller-1", "seller"), "ref": "a"})
    error = await client.recv()
    assert error == {
        "type": "error",
        "code": "already_authenticated",
        "detail": "this connection is already authenticated",
        "ref": "a",
    }
    await assert_alive(client)
