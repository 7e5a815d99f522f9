"""Errors as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from chat_service.errors import ChatError, RateLimited

__all__ = ["document_problems", "install_problem_handlers", "problem"]

log = logging.getLogger(__name__)


def problem(status: int, code: str, detail: str, title: str | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "type": f"urn:chat:error:{code}",
            "title": title or code.replace("_", " "),
            "status": status,
            "code": code,
            "detail": detail,
        },
        status_code=status,
        media_type=PROBLEM_JSON,
    )


PROBLEM_JSON = "application/problem+json"

# The answers any operation may give as problem details (``ChatError`` and the
# handlers below); 401 only where the operation takes credentials.
_ANY_OPERATION = {
    "400": "Bad request",
    "403": "Not allowed for this caller (or a link's token is not valid)",
    "404": "Not found (also what the caller may not see)",
    "409": "Conflict with the current state",
    "410": "Gone (expired link, destroyed data)",
    "413": "Body too large",
    "415": "Unsupported media type",
    "422": "Invalid request",
    "429": "Rate limited (see Retry-After)",
    "503": "A backing store is unavailable; retry (see Retry-After)",
}
_SECURED_OPERATION = {"401": "Missing or invalid credentials"}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; ``code`` is stable, ``detail`` is for humans.",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
    },
    "required": ["type", "title", "status", "code", "detail"],
}


def document_problems(app: FastAPI) -> None:
    """Make ``/openapi.json`` list the problem-details answers of every operation
    (FastAPI alone documents only the 422 of its own validation, in another shape)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = _PROBLEM_SCHEMA
        content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                answers = dict(_ANY_OPERATION)
                if operation.get("security"):
                    answers.update(_SECURED_OPERATION)
                responses = operation.setdefault("responses", {})
                for status, description in answers.items():
                    responses[status] = {"description": description, "content": content}
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(ChatError)
    async def _chat_error(request: Request, exc: ChatError) -> JSONResponse:
        _count(request, exc.code)
        response = problem(exc.status, exc.code, exc.detail)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after + 0.999)))
        if exc.status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        _count(request, "invalid_request")
        parts = []
        for error in exc.errors()[:5]:
            where = ".".join(str(p) for p in error.get("loc", ()))
            parts.append(f"{where}: {error.get('msg')}")
        return problem(422, "invalid_request", "; ".join(parts) or "request is invalid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        _count(request, code)
        return problem(exc.status_code, code, str(exc.detail))

    @app.exception_handler(RedisError)
    @app.exception_handler(PyMongoError)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        log.warning(
            "a store is unavailable on %s %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
        )
        _count(request, "unavailable")
        response = problem(503, "unavailable", "a backing store is unavailable; try again")
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        _count(request, "internal_error")
        return problem(500, "internal_error", "the server could not complete the request")


def _count(request: Request, code: str) -> None:
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.http_errors.labels(code).inc()
