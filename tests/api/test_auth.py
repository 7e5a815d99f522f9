"""Who may call what: server keys, user tokens, and every way a credential fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chat_service.auth.tokens import mint_user_token
from tests.api.conftest import BUYER, Api, assert_problem, order_body
from tests.fixtures.app import create_tenant


async def test_server_key_creates_then_finds_the_conversation_of_a_subject(api: Api) -> None:
    first = await api.server.post("/v1/conversations", json=order_body("77"))
    assert first.status_code == 201, first.text
    created = first.json()
    assert created["subject_type"] == "order"
    assert created["subject_id"] == "77"
    assert created["last_seq"] == 0
    assert [p["user_id"] for p in created["participants"]] == ["buyer-1", "seller-1"]

    again = await api.server.post(
        "/v1/conversations", json=order_body("77", ("seller-1", "seller"), ("staff-9", "staff"))
    )
    assert again.status_code == 200, again.text
    found = again.json()
    assert found["id"] == created["id"]
    # Participants merged: the new one added, nobody listed twice, nobody dropped.
    assert [p["user_id"] for p in found["participants"]] == ["buyer-1", "seller-1", "staff-9"]
    assert await api.db["conversations"].count_documents({}) == 1

    other_subject = await api.server.post(
        "/v1/conversations", json={**order_body("77"), "subject_type": "quote"}
    )
    assert other_subject.status_code == 201
    assert other_subject.json()["id"] != created["id"]


async def test_a_user_token_cannot_open_conversations(api: Api) -> None:
    response = await api.user(BUYER).post("/v1/conversations", json=order_body())
    assert_problem(response, 403, "server_required")
    assert await api.db["conversations"].count_documents({}) == 0


async def test_a_server_key_cannot_use_user_only_endpoints(api: Api) -> None:
    conv_id = await api.open_order()
    assert_problem(await api.server.get("/v1/conversations"), 403, "user_required")
    response = await api.server.post(f"/v1/conversations/{conv_id}/read", json={"seq": 0})
    assert_problem(response, 403, "user_required")


def _expired_token(api: Api) -> str:
    return mint_user_token(
        tenant_id=api.tenant.id,
        signing_secret=api.tenant.creds.signing_secret,
        audience=api.tenant.settings.jwt_audience,
        user_id=BUYER,
        name="Buyer",
        role="buyer",
        lifetime=timedelta(minutes=15),
        now=datetime.now(UTC) - timedelta(hours=1),
    )


def _token_signed_with(
    api: Api, secret: str, *, tenant_id: str | None = None, audience: str | None = None
) -> str:
    return mint_user_token(
        tenant_id=tenant_id or api.tenant.id,
        signing_secret=secret,
        audience=audience or api.tenant.settings.jwt_audience,
        user_id=BUYER,
        name="Buyer",
        role="buyer",
    )


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("garbage", "token_invalid"),
        ("expired", "token_expired"),
        ("other_tenant_secret", "token_invalid"),
        ("unknown_tenant", "token_invalid"),
        ("wrong_audience", "token_invalid"),
        ("other_tenant_server_key", "credential_invalid"),
        ("forged_server_key", "credential_invalid"),
        ("malformed_server_key", "credential_invalid"),
    ],
)
async def test_bad_credentials_get_401_problem(api: Api, case: str, code: str) -> None:
    conv_id = await api.open_order()
    other = await create_tenant(api.live.services, "Other shop")
    other_key_body = other.creds.server_key.removeprefix(f"sk_{other.id}_")
    tokens = {
        "garbage": "not.a.jwt",
        "expired": _expired_token(api),
        # Claims to be our tenant, signed with another tenant's secret.
        "other_tenant_secret": _token_signed_with(api, other.creds.signing_secret),
        "unknown_tenant": _token_signed_with(
            api, api.tenant.creds.signing_secret, tenant_id="t_" + "0" * 16
        ),
        "wrong_audience": _token_signed_with(
            api, api.tenant.creds.signing_secret, audience="someone-else"
        ),
        # The other tenant's key body under our tenant's id, and a guessed one.
        "other_tenant_server_key": f"sk_{api.tenant.id}_{other_key_body}",
        "forged_server_key": f"sk_{api.tenant.id}_{'A' * 48}",
        "malformed_server_key": "sk_{$ne:null}",
    }
    client = api.client(tokens[case])
    for response in (
        await client.get(f"/v1/conversations/{conv_id}"),
        await client.get(f"/v1/conversations/{conv_id}/messages"),
        await client.post(
            f"/v1/conversations/{conv_id}/messages", json={"client_msg_id": "x1", "text": "hi"}
        ),
    ):
        assert_problem(response, 401, code)
        assert response.headers["www-authenticate"] == "Bearer"
    assert await api.db["messages"].count_documents({}) == 0


async def test_missing_or_non_bearer_credentials_get_401(api: Api) -> None:
    conv_id = await api.open_order()
    anonymous = api.client()
    for response in (
        await anonymous.get("/v1/conversations"),
        await anonymous.get(f"/v1/conversations/{conv_id}"),
        await anonymous.post("/v1/conversations", json=order_body("5")),
        await anonymous.get(
            f"/v1/conversations/{conv_id}",
            headers={"Authorization": f"Basic {api.tenant.creds.server_key}"},
        ),
        await anonymous.get(f"/v1/conversations/{conv_id}", headers={"Authorization": "Bearer"}),
    ):
        assert_problem(response, 401, "not_authenticated")
    assert await api.db["conversations"].count_documents({}) == 1


async def test_a_token_of_another_tenant_sees_nothing_here(api: Api) -> None:
    conv_id = await api.open_order()
    other = await create_tenant(api.live.services, "Other shop")
    # The same user id, but of another marketplace: a different person.
    stranger = api.client(other.token(BUYER))
    assert_problem(await stranger.get(f"/v1/conversations/{conv_id}"), 404, "not_found")
    listed = await stranger.get("/v1/conversations")
    assert listed.status_code == 200
    assert listed.json() == []
    other_server = api.client(other.creds.server_key)
    response = await other_server.post(
        f"/v1/conversations/{conv_id}/messages", json={"client_msg_id": "x1", "text": "hi"}
    )
    assert_problem(response, 404, "not_found")
    assert await api.db["messages"].count_documents({}) == 0
