"""Building the entries of a quote's history and audit log (one per change), pure."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from chat_service.audit import AuditAction, AuditActor
from chat_service.audit.service import PlannedEntry
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.errors import BadRequest
from chat_service.quotes.commands import Accept, Convert, Counter, QuoteCommand, Respond
from chat_service.quotes.errors import RoleNotAllowed
from chat_service.quotes.models import QuoteState
from chat_service.quotes.repository import event_doc
from chat_service.quotes.schemas import PartyIn, QuoteCreate, event_text
from chat_service.quotes.states import ActorRole

__all__ = ["audit_entry", "history_event", "requesting_buyer", "revision_of"]

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


_AUDIT_ACTIONS: dict[str, AuditAction] = {
    "request": "quote.requested",
    "respond": "quote.responded",
    "counter": "quote.countered",
    "accept": "quote.accepted",
    "decline": "quote.declined",
    "withdraw": "quote.withdrawn",
    "expire": "quote.expired",
    "convert": "quote.converted",
}


def audit_entry(doc: Doc, event: Doc, actor: Actor | None, version: int) -> PlannedEntry:
    """The audit entry of one change of quote ``doc`` (``actor`` None: the
    expiry job): ids, status, revision and version; never notes or reasons."""
    details: Doc = {
        "version": version,
        "status": doc["status"],
        "revision": event.get("revision"),
        "by": event["by"],
    }
    conversion = doc.get("conversion_doc")
    if event["action"] == "convert" and conversion:
        details["document_id"] = conversion["document_id"]
    return PlannedEntry(
        actor=AuditActor.system("quote_expiry") if actor is None else AuditActor.of(actor),
        action=_AUDIT_ACTIONS[event["action"]],
        target_type="quote",
        target_id=doc["quote_id"],
        details=details,
    )


def requesting_buyer(actor: Actor, body: QuoteCreate) -> PartyIn:
    """Who a quote request is for: the backend names the buyer, a buyer is
    themselves; anyone else is refused."""
    if isinstance(actor, ServerPrincipal):
        if body.buyer is None:
            raise BadRequest("name the buyer the quote is for", code="buyer_required")
        return body.buyer
    if actor.role != "buyer":
        raise RoleNotAllowed("only a buyer requests a quote")
    if body.quote_id is not None:
        raise BadRequest("only the marketplace backend chooses quote ids")
    if body.buyer is not None and body.buyer.user_id != actor.user_id:
        raise RoleNotAllowed("a buyer requests quotes only for themselves")
    try:
        return PartyIn(user_id=actor.user_id, display_name=actor.name, email=actor.email)
    except ValidationError:  # a token's e-mail claim is not checked when minted
        return PartyIn(user_id=actor.user_id, display_name=actor.name)
