"""The ``chat-service`` command, run as operators run it: a real process with
``CHAT_*`` variables pointing at the session's real store and Redis."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator

import jwt
import pytest
from pymongo import AsyncMongoClient

from chat_service.config import Settings
from chat_service.crypto.cipher import RecordRef
from chat_service.services import Services
from chat_service.tenants.schemas import TenantCreate
from tests.fixtures.app import LiveServer, drop_database, make_settings, random_kek
from tests.fixtures.processes import chat_env, run_cli
from tests.fixtures.servers import RealServers

_CREATED = re.compile(
    r"tenant id:\s+(?P<tenant>t_[0-9a-f]{16})\n"
    r"signing secret:\s+(?P<secret>\S+)\n"
    r"server key:\s+(?P<key>sk_\S+)\n"
)


def _create_tenant(settings: Settings, name: str, *origins: str) -> dict[str, str]:
    args = ["tenant", "create", "--name", name]
    for origin in origins:
        args += ["--origin", origin]
    result = run_cli(*args, env=chat_env(settings))
    assert result.returncode == 0, result.stderr
    match = _CREATED.search(result.stdout)
    assert match is not None, result.stdout
    assert "not shown again" in result.stdout
    return match.groupdict()


async def test_tenant_create_token_and_list_work_against_the_real_service(
    settings: Settings, live: LiveServer
) -> None:
    created = _create_tenant(settings, "Oak Chairs Ltd", "https://shop.example")
    assert created["key"].startswith(f"sk_{created['tenant']}_")

    result = run_cli(
        "token",
        "--tenant",
        created["tenant"],
        "--secret",
        created["secret"],
        "--user",
        "u1",
        "--role",
        "buyer",
        "--data-dir",
        "/nonexistent",
        env=chat_env(),  # needs no store: everything is on the command line
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["role"]) == (created["tenant"], "u1", "buyer")
    assert claims["exp"] - claims["iat"] == 15 * 60

    # The backend (server key) opens a conversation with u1; u1's CLI token sees it.
    async with live.http(created["key"]) as backend:
        opened = await backend.post(
            "/v1/conversations",
            json={
                "subject_type": "order",
                "subject_id": "1",
                "participants": [{"user_id": "u1", "role": "buyer", "display_name": "U1"}],
            },
        )
        assert opened.status_code == 201, opened.text
    async with live.http(token) as user:
        listed = await user.get("/v1/conversations")
        assert listed.status_code == 200, listed.text
        assert [c["id"] for c in listed.json()] == [opened.json()["id"]]

    # Without --secret the command reads the signing secret from the store.
    result = run_cli(
        "token", "--tenant", created["tenant"], "--user", "u1", "--role", "buyer",
        "--data-dir", "/nonexistent", env=chat_env(settings),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    async with live.http(result.stdout.strip()) as user:
        assert (await user.get("/v1/conversations")).status_code == 200

    listing = run_cli("tenant", "list", env=chat_env(settings))
    assert listing.returncode == 0, listing.stderr
    assert f"{created['tenant']}  Oak Chairs Ltd  origins=https://shop.example" in listing.stdout
    # Secrets are shown once, at creation, never in a listing.
    assert created["secret"] not in listing.stdout
    assert created["key"] not in listing.stdout


async def test_inexact_origins_are_refused_with_a_message(
    settings: Settings, services: Services
) -> None:
    env = chat_env(settings)
    tenants = services.stores.db["tenants"]
    result = run_cli(
        "tenant", "create", "--name", "X", "--origin", "https://shop.example/*", env=env
    )  # fmt: skip
    assert result.returncode != 0
    assert "invalid tenant" in result.stderr
    assert "not an exact origin" in result.stderr
    assert "Traceback" not in result.stderr
    assert await tenants.count_documents({}) == 0

    created = await services.tenants.create(TenantCreate(name="Shop", origins=[]))
    result = run_cli(
        "tenant", "set-origins", created.tenant_id, "--origin", "https://*.example", env=env
    )  # fmt: skip
    assert result.returncode != 0
    assert "not an exact origin" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_cli(
        "tenant", "set-origins", created.tenant_id, "--origin", "https://Shop.Example", env=env
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    stored = await tenants.find_one({"_id": created.tenant_id})
    assert stored is not None
    assert stored["origins"] == ["https://shop.example"]
    unknown = run_cli("tenant", "set-origins", "t_" + "0" * 16, env=env)
    assert unknown.returncode != 0
    assert "no tenant" in unknown.stderr


def test_keys_generate_prints_32_random_bytes_of_base64() -> None:
    keys = []
    for _ in range(2):
        result = run_cli("keys", "generate", env=chat_env())
        assert result.returncode == 0, result.stderr
        encoded = result.stdout.strip()
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            pytest.fail(f"not base64: {encoded!r}")
        assert len(raw) == 32
        keys.append(encoded)
    assert keys[0] != keys[1]
    # Usable as it is printed.
    assert Settings(environment="production", keks=f"1:{keys[0]}").kek_map()[1] == base64.b64decode(
        keys[0]
    )


@pytest.fixture
async def fresh_settings(real_servers: RealServers) -> AsyncIterator[Settings]:
    settings = make_settings(real_servers)
    yield settings
    await drop_database(settings)


async def test_migrate_creates_the_indexes_and_can_run_again(fresh_settings: Settings) -> None:
    for _ in range(2):
        result = run_cli("migrate", env=chat_env(fresh_settings))
        assert result.returncode == 0, result.stderr
        assert "indexes are in place" in result.stdout
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(fresh_settings.mongo_url)
    try:
        db = client[fresh_settings.mongo_db]
        conversations = await db["conversations"].index_information()
        messages = await db["messages"].index_information()
    finally:
        await client.close()
    assert conversations["subject"].get("unique") is True
    assert messages["conv_seq"].get("unique") is True
    assert messages["conv_idem"].get("unique") is True


@pytest.mark.parametrize(
    ("keks", "expected"),
    [
        (None, "CHAT_KEKS is required"),
        ("", "CHAT_KEKS is required"),
        (f"1:dev-{random_kek()}", "development key-encryption key"),
        ("1:c2hvcnQ=", "must be 32 bytes"),
        ("1:not base64!", "not valid base64"),
    ],
)
def test_serve_refuses_to_start_in_production_without_real_keys(
    real_servers: RealServers, keks: str | None, expected: str
) -> None:
    env = chat_env(
        CHAT_ENVIRONMENT="production",
        CHAT_MONGO_URL=real_servers.store.url,
        CHAT_REDIS_URL=real_servers.redis.url,
        CHAT_HOST="127.0.0.1",
        CHAT_PORT="1",  # never bound: it must stop before listening
    )
    if keks is not None:
        env["CHAT_KEKS"] = keks
    result = run_cli("serve", env=env, timeout=20)
    assert result.returncode != 0
    assert "configuration error" in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


async def test_keys_rotate_rewraps_and_is_audited(settings: Settings, services: Services) -> None:
    await services.cipher.encrypt(
        RecordRef(tenant="t_1", collection="messages", record_id="m_1", field="text"),
        "hello",
        scope="user:u1",
        moment=services.clock.now(),
    )
    old = settings.keks.get_secret_value()
    keks = f"{old},2:{random_kek()}"
    result = run_cli("keys", "rotate", env=chat_env(settings, CHAT_KEKS=keks))
    assert result.returncode == 0, result.stderr
    assert "1 re-wrapped under key-encryption key version 2" in result.stdout
    page = await services.audit.search("_system")
    assert [(e.action, e.target_id, e.details["rewrapped"]) for e in page.entries] == [
        ("keys.rotated", "v2", 1)
    ]
