"""The quotes service layer: who may see and act on a quote, storing each
change, auditing it and saying so in the quote's conversation.

The rules live in the pure core (:func:`apply_action`); this layer maps the
caller to a side (buyer, seller, or ``"server"`` for the tenant's backend;
anyone else gets the same ``not_found`` as a missing id) and stores the result
with a compare-and-set on ``version`` (of two concurrent actions exactly one
applies; the other gets ``quote_changed``). Each change is stored with an
event ``{n, action, text, posted}`` whose message is posted afterwards with
the client message id ``quote-e{n}-{action}``, so a retry (or the repair pass
of :mod:`chat_service.quotes.expiry`) never posts twice.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from chat_service.audit import AuditLog
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.clock import Clock
from chat_service.conversations.rules import to_millis
from chat_service.conversations.schemas import ConversationCreate
from chat_service.conversations.service import ConversationService
from chat_service.errors import BadRequest, ChatError, Conflict, NotFound
from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.errors import MixedCurrencies
from chat_service.orders.money import check_currency
from chat_service.quotes.commands import (
    Accept,
    Convert,
    Counter,
    Decline,
    QuoteCommand,
    Respond,
    Withdraw,
    apply_action,
)
from chat_service.quotes.entries import (
    audit_entry,
    history_event,
    requesting_buyer,
    revision_of,
)
from chat_service.quotes.errors import QuoteExpired
from chat_service.quotes.handoff import OrderMaker, QuoteHandoff
from chat_service.quotes.models import (
    DEFAULT_LIMITS,
    QuoteLimits,
    make_quote_line,
    request_quote,
)
from chat_service.quotes.repository import (
    QuoteRepository,
    staff_notification,
    state_fields,
    state_from_doc,
)
from chat_service.quotes.revisions import expire_if_due
from chat_service.quotes.schemas import (
    AcceptIn,
    ConvertIn,
    CounterIn,
    DeclineIn,
    PartyIn,
    QuoteCreate,
    QuoteHistory,
    QuotePublic,
    RespondIn,
    WithdrawIn,
    conversion_doc,
    history_public,
    quote_public,
)
from chat_service.quotes.states import ActorRole, QuoteStatus
from chat_service.webhooks.events import quote_event
from chat_service.webhooks.service import WebhookOutbox

__all__ = ["Actor", "QuoteService"]

log = logging.getLogger(__name__)
Actor = UserPrincipal | ServerPrincipal
Doc = dict[str, Any]
_QUOTE_ID = re.compile(EXTERNAL_ID_PATTERN)


class QuoteService:
    def __init__(
        self,
        *,
        repository: QuoteRepository,
        conversations: ConversationService,
        clock: Clock,
        limits: QuoteLimits = DEFAULT_LIMITS,
        outbox: WebhookOutbox | None = None,
        orders: OrderMaker | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self._outbox = outbox
        self._audit = audit
        self.repository = repository
        self._conversations = conversations
        self._clock = clock
        self._limits = limits
        self.handoff = QuoteHandoff(
            repository=repository, conversations=conversations, orders=orders
        )

    # -- reading -------------------------------------------------------------

    async def get(self, actor: Actor, quote_id: str) -> QuotePublic:
        doc, _ = await self._load(actor, quote_id)
        return quote_public(doc, self._now())

    async def list_quotes(
        self, actor: Actor, *, status: QuoteStatus | None = None, limit: int = 50
    ) -> list[QuotePublic]:
        """A user's quotes (as buyer or seller), or all of the tenant's for the
        backend; most recently changed first."""
        limit = max(1, min(limit, 200))
        wanted = None if status is None else QuoteStatus(status).value
        if isinstance(actor, UserPrincipal):
            docs = await self.repository.for_user(actor.tenant, actor.user_id, wanted, limit)
        else:
            docs = await self.repository.for_tenant(actor.tenant, wanted, limit)
        now = self._now()
        return [quote_public(doc, now) for doc in docs]

    async def history(self, actor: Actor, quote_id: str) -> QuoteHistory:
        doc, _ = await self._load(actor, quote_id)
        return history_public(doc)

    # -- requesting ----------------------------------------------------------

    async def request(self, actor: Actor, body: QuoteCreate) -> tuple[QuotePublic, bool]:
        """A buyer's quote request (or the backend's on the buyer's behalf); opens
        the quote's conversation and records the staff notification. The backend
        may resend with the same ``quote_id``: it gets the stored quote back."""
        buyer = requesting_buyer(actor, body)
        if buyer.user_id == body.seller.user_id:
            raise BadRequest("the buyer and the seller must be different people")
        now = self._now()
        state = request_quote(
            [
                make_quote_line(
                    line_id=line.line_id,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    options=line.options,
                    limits=self._limits,
                )
                for line in body.lines
            ],
            body.currency,
            now,
            note=body.note,
            limits=self._limits,
        )
        tenant = actor.tenant
        quote_id = body.quote_id
        if quote_id is not None:
            existing = await self.repository.get(tenant, quote_id)
            if existing is not None:
                return await self._resent(existing, buyer, body.seller), False
        else:
            quote_id = await self.repository.free_quote_id(tenant)
        conv, _ = await self._conversations.open_conversation(
            ServerPrincipal(tenant=tenant),
            ConversationCreate(
                subject_type="quote",
                subject_id=quote_id,
                title=body.title or f"Quote #{quote_id}",
                participants=[buyer.participant("buyer"), body.seller.participant("seller")],
            ),
        )
        role: ActorRole = "server" if isinstance(actor, ServerPrincipal) else "buyer"
        doc: Doc = {
            "_id": f"{tenant}|{quote_id}",
            "tenant": tenant,
            "quote_id": quote_id,
            "buyer": {"user_id": buyer.user_id, "display_name": buyer.display_name},
            "seller": {"user_id": body.seller.user_id, "display_name": body.seller.display_name},
            "conversation_id": conv.id,
            **state_fields(state),
            "version": 1,
            "events": [history_event(1, "request", role, actor, None, now, quote_id, state)],
            "conversion_doc": None,
            "created_at": now,
        }
        if not await self.repository.insert(doc):
            existing = await self.repository.get(tenant, quote_id)
            if existing is None:
                raise Conflict("the quote was created and removed concurrently")
            return await self._resent(existing, buyer, body.seller), False
        await self._record(doc, doc["events"][0], actor, 1)
        await self._notify_staff(doc)
        await self._flush_quietly(doc)
        return quote_public(doc, now), True

    # -- negotiating ---------------------------------------------------------

    async def respond(self, actor: Actor, quote_id: str, body: RespondIn) -> QuotePublic:
        command = Respond(
            prices=body.prices, valid_until=to_millis(body.valid_until), note=body.note
        )
        return await self._act(actor, quote_id, command, body.expected_version, body.currency)

    async def counter(self, actor: Actor, quote_id: str, body: CounterIn) -> QuotePublic:
        until = None if body.valid_until is None else to_millis(body.valid_until)
        command = Counter(
            prices=body.prices, valid_until=until, note=body.note, on_behalf_of=body.on_behalf_of
        )
        return await self._act(actor, quote_id, command, body.expected_version, body.currency)

    async def accept(self, actor: Actor, quote_id: str, body: AcceptIn) -> QuotePublic:
        return await self._act(actor, quote_id, Accept(body.revision), body.expected_version)

    async def decline(self, actor: Actor, quote_id: str, body: DeclineIn) -> QuotePublic:
        command = Decline(reason=body.reason, on_behalf_of=body.on_behalf_of)
        return await self._act(actor, quote_id, command, body.expected_version)

    async def withdraw(self, actor: Actor, quote_id: str, body: WithdrawIn) -> QuotePublic:
        return await self._act(actor, quote_id, Withdraw(body.reason), body.expected_version)

    async def convert(self, actor: Actor, quote_id: str, body: ConvertIn) -> QuotePublic:
        """The backend turns an accepted quote into a sales order or an invoice;
        the agreed lines and a generated document id are stored on the quote,
        then handed off (:mod:`chat_service.quotes.handoff`). Converting again
        is refused, but first finishes a hand-off a crash left undone."""
        command = Convert(body.kind, body.payment_terms, body.reference)
        try:
            await self._act(actor, quote_id, command, body.expected_version)
        except ChatError:
            doc, _ = await self._load(actor, quote_id)
            await self.hand_off_quietly(doc)
            raise
        doc, _ = await self._load(actor, quote_id)
        if await self.hand_off_quietly(doc):
            doc, _ = await self._load(actor, quote_id)
        return quote_public(doc, self._now())

    async def hand_off_quietly(self, doc: Doc) -> bool:
        # The conversion is stored; a hand-off that fails now is finished by
        # the next convert call or the expiry job's repair pass.
        try:
            return await self.handoff.hand_off(doc)
        except (ChatError, PyMongoError, RedisError) as error:
            log.warning("quote %s: hand-off deferred (%s)", doc["_id"], type(error).__name__)
            return False

    # -- the expiry job's and the repair pass's entry points -----------------

    async def expire(self, doc: Doc, now: datetime) -> bool:
        """Mark ``doc`` expired if its offer lapsed by ``now`` and post the
        message; ``False`` if it was not due or another writer got there first."""
        state = state_from_doc(doc["state"])
        expired = expire_if_due(state, now)
        if expired is state:
            return False
        event = history_event(
            len(doc["events"]) + 1, "expire", "server", None, None, now, doc["quote_id"], expired
        )
        if not await self.repository.compare_and_set(
            doc["_id"], doc["version"], state_fields(expired), [event]
        ):
            return False
        fresh = await self.repository.by_id(doc["_id"])
        if fresh is not None:
            await self._record(fresh, event, None, doc["version"] + 1)
            await self._flush_quietly(fresh)
        return True

    async def flush(self, doc: Doc) -> int:
        """Post every event of ``doc`` not yet known to be posted; returns how
        many messages were newly created."""
        created = 0
        server = ServerPrincipal(tenant=doc["tenant"])
        for event in doc["events"]:
            if event.get("posted"):
                continue
            # Recorded before the post, so every repair pass redoes both.
            if self._outbox is not None and (hook := quote_event(doc, event)):
                await self._outbox.record(doc["tenant"], *hook)
            result = await self._conversations.send(
                server,
                doc["conversation_id"],
                client_msg_id=f"quote-e{event['n']}-{event['action']}",
                text=event["text"],
            )
            await self.repository.mark_posted(doc["_id"], event["n"])
            created += int(result.created)
        return created

    def now(self) -> datetime:
        return self._now()

    # -- internals -----------------------------------------------------------

    def _now(self) -> datetime:
        return to_millis(self._clock.now())

    async def _act(
        self,
        actor: Actor,
        quote_id: str,
        command: QuoteCommand,
        expected_version: int | None,
        currency: str | None = None,
    ) -> QuotePublic:
        doc, role = await self._load(actor, quote_id)
        if expected_version is not None and expected_version != doc["version"]:
            raise _changed(doc["version"])
        state = state_from_doc(doc["state"])
        if currency is not None and check_currency(currency) != state.currency:
            raise MixedCurrencies(
                f"prices are in {check_currency(currency)}, the quote is in {state.currency}"
            )
        now = self._now()
        try:
            changed = apply_action(state, role, command, now, limits=self._limits)
        except QuoteExpired:
            await self.expire(doc, now)  # say so in the chat now, not at the next job run
            raise
        fields = state_fields(changed)
        if isinstance(command, Convert):
            fields["conversion_doc"] = conversion_doc(changed)
        event = history_event(
            len(doc["events"]) + 1,
            type(command).__name__.lower(),
            role,
            actor,
            revision_of(command, changed),
            now,
            doc["quote_id"],
            changed,
            fields.get("conversion_doc"),
        )
        if not await self.repository.compare_and_set(doc["_id"], doc["version"], fields, [event]):
            raise _changed(None)
        fresh = await self.repository.by_id(doc["_id"])
        if fresh is None:
            raise NotFound("quote not found")
        await self._record(fresh, event, actor, doc["version"] + 1)
        await self._flush_quietly(fresh)
        return quote_public(fresh, now)

    async def _load(self, actor: Actor, quote_id: str) -> tuple[Doc, ActorRole]:
        """The quote and the caller's side, or ``not_found`` for anyone who is
        neither its buyer, its seller nor its tenant's backend."""
        if not isinstance(quote_id, str) or not _QUOTE_ID.fullmatch(quote_id):
            raise NotFound("quote not found")
        doc = await self.repository.get(actor.tenant, quote_id)
        if doc is None:
            raise NotFound("quote not found")
        if isinstance(actor, ServerPrincipal):
            return doc, "server"
        if actor.user_id == doc["buyer"]["user_id"]:
            return doc, "buyer"
        if actor.user_id == doc["seller"]["user_id"]:
            return doc, "seller"
        raise NotFound("quote not found")

    async def _resent(self, doc: Doc, buyer: PartyIn, seller: PartyIn) -> QuotePublic:
        if (doc["buyer"]["user_id"], doc["seller"]["user_id"]) != (buyer.user_id, seller.user_id):
            raise Conflict("this quote id is taken by another quote", code="quote_exists")
        # A resend finishes what a crash may have left undone.
        await self._notify_staff(doc)
        await self._flush_quietly(doc)
        return quote_public(doc, self._now())

    async def _record(self, doc: Doc, event: Doc, actor: Actor | None, version: int) -> None:
        if self._audit is not None:
            await self._audit.record_many(doc["tenant"], [audit_entry(doc, event, actor, version)])

    async def _notify_staff(self, doc: Doc) -> None:
        """Record the pending "quote.requested" email to the marketplace's staff
        address (the notifier sends it); once per quote, whatever the retries."""
        await self.repository.add_notification(staff_notification(doc))

    async def _flush_quietly(self, doc: Doc) -> None:
        # The change is stored; a message that cannot be posted now is posted by
        # the next action or the expiry job's repair pass.
        try:
            await self.flush(doc)
        except (ChatError, PyMongoError, RedisError) as error:
            log.warning("quote %s: system message deferred (%s)", doc["_id"], type(error).__name__)


def _changed(version: int | None) -> Conflict:
    now = f" (it is at version {version})" if version is not None else ""
    return Conflict(f"the quote changed meanwhile{now}; reload it and retry", code="quote_changed")
