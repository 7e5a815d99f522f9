"""``python -m admin``: create a staff account, serve the console; real processes."""

from __future__ import annotations

import asyncio
import re
import sys

import httpx

from chat_service.config import Settings
from chat_service.embedded.servers import free_port
from tests.admin.kit import ConsoleKit, sign_in
from tests.fixtures.processes import chat_env


async def run_admin(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "admin",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode(), err.decode()


async def test_create_staff_prints_a_password_that_signs_in(
    kit: ConsoleKit, settings: Settings
) -> None:
    tenant = await kit.tenant()
    env = chat_env(settings)
    args = ("create-staff", "--tenant", tenant.id, "--login", "Officer@Shop.test")
    code, out, err = await run_admin(*args, "--role", "compliance_officer", env=env)
    assert code == 0, err
    password = re.search(r"password \(shown once\): (\S+)", out)
    assert password
    stored = await kit.console.services.stores.db["staff_users"].find_one({"tenant": tenant.id})
    assert stored is not None
    assert password.group(1) not in str(stored)
    assert stored["password_hash"].startswith("$argon2id$")
    async with kit.client() as client:
        response = await sign_in(client, tenant.id, "officer@shop.test", password.group(1))
        assert response.status_code == 303
    again = await run_admin(*args, "--role", "viewer", env=env)
    assert again[0] == 2
    assert "exists" in again[2]
    unknown = await run_admin(
        "create-staff", "--tenant", "t_nope", "--login", "x@y.z", "--role", "viewer", env=env
    )
    assert unknown[0] == 2
    assert "no marketplace" in unknown[2]


async def test_serve_answers_on_the_admin_port(settings: Settings) -> None:
    port = free_port()
    env = chat_env(settings, CHAT_ADMIN_PORT=str(port))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "admin",
        "serve",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):
                try:
                    response = await client.get("/sign-in")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the console did not start")
        assert response.status_code == 200
        assert "Staff sign-in" in response.text
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), timeout=15)
