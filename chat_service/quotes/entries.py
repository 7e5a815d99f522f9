"""Building the entries of a quote's history (one per change), pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.quotes.commands import Accept, Convert, Counter, QuoteCommand, Respond
from chat_service.quotes.models import QuoteState
from chat_service.quotes.repository import event_doc
from chat_service.quotes.schemas import event_text
from chat_service.quotes.states import ActorRole

__all__ = ["history_event", "revision_of"]

Actor = UserPrincipal | ServerPrincipal
Doc = dict[str, Any]


def revision_of(command: QuoteCommand, state: QuoteState) -> int | None:
    if isinstance(command, (Respond, Counter)) and state.latest is not None:
        return state.latest.number
    if isinstance(command, (Accept, Convert)):
        return state.accepted_revision
    return None


def history_event(
    n: int,
    action: str,
    role: ActorRole,
    actor: Actor | None,
    revision: int | None,
    now: datetime,
    quote_id: str,
    state: QuoteState,
    conversion: Doc | None = None,
) -> Doc:
    user_id = actor.user_id if isinstance(actor, UserPrincipal) else None
    text = event_text(action, quote_id, state, conversion)
    return event_doc(n, action, role, user_id, revision, now, text)
