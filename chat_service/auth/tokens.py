"""User tokens: HS256 JWTs signed with the tenant's signing secret.

Claims: ``iss`` (tenant id), ``aud`` (the service's audience), ``sub`` (user id),
``name``, ``email`` (optional), ``role`` (buyer/seller/staff), ``iat``, ``exp``.

The algorithm is pinned in code and the key comes from the tenant record
named by ``iss``, never from the token's header. Expiry is checked against the
injected clock, and tokens may not live longer than the configured maximum.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from pydantic import ValidationError

from chat_service.auth.principals import Role, UserPrincipal
from chat_service.clock import Clock
from chat_service.errors import Unauthenticated

__all__ = ["ALGORITHM", "TokenVerifier", "mint_user_token"]

ALGORITHM = "HS256"
_TENANT_ID = re.compile(r"^t_[0-9a-f]{16}$")
_MAX_TOKEN_BYTES = 4096

SecretLookup = Callable[[str], Awaitable[str | None]]


def mint_user_token(
    *,
    tenant_id: str,
    signing_secret: str,
    audience: str,
    user_id: str,
    name: str,
    role: Role,
    email: str | None = None,
    lifetime: timedelta = timedelta(minutes=15),
    now: datetime | None = None,
) -> str:
    """What a marketplace backend does to identify a user (also used by ``chat-service token``)."""
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": tenant_id,
        "aud": audience,
        "sub": user_id,
        "name": name,
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    if email is not None:
        claims["email"] = email
    return jwt.encode(claims, signing_secret, algorithm=ALGORITHM)


class TokenVerifier:
    def __init__(
        self,
        secret_lookup: SecretLookup,
        *,
        audience: str,
        clock: Clock,
        max_lifetime: timedelta,
        leeway: timedelta = timedelta(seconds=30),
    ) -> None:
        self._lookup = secret_lookup
        self._audience = audience
        self._clock = clock
        self._max_lifetime = max_lifetime
        self._leeway = leeway

    async def verify(self, token: object, *, tenant_hint: str | None = None) -> UserPrincipal:
        if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_BYTES:
            raise Unauthenticated("token is missing or malformed", code="token_invalid")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthenticated("token is malformed", code="token_invalid") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("token algorithm is not accepted", code="token_invalid")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or not _TENANT_ID.fullmatch(issuer):
            raise Unauthenticated("token issuer is not a marketplace", code="token_invalid")
        if tenant_hint is not None and issuer != tenant_hint:
            raise Unauthenticated("token belongs to another marketplace", code="token_invalid")
        secret = await self._lookup(issuer)
        if secret is None:
            raise Unauthenticated("token issuer is unknown", code="token_invalid")
        try:
            claims = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=issuer,
                options={
                    "require": ["exp", "iat", "iss", "aud", "sub"],
                    # Time is checked below against the injected clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(f"token rejected: {exc}", code="token_invalid") from None
        return self._principal(issuer, claims)

    def _principal(self, tenant: str, claims: dict[str, Any]) -> UserPrincipal:
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise Unauthenticated("token times must be integers", code="token_invalid")
        now = self._clock.now().timestamp()
        leeway = self._leeway.total_seconds()
        if exp <= now - leeway:
            raise Unauthenticated("token has expired", code="token_expired")
        if iat > now + leeway:
            raise Unauthenticated("token is issued in the future", code="token_invalid")
        nbf = claims.get("nbf")
        if nbf is not None and (not isinstance(nbf, int) or nbf > now + leeway):
            raise Unauthenticated("token is not valid yet", code="token_invalid")
        if exp - iat > self._max_lifetime.total_seconds():
            raise Unauthenticated(
                "token lifetime exceeds the allowed maximum", code="token_invalid"
            )
        try:
            return UserPrincipal(
                tenant=tenant,
                user_id=claims["sub"],
                name=claims.get("name") or claims["sub"],
                email=claims.get("email"),
                role=claims.get("role"),
                expires_at=datetime.fromtimestamp(exp, UTC),
            )
        except ValidationError as exc:
            fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e["loc"])
            raise Unauthenticated(
                f"token claims are invalid: {fields}", code="token_invalid"
            ) from None
