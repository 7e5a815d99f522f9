"""``chat-service audit verify`` as operators run it: a real process."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from chat_service.audit import SYSTEM_TENANT, AuditLog
from chat_service.config import Settings
from tests.audit.conftest import TENANT, record_views
from tests.fixtures.processes import chat_env, run_cli


async def test_verify_reports_intact_chains_then_the_broken_link(
    settings: Settings, audit: AuditLog, raw: AsyncCollection[dict[str, Any]]
) -> None:
    env = chat_env(settings)
    await record_views(audit, TENANT, 3)
    await record_views(audit, SYSTEM_TENANT, 2)
    head = (await audit.search(TENANT)).entries[0].hash

    result = run_cli("audit", "verify", env=env)
    assert result.returncode == 0, result.stderr
    assert f"{TENANT}: ok, 3 entries, head 3 sha256:{head}" in result.stdout
    assert f"{SYSTEM_TENANT}: ok, 2 entries" in result.stdout
    assert "done: 2 chains, 5 entries checked, 0 broken" in result.stdout
    assert "entries checked" in result.stderr  # progress

    one = run_cli("audit", "verify", "--tenant", TENANT, env=env)
    assert one.returncode == 0, one.stderr
    assert "done: 1 chain, 3 entries checked, 0 broken" in one.stdout
    assert SYSTEM_TENANT not in one.stdout

    await raw.update_one({"tenant": TENANT, "seq": 2}, {"$set": {"details.ticket": "ZD-0"}})
    broken = run_cli("audit", "verify", env=env)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"{TENANT}: BROKEN at entry 2 (hash_mismatch)" in broken.stdout
    assert "1 entries intact before it" in broken.stdout
    assert "done: 2 chains, 3 entries checked, 1 broken" in broken.stdout
    assert "Traceback" not in broken.stderr
    # The other chain still holds on its own.
    system = run_cli("audit", "verify", "--tenant", SYSTEM_TENANT, env=env)
    assert system.returncode == 0, system.stdout


async def test_verify_of_an_empty_store_and_of_a_bad_tenant(settings: Settings) -> None:
    env = chat_env(settings)
    empty = run_cli("audit", "verify", env=env)
    assert empty.returncode == 0, empty.stderr
    assert "no audit entries in the store" in empty.stdout
    bad = run_cli("audit", "verify", "--tenant", "$where", env=env)
    assert bad.returncode == 2
    assert "cannot check the audit log" in bad.stderr
    assert "Traceback" not in bad.stderr
