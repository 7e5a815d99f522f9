"""``create_app(settings)``: the console's ASGI app, on its own port.

Server-rendered pages (Jinja2, autoescaped), plain CSS served by the app, no
scripts. Services are built in the lifespan from the same settings as the
chat service, so the console reads and writes the same store.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from admin.config import AdminSettings
from admin.deps import Console
from admin.pages import audit, auth, notifications, policy, reports, subjects
from admin.staff.repository import StaffRepository
from admin.staff.service import StaffService
from admin.subjects import SubjectsFactory, service_subjects
from admin.web import error_handler, security_headers
from chat_service.clock import Clock
from chat_service.errors import ChatError
from chat_service.services import build_services

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(
    settings: AdminSettings,
    *,
    clock: Clock | None = None,
    subjects_factory: SubjectsFactory | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings, clock=clock)
        staff_repo = StaffRepository(services.stores.db)
        await services.ensure_indexes()
        await staff_repo.ensure_indexes()
        staff = StaffService(
            staff_repo,
            audit=services.audit,
            policies=services.policies,
            clock=services.clock,
            settings=settings,
        )
        app.state.console = Console(
            settings=settings,
            services=services,
            staff=staff,
            subjects=(subjects_factory or service_subjects)(services),
        )
        log.info("admin console ready (%s)", settings.environment)
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(
        title="Marketplace chat console",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(ChatError, error_handler)
    app.add_exception_handler(StarletteHTTPException, error_handler)
    app.middleware("http")(security_headers)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (auth, policy, audit, notifications, reports, subjects):
        app.include_router(module.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
