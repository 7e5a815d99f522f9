"""Helpers for the console tests: an app with its lifespan, staff, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from fastapi import FastAPI

from admin.app import create_app
from admin.config import AdminSettings
from admin.deps import Console
from admin.subjects import SubjectsFactory
from chat_service.clock import Clock
from chat_service.config import Settings
from tests.fixtures.app import TenantKit, create_tenant

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_SIGN_IN = re.compile(r'name="sign_in_token" value="([^"]+)"')


def admin_settings(settings: Settings, **overrides: object) -> AdminSettings:
    values = {
        **settings.model_dump(),
        "keks": settings.keks,
        "admin_cookie_secure": False,
        **overrides,
    }
    return AdminSettings(**values)


@dataclass
class ConsoleKit:
    app: FastAPI
    settings: AdminSettings

    @property
    def console(self) -> Console:
        console: Console = self.app.state.console
        return console

    def client(self, scheme: str = "http") -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app),
            base_url=f"{scheme}://admin.test",
            follow_redirects=False,
            timeout=20,
        )

    async def tenant(self, name: str = "Shop") -> TenantKit:
        return await create_tenant(self.console.services, name)

    async def staff(self, tenant: str, login: str, role: str) -> str:
        _, password = await self.console.staff.create(tenant, login, role)
        return password

    @asynccontextmanager
    async def signed_in(
        self, tenant: str, login: str, role: str
    ) -> AsyncIterator[httpx.AsyncClient]:
        password = await self.staff(tenant, login, role)
        async with self.client() as client:
            response = await sign_in(client, tenant, login, password)
            assert response.status_code == 303, response.text
            yield client


@asynccontextmanager
async def running_console(
    settings: AdminSettings, clock: Clock | None = None, subjects: SubjectsFactory | None = None
) -> AsyncIterator[ConsoleKit]:
    app = create_app(settings, clock=clock, subjects_factory=subjects)
    async with app.router.lifespan_context(app):
        yield ConsoleKit(app=app, settings=settings)


async def sign_in(
    client: httpx.AsyncClient, tenant: str, login: str, password: str
) -> httpx.Response:
    page = await client.get("/sign-in")
    token = _SIGN_IN.search(page.text)
    assert token, page.text
    return await client.post(
        "/sign-in",
        data={
            "sign_in_token": token.group(1),
            "tenant": tenant,
            "login": login,
            "password": password,
        },
    )


async def csrf_of(client: httpx.AsyncClient, path: str = "/policy") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1)
