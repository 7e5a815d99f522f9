"""HTTP routes of the quotes domain; thin: validate, delegate, shape.

Buyers and sellers act with their user token, the marketplace backend with its
server key (for either side, naming it with ``on_behalf_of`` where both sides
may act). Who may do what is decided by the pure rules via the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.dependencies import AnyActor, CurrentServer, ServicesDep
from chat_service.quotes.schemas import (
    AcceptIn,
    ConvertIn,
    CounterIn,
    DeclineIn,
    QuoteCreate,
    QuoteHistory,
    QuotePublic,
    RespondIn,
    WithdrawIn,
)
from chat_service.quotes.service import QuoteService
from chat_service.quotes.states import QuoteStatus
from chat_service.tenants.schemas import StaffEmail

__all__ = ["router"]

router = APIRouter(prefix="/v1/quotes", tags=["quotes"])
QuoteId = Annotated[str, "quote id"]


def get_quotes(request: Request) -> QuoteService:
    quotes: QuoteService = request.app.state.services.quotes
    return quotes


async def get_writer(actor: AnyActor, services: ServicesDep) -> UserPrincipal | ServerPrincipal:
    """The caller of a change. Each change posts a chat message, so a user's
    count against the same per-user budget as their messages (and a buyer
    cannot flood the staff mailbox with requests); the backend is not limited."""
    if isinstance(actor, UserPrincipal):
        await services.limiter.hit(
            actor.tenant, actor.user_id, "send", limit=services.settings.send_rate_per_minute
        )
    return actor


QuotesDep = Annotated[QuoteService, Depends(get_quotes)]
Writer = Annotated[UserPrincipal | ServerPrincipal, Depends(get_writer)]


@router.post(
    "",
    response_model=QuotePublic,
    status_code=201,
    responses={200: {"model": QuotePublic, "description": "Already requested"}},
)
async def request_quote(
    body: QuoteCreate, actor: Writer, quotes: QuotesDep, response: Response
) -> QuotePublic:
    """A buyer requests a quote (or the backend on the buyer's behalf, with its
    own ``quote_id``); opens the quote's conversation. A resend by the backend
    with the same ``quote_id`` returns the stored quote (200)."""
    quote, created = await quotes.request(actor, body)
    response.status_code = 201 if created else 200
    return quote


@router.get("", response_model=list[QuotePublic])
async def list_quotes(
    actor: AnyActor,
    quotes: QuotesDep,
    status: QuoteStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[QuotePublic]:
    """The caller's quotes as buyer or seller (the backend: all of its tenant's),
    most recently changed first."""
    return await quotes.list_quotes(actor, status=status, limit=limit)


@router.put("/staff-email", response_model=StaffEmail)
async def put_staff_email(
    body: StaffEmail, server: CurrentServer, services: ServicesDep
) -> StaffEmail:
    """Set (or clear with ``null``) the address that gets an email for every
    quote request; stored encrypted. Without one, requests send no email."""
    await services.tenants.set_staff_email(server.tenant, body.staff_email)
    return body


@router.get("/staff-email", response_model=StaffEmail)
async def get_staff_email(server: CurrentServer, services: ServicesDep) -> StaffEmail:
    return StaffEmail(staff_email=await services.tenants.staff_email(server.tenant))


@router.get("/{quote_id}", response_model=QuotePublic)
async def get_quote(quote_id: QuoteId, actor: AnyActor, quotes: QuotesDep) -> QuotePublic:
    return await quotes.get(actor, quote_id)


@router.get("/{quote_id}/history", response_model=QuoteHistory)
async def quote_history(quote_id: QuoteId, actor: AnyActor, quotes: QuotesDep) -> QuoteHistory:
    """Every change in order, and every revision with its prices."""
    return await quotes.history(actor, quote_id)


@router.post("/{quote_id}/respond", response_model=QuotePublic)
async def respond(
    quote_id: QuoteId, body: RespondIn, actor: Writer, quotes: QuotesDep
) -> QuotePublic:
    """The seller's priced offer with ``valid_until``."""
    return await quotes.respond(actor, quote_id, body)


@router.post("/{quote_id}/counter", response_model=QuotePublic)
async def counter(
    quote_id: QuoteId, body: CounterIn, actor: Writer, quotes: QuotesDep
) -> QuotePublic:
    return await quotes.counter(actor, quote_id, body)


@router.post("/{quote_id}/accept", response_model=QuotePublic)
async def accept(
    quote_id: QuoteId, body: AcceptIn, actor: Writer, quotes: QuotesDep
) -> QuotePublic:
    """The buyer accepts the latest revision, which must be the seller's and unexpired."""
    return await quotes.accept(actor, quote_id, body)


@router.post("/{quote_id}/decline", response_model=QuotePublic)
async def decline(
    quote_id: QuoteId, body: DeclineIn, actor: Writer, quotes: QuotesDep
) -> QuotePublic:
    return await quotes.decline(actor, quote_id, body)


@router.post("/{quote_id}/withdraw", response_model=QuotePublic)
async def withdraw(
    quote_id: QuoteId, body: WithdrawIn, actor: Writer, quotes: QuotesDep
) -> QuotePublic:
    return await quotes.withdraw(actor, quote_id, body)


@router.post("/{quote_id}/convert", response_model=QuotePublic)
async def convert(
    quote_id: QuoteId, body: ConvertIn, server: CurrentServer, quotes: QuotesDep
) -> QuotePublic:
    """The backend converts an accepted quote to a sales order or an invoice,
    recording the payment terms."""
    return await quotes.convert(server, quote_id, body)
