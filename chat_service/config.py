"""Settings of one service process, read from ``CHAT_*`` environment variables.

Built once in ``main()`` (or by a test) and passed down; nothing reads the
environment or connects at import time. Outside development the settings
refuse to start without real secrets.
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["DEV_KEK_MARKER", "Settings", "parse_keks"]

# A development key-encryption key is tagged so production can refuse it.
DEV_KEK_MARKER = "dev-"


def parse_keks(raw: str) -> dict[int, bytes]:
    """Parse ``"1:<base64 32 bytes>,2:<base64 32 bytes>"`` into ``{version: key}``."""
    keys: dict[int, bytes] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        version_text, sep, encoded = part.partition(":")
        if not sep or not version_text.isdigit():
            raise ValueError("each key-encryption key must look like '<version>:<base64>'")
        encoded = encoded.removeprefix(DEV_KEK_MARKER)
        try:
            key = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise ValueError(f"key-encryption key {version_text} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"key-encryption key {version_text} must be 32 bytes, got {len(key)}")
        if int(version_text) in keys:
            raise ValueError(f"key-encryption key version {version_text} given twice")
        keys[int(version_text)] = key
    return keys


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAT_", extra="ignore")

    environment: Literal["development", "test", "production"] = "production"

    # Where the service listens and how it names itself in links.
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"

    # Real parts.
    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_db: str = "chat"
    # Few connections serve better than many: the store slows down with idle ones
    # (bench/README.md), and the message batcher needs only one at a time.
    mongo_max_pool_size: int = Field(default=16, ge=1, le=1000)
    # How long a store call waits for a reachable store before it fails; a send
    # then gets the retryable `unavailable` (bench/README.md, store-restart drill).
    store_wait_seconds: float = Field(default=5.0, ge=0.2, le=60)
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_max_connections: int = Field(default=64, ge=4, le=10_000)
    redis_prefix: str = Field(default="chat", pattern=r"^[A-Za-z0-9_.-]{1,64}$")

    # Encryption at rest: versioned key-encryption keys, one of them primary.
    keks: SecretStr = SecretStr("")
    primary_kek_version: int | None = None

    # Tokens minted by marketplace backends.
    jwt_audience: str = "marketplace-chat"
    max_token_lifetime_seconds: int = Field(default=24 * 3600, gt=0)
    token_leeway_seconds: int = Field(default=30, ge=0, le=300)

    # Explicit limits (SECURITY.md: every limit configurable).
    ws_max_frame_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    # Frames read from one socket and not handled yet (a slow store); past it: unavailable.
    ws_max_waiting_frames: int = Field(default=32, ge=1, le=1024)
    max_message_chars: int = Field(default=4000, ge=1, le=100_000)
    send_rate_per_minute: int = Field(default=120, ge=1)
    typing_rate_per_minute: int = Field(default=60, ge=1)
    max_connections_per_user: int = Field(default=10, ge=1)
    max_subscriptions_per_connection: int = Field(default=50, ge=1)
    send_queue_frames: int = Field(default=256, ge=8)
    auth_timeout_seconds: float = Field(default=10.0, gt=0)
    heartbeat_interval_seconds: float = Field(default=20.0, gt=0)
    heartbeat_timeout_seconds: float = Field(default=20.0, gt=0)
    presence_ttl_seconds: int = Field(default=60, ge=5)
    http_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    history_page_max: int = Field(default=200, ge=1, le=1000)

    # Photos: hard caps (a marketplace's policy may set lower ones) and links.
    attachment_max_bytes: int = Field(default=15 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024)
    attachment_max_pixels: int = Field(default=40_000_000, ge=10_000, le=200_000_000)
    attachment_max_frames: int = Field(default=100, ge=1, le=10_000)
    attachment_link_ttl_seconds: int = Field(default=300, ge=10, le=24 * 3600)
    upload_rate_per_minute: int = Field(default=30, ge=1)
    # Processes that decode and re-encode photos, off the event loop.
    image_workers: int = Field(default=2, ge=1, le=64)

    # How old a process's copy of a marketplace's policy may be: a change is
    # obeyed everywhere within this many seconds, without a restart.
    policy_cache_seconds: float = Field(default=2.0, ge=0, le=60)

    # Bench-only: lets the benchmark measure the cost of encryption at rest.
    bench_disable_encryption: bool = False

    @field_validator("public_base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        keks = self.kek_map()  # raises on malformed keys in any environment
        if self.environment == "production":
            if not keks:
                raise ValueError("CHAT_KEKS is required in production")
            if DEV_KEK_MARKER in self.keks.get_secret_value():
                raise ValueError("a development key-encryption key cannot be used in production")
            if self.bench_disable_encryption:
                raise ValueError("CHAT_BENCH_DISABLE_ENCRYPTION is for benchmarks only")
        if keks and self.primary_version() not in keks:
            raise ValueError("CHAT_PRIMARY_KEK_VERSION names a key that CHAT_KEKS does not hold")
        return self

    def kek_map(self) -> dict[int, bytes]:
        return parse_keks(self.keks.get_secret_value())

    def primary_version(self) -> int:
        keks = self.kek_map()
        if self.primary_kek_version is not None:
            return self.primary_kek_version
        if not keks:
            raise ValueError("no key-encryption key configured")
        return max(keks)
