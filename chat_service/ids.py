"""Random identifiers and the validation of identifiers that come from outside."""

from __future__ import annotations

import re
import secrets

__all__ = ["EXTERNAL_ID_PATTERN", "INTERNAL_ID_PATTERN", "new_id"]

# Ids the marketplace chooses (users, orders, quotes): conservative characters only,
# so they can never become an operator, a field name or a Redis key separator.
EXTERNAL_ID_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
INTERNAL_ID_PATTERN = r"^[a-z]{1,4}_[0-9a-f]{8,40}$"
_INTERNAL = re.compile(INTERNAL_ID_PATTERN)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def is_internal_id(value: object) -> bool:
    return isinstance(value, str) and _INTERNAL.fullmatch(value) is not None
