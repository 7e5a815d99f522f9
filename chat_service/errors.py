"""The error tree of the chat service.

Every error the service raises on purpose derives from :class:`ChatError`,
which carries an HTTP status and a stable machine-readable ``code``. HTTP
handlers turn it into problem details, the WebSocket hub into an ``error``
frame with the same code::

    ChatError
    ├── BadRequest            400  invalid_request, message_too_long, ...
    ├── Unauthenticated       401  not_authenticated, token_invalid, token_expired,
    │                              credential_invalid
    ├── Forbidden             403  forbidden, not_author, user_required, server_required
    ├── NotFound              404  not_found
    ├── Conflict              409  conflict
    ├── Gone                  410  gone (expired link, destroyed data)
    ├── PayloadTooLarge       413  payload_too_large, image_too_large
    ├── UnsupportedMedia      415  unsupported_media_type
    ├── RateLimited           429  rate_limited
    ├── IntegrityError        500  integrity_error (ciphertext failed authentication)
    └── Unavailable           503  unavailable (store or Redis down)
"""

from __future__ import annotations

__all__ = [
    "BadRequest",
    "ChatError",
    "Conflict",
    "Forbidden",
    "Gone",
    "IntegrityError",
    "NotFound",
    "PayloadTooLarge",
    "RateLimited",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedMedia",
]


class ChatError(Exception):
    """Root of every deliberate error; ``code`` is stable, ``detail`` is for humans."""

    status: int = 500
    code: str = "internal_error"

    def __init__(self, detail: str, *, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class BadRequest(ChatError):
    status = 400
    code = "invalid_request"


class Unauthenticated(ChatError):
    status = 401
    code = "not_authenticated"


class Forbidden(ChatError):
    status = 403
    code = "forbidden"


class NotFound(ChatError):
    """Also used for things that exist but the caller may not see."""

    status = 404
    code = "not_found"


class Conflict(ChatError):
    status = 409
    code = "conflict"


class Gone(ChatError):
    status = 410
    code = "gone"


class PayloadTooLarge(ChatError):
    status = 413
    code = "payload_too_large"


class UnsupportedMedia(ChatError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(ChatError):
    status = 429
    code = "rate_limited"

    def __init__(self, detail: str, *, retry_after: float = 1.0) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class IntegrityError(ChatError):
    status = 500
    code = "integrity_error"


class Unavailable(ChatError):
    status = 503
    code = "unavailable"
