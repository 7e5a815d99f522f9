"""Serves the widget's static files under ``/widget/``.

Only the files listed in ``STATIC_FILES`` are served (no path from the request
ever reaches the file system), each with its own content type, ``nosniff`` and
a short public cache: the widget has no versioned file names yet, so a deploy
reaches browsers within ``CACHE_SECONDS``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from starlette.responses import Response

from chat_service.errors import NotFound

__all__ = ["CACHE_SECONDS", "STATIC_FILES", "router"]

CACHE_SECONDS = 300
STATIC_FILES: dict[str, str] = {
    "widget.js": "text/javascript; charset=utf-8",
    "widget-extras.js": "text/javascript; charset=utf-8",
    "widget-seller.js": "text/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.js": "text/javascript; charset=utf-8",
    "demo.css": "text/css; charset=utf-8",
}

router = APIRouter(tags=["widget"])


@cache
def _read(name: str) -> bytes:
    return (files("chat_service.widget") / "static" / name).read_bytes()


def static_response(name: str) -> Response:
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise NotFound("no such widget file")
    return Response(
        _read(name),
        media_type=media_type,
        headers={
            "Cache-Control": f"public, max-age={CACHE_SECONDS}",
            "X-Content-Type-Options": "nosniff",
            # The host page loads these from another origin.
            "Cross-Origin-Resource-Policy": "cross-origin",
        },
    )


@router.get("/widget/{name}", include_in_schema=False)
async def widget_file(name: str) -> Response:
    """``widget.js``, ``widget-extras.js``, ``widget-seller.js``, ``widget.css`` (and the
    demo's own files)."""
    return static_response(name)
