"""Settings of the console process: the service's ``CHAT_*`` settings plus the
console's own (``CHAT_ADMIN_*``). Built in ``main()`` or by a test."""

from __future__ import annotations

from pydantic import Field

from chat_service.config import Settings

__all__ = ["AdminSettings"]


class AdminSettings(Settings):
    admin_host: str = "127.0.0.1"
    admin_port: int = Field(default=8001, ge=0, le=65535)
    # None: Secure cookies everywhere except in development (plain http there).
    admin_cookie_secure: bool | None = None
    # Consecutive failed sign-ins for one login before it is locked, and for how long.
    admin_max_failed_sign_ins: int = Field(default=5, ge=1, le=100)
    admin_lockout_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # A session ends after this long even when active (idle timeout comes from the policy).
    admin_session_max_hours: int = Field(default=12, ge=1, le=72)
    # Response-time figures read at most this many messages per request.
    admin_report_max_messages: int = Field(default=20_000, ge=100, le=1_000_000)

    @property
    def cookie_secure(self) -> bool:
        if self.admin_cookie_secure is not None:
            return self.admin_cookie_secure
        return self.environment != "development"
