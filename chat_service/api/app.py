"""``create_app(settings)``: the HTTP + WebSocket ASGI app of one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.responses import JSONResponse, Response
from starlette.types import Scope

from chat_service import __version__
from chat_service.api.asgi import ChatApp
from chat_service.api.cors import OriginSource, TenantCors
from chat_service.api.limits import BodyLimit
from chat_service.api.problems import document_problems, install_problem_handlers
from chat_service.attachments.endpoints import router as attachments_router
from chat_service.attachments.endpoints import upload_path_pattern
from chat_service.clock import Clock, SystemClock
from chat_service.config import Settings
from chat_service.conversations.endpoints import router as conversations_router
from chat_service.dependencies import ServicesDep
from chat_service.logs import RequestIdMiddleware
from chat_service.notifications.endpoints import router as notifications_router
from chat_service.orders.bulk import BULK_MAX_BYTES
from chat_service.orders.endpoints import BULK_PATH_PATTERN
from chat_service.orders.endpoints import router as orders_router
from chat_service.quotes.endpoints import router as quotes_router
from chat_service.services import Services, build_services
from chat_service.webhooks.endpoints import router as webhooks_router
from chat_service.widget.demo import DemoConfig, install_demo
from chat_service.widget.endpoints import router as widget_router

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def _origin_source(scope: Scope) -> OriginSource | None:
    """Every marketplace's widget origins, once the app's services exist."""
    services: Services | None = getattr(scope["app"].state, "services", None)
    if services is None:
        return None
    tenants = services.tenants

    async def origins() -> set[str]:
        return {origin for tenant in await tenants.all_tenants() for origin in tenant.origins}

    return origins


def create_app(
    settings: Settings, *, clock: Clock | None = None, demo: DemoConfig | None = None
) -> FastAPI:
    """The app; ``demo`` (development only) adds the demo marketplace pages."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings, clock=clock)
        await services.ensure_indexes()
        await services.start_hub()
        app.state.services = services
        log.info("chat service ready (%s)", settings.environment)
        try:
            yield
        finally:
            await services.close()

    app = ChatApp(
        title="Marketplace chat",
        version=__version__,
        description="Order- and quote-bound chat. WebSocket protocol: see docs/protocol.md.",
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_problem_handlers(app)
    document_problems(app)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.http_max_body_bytes,
        larger=[
            (upload_path_pattern(), settings.attachment_max_bytes),
            (BULK_PATH_PATTERN, BULK_MAX_BYTES),
        ],
    )
    app.add_middleware(
        TenantCors, origins=_origin_source, monotonic=(clock or SystemClock()).monotonic
    )
    app.add_middleware(RequestIdMiddleware)
    app.include_router(conversations_router)
    app.include_router(attachments_router)
    app.include_router(quotes_router)
    app.include_router(orders_router)
    app.include_router(notifications_router)
    app.include_router(webhooks_router)
    app.include_router(widget_router)
    if demo is not None:
        install_demo(app, settings, demo)  # refuses production settings

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz(services: ServicesDep) -> JSONResponse:
        """Readiness: the store and Redis answer."""
        status = await services.stores.ping()
        ready = all(status.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": status},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics(services: ServicesDep) -> Response:
        # The notifier's queue, read from the store (the worker serves no HTTP).
        services.metrics.set_away_notifications(
            await services.notifications.repository.state_counts(services.clock.now())
        )
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    return app
