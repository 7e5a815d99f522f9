"""FastAPI dependencies as named types: who is calling, and the services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.errors import Forbidden, Unauthenticated
from chat_service.services import Services

__all__ = ["AnyActor", "CurrentServer", "CurrentUser", "ServicesDep"]

_bearer = HTTPBearer(auto_error=False, description="A user token (JWT) or a server key (sk_...)")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_actor(
    services: ServicesDep, credentials: Credentials
) -> UserPrincipal | ServerPrincipal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("send 'Authorization: Bearer <token>'")
    token = credentials.credentials
    if token.startswith("sk_"):
        tenant = await services.tenants.authenticate_server_key(token)
        return ServerPrincipal(tenant=tenant.id)
    return await services.verifier.verify(token)


AnyActor = Annotated[UserPrincipal | ServerPrincipal, Depends(get_actor)]


async def get_user(actor: AnyActor) -> UserPrincipal:
    if not isinstance(actor, UserPrincipal):
        raise Forbidden("this endpoint acts for a user; use a user token", code="user_required")
    return actor


async def get_server(actor: AnyActor) -> ServerPrincipal:
    if not isinstance(actor, ServerPrincipal):
        raise Forbidden(
            "this endpoint is for the marketplace backend; use a server key", code="server_required"
        )
    return actor


CurrentUser = Annotated[UserPrincipal, Depends(get_user)]
CurrentServer = Annotated[ServerPrincipal, Depends(get_server)]
