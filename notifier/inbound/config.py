"""Settings of the inbound half, from ``CHAT_*`` variables.

Refuses to start outside development without a reply domain, and with a
webhook enabled but no (or a short) shared secret.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["InboundSettings"]

_MIN_SECRET_CHARS = 32


class InboundSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "production"

    # Reply addresses are reply+<token>@<reply_domain>; the MX of this domain
    # points at the listener (or at the provider that calls the webhook).
    reply_domain: str = Field(default="reply.localhost", pattern=r"^[A-Za-z0-9.-]{1,253}$")
    reply_token_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600, le=366 * 24 * 3600)

    # Limits of one inbound email (SECURITY.md: size, part count, nesting).
    inbound_max_bytes: int = Field(default=2 * 1024 * 1024, ge=4096, le=50 * 1024 * 1024)
    inbound_max_parts: int = Field(default=50, ge=1, le=1000)
    inbound_max_depth: int = Field(default=5, ge=1, le=50)
    inbound_max_headers: int = Field(default=300, ge=20, le=5000)
    # Text given to the quote stripper at most (its time grows with the input).
    inbound_max_text_chars: int = Field(default=100_000, ge=1000, le=1_000_000)

    # The listeners; loopback by default (an MX relay or proxy sits in front).
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = Field(default=2525, ge=0, le=65535)
    inbound_http_host: str = "127.0.0.1"
    inbound_http_port: int = Field(default=8025, ge=0, le=65535)
    # HMAC-SHA256 key the provider signs webhook calls with; None: no webhook.
    inbound_webhook_secret: SecretStr | None = None
    inbound_webhook_max_skew_seconds: int = Field(default=300, ge=10, le=3600)

    @model_validator(mode="after")
    def _check(self) -> InboundSettings:
        secret = self.inbound_webhook_secret
        if secret is not None and len(secret.get_secret_value()) < _MIN_SECRET_CHARS:
            raise ValueError(f"CHAT_INBOUND_WEBHOOK_SECRET needs {_MIN_SECRET_CHARS}+ characters")
        if self.environment == "production" and self.reply_domain.endswith("localhost"):
            raise ValueError("CHAT_REPLY_DOMAIN is required in production")
        return self
