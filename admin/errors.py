"""Errors of the console, on top of the service's tree (``chat_service.errors``)::

ChatError
├── Unauthenticated
│   ├── SignInRequired     401  no session, or it idled out (pages redirect)
│   └── SignInRefused      401  wrong login or password, or the login is locked
└── Forbidden
    ├── CsrfRejected       403  a POST without the session's CSRF token
    └── RoleForbidden      403  the staff member's role does not allow it
"""

from __future__ import annotations

from chat_service.errors import Forbidden, Unauthenticated

__all__ = ["CsrfRejected", "RoleForbidden", "SignInRefused", "SignInRequired"]


class SignInRequired(Unauthenticated):
    code = "sign_in_required"


class SignInRefused(Unauthenticated):
    code = "sign_in_refused"


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


class RoleForbidden(Forbidden):
    code = "role_forbidden"
