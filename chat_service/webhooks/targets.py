"""Which webhook URLs the service may call (SSRF guard); pure except :func:`resolve`.

Production: ``https`` only, and never a host that is or resolves to a
loopback, private, link-local, multicast, reserved or unspecified address
(cloud metadata endpoints such as 169.254.169.254 included). Development and
test also allow ``http`` to ``127.0.0.1``, ``::1`` and ``localhost``, so a
local receiver can be used. The name is checked when the URL is set and its
addresses again before every delivery (a name may be re-pointed later).
Residual risk: the name is resolved again by the HTTP client when it
connects, so a DNS answer that changes within that instant is not caught.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Literal
from urllib.parse import urlsplit

from chat_service.errors import BadRequest

__all__ = ["Environment", "check_addresses", "check_url", "resolve"]

Environment = Literal["development", "test", "production"]
MAX_URL_CHARS = 2000
_LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def _refused(detail: str) -> BadRequest:
    return BadRequest(detail, code="webhook_url_refused")


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def check_url(url: str, environment: Environment) -> str:
    """The URL if the service may call it, else ``webhook_url_refused`` (400)."""
    if len(url) > MAX_URL_CHARS or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise _refused("the URL is too long or holds spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refused("the URL is not valid") from None
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise _refused("the URL must be an https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise _refused("the URL must not carry a user name or password")
    if parts.fragment:
        raise _refused("the URL must not have a #fragment")
    if port == 0:
        raise _refused("the URL's port is not valid")
    local = host in _LOCAL_NAMES
    if environment != "production" and local:
        return url
    if parts.scheme != "https":
        raise _refused("the URL must use https://")
    address = _ip(host)
    if local or host.endswith((".localhost", ".local", ".internal")):
        raise _refused("the URL must name a public host")
    if address is not None and not _public(address):
        raise _refused("the URL must not point at a private, loopback or link-local address")
    return url


def check_addresses(addresses: list[str], environment: Environment) -> None:
    """Refuse to call a host that resolved to any non-public address (production)."""
    if environment != "production":
        return
    if not addresses:
        raise _refused("the webhook host did not resolve")
    for text in addresses:
        address = _ip(text.split("%", 1)[0])
        if address is None or not _public(address):
            raise _refused("the webhook host resolves to a non-public address")


async def resolve(url: str) -> list[str]:
    """The addresses the URL's host resolves to (empty if it does not)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _ip(host) is not None:
        return [host]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos})
