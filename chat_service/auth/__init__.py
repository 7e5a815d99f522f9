"""Who is calling: marketplace users (short-lived JWTs) and marketplace backends
(server keys)."""

from chat_service.auth.principals import Role, ServerPrincipal, UserPrincipal
from chat_service.auth.tokens import TokenVerifier, mint_user_token

__all__ = ["Role", "ServerPrincipal", "TokenVerifier", "UserPrincipal", "mint_user_token"]
