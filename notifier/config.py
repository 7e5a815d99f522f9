"""Settings of the notifier (SMTP, sender, timings), from ``CHAT_*`` variables.

Kept apart from ``chat_service.config.Settings`` until those fields move
there; the names are the ones they will have. Refuses plaintext SMTP
credentials over an unencrypted connection outside development.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.utils import parseaddr
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["NotifierSettings"]


class NotifierSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "production"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    # Implicit TLS (port 465) or STARTTLS (port 587); at most one.
    smtp_tls: bool = False
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # The name this host gives in EHLO; None asks the OS (socket.getfqdn, blocking).
    smtp_local_hostname: str | None = None
    smtp_timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    mail_from: str = "Marketplace <notifications@marketplace.invalid>"

    # Timings of the away-email pipeline.
    dispatch_interval_seconds: float = Field(default=15.0, gt=0, le=3600)
    dispatch_batch: int = Field(default=200, ge=1, le=10_000)
    # How long a claim or a send may take before another worker may act on it.
    claim_lease_seconds: int = Field(default=300, ge=10, le=86_400)
    send_max_retries: int = Field(default=8, ge=0, le=50)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=3600.0, gt=0)
    # Limits of one email (SECURITY.md: every limit configurable).
    email_max_messages: int = Field(default=20, ge=1, le=200)
    email_max_text_chars: int = Field(default=2000, ge=50, le=100_000)
    link_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=3600)

    @model_validator(mode="after")
    def _check(self) -> NotifierSettings:
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("CHAT_SMTP_TLS and CHAT_SMTP_STARTTLS exclude each other")
        if not parseaddr(self.mail_from)[1]:
            raise ValueError("CHAT_MAIL_FROM must hold an e-mail address")
        if (
            self.environment == "production"
            and self.smtp_username
            and not (self.smtp_tls or self.smtp_starttls)
        ):
            raise ValueError("SMTP credentials need CHAT_SMTP_TLS or CHAT_SMTP_STARTTLS")
        return self

    def sender(self) -> Address:
        name, address = parseaddr(self.mail_from)
        user, _, domain = address.partition("@")
        return Address(display_name=name, username=user, domain=domain)

    @property
    def mail_domain(self) -> str:
        return self.sender().domain or "localhost"
