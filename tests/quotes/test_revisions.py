"""The negotiation rules, one by one, with a test clock (``now`` is a parameter)."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from chat_service.orders.errors import InvalidAmount
from chat_service.quotes.errors import (
    IllegalQuoteAction,
    InvalidPrices,
    InvalidValidUntil,
    OnBehalfRequired,
    OwnRevision,
    QuoteExpired,
    RevisionSuperseded,
    RoleNotAllowed,
    TooManyRevisions,
    UnknownRevision,
)
from chat_service.quotes.models import QuoteLimits
from chat_service.quotes.revisions import (
    accept,
    counter,
    decline,
    expire_if_due,
    expires_at,
    respond,
    revision_totals,
    withdraw,
)
from chat_service.quotes.states import QuoteStatus
from tests.quotes.helpers import NOW, WEEK, countered_by_buyer, requested, responded

PRICES = {"1": "12.00", "2": "300"}


def test_seller_responds_with_prices_and_validity() -> None:
    quote = responded()
    assert quote.status is QuoteStatus.RESPONDED
    (revision,) = quote.revisions
    assert (revision.number, revision.author, revision.kind) == (1, "seller", "response")
    assert revision.prices == (("1", Decimal("12.00")), ("2", Decimal("300.00")))
    assert revision.valid_until == NOW + WEEK
    assert revision.entered_by == "seller"
    assert expires_at(quote) == NOW + WEEK
    assert revision_totals(quote, revision).subtotal == Decimal("1080.00")


@pytest.mark.parametrize("actor", ["buyer", "staff", ""])
def test_only_the_seller_responds(actor: str) -> None:
    with pytest.raises(RoleNotAllowed) as info:
        respond(requested(), actor, NOW, prices=PRICES, valid_until=NOW + WEEK)  # type: ignore[arg-type]
    assert info.value.code == "role_not_allowed"
    assert info.value.status == 403


def test_server_responds_for_the_seller() -> None:
    quote = respond(requested(), "server", NOW, prices=PRICES, valid_until=NOW + WEEK)
    latest = quote.latest
    assert latest is not None
    assert (latest.author, latest.entered_by) == ("seller", "server")


@pytest.mark.parametrize(
    ("prices", "code"),
    [
        ({"1": "12.00"}, "missing_price"),
        ({"1": "12.00", "2": "1", "9": "1"}, "unknown_line"),
        ({}, "missing_price"),
    ],
)
def test_prices_cover_every_line(prices: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidPrices) as info:
        respond(requested(), "seller", NOW, prices=prices, valid_until=NOW + WEEK)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("currency", "price"),
    [("USD", "12.001"), ("JPY", "12.5"), ("KWD", "1.0001"), ("USD", "-1"), ("USD", 1.5)],
)
def test_prices_respect_the_currency(currency: str, price: object) -> None:
    with pytest.raises(InvalidAmount) as info:
        respond(
            requested(currency),
            "seller",
            NOW,
            prices={"1": price, "2": "1"},  # type: ignore[dict-item]
            valid_until=NOW + WEEK,
        )
    assert "line '1'" in info.value.detail


@pytest.mark.parametrize(
    "valid_until",
    [None, NOW, NOW - timedelta(seconds=1), NOW + timedelta(days=366), datetime(2026, 2, 1)],
)
def test_seller_offers_need_a_future_aware_valid_until(valid_until: datetime | None) -> None:
    with pytest.raises(InvalidValidUntil) as info:
        respond(requested(), "seller", NOW, prices=PRICES, valid_until=valid_until)  # type: ignore[arg-type]
    assert info.value.code == "invalid_valid_until"


def test_buyer_counters_without_valid_until_and_seller_answers() -> None:
    quote = countered_by_buyer()
    assert quote.status is QuoteStatus.COUNTERED
    latest = quote.latest
    assert latest is not None
    assert (latest.number, latest.author, latest.valid_until) == (2, "buyer", None)
    assert expires_at(quote) is None
    assert expire_if_due(quote, NOW + 10 * WEEK) is quote  # awaiting the seller: no expiry
    with pytest.raises(InvalidValidUntil):
        counter(responded(), "buyer", NOW, prices=PRICES, valid_until=NOW + WEEK)
    with pytest.raises(InvalidValidUntil):
        counter(quote, "seller", NOW, prices=PRICES)
    again = counter(quote, "seller", NOW, prices=PRICES, valid_until=NOW + WEEK)
    assert again.status is QuoteStatus.COUNTERED
    assert [r.author for r in again.revisions] == ["seller", "buyer", "seller"]


def test_counter_needs_something_to_answer() -> None:
    for actor in ("buyer", "seller"):
        with pytest.raises(IllegalQuoteAction) as info:
            counter(requested(), actor, NOW, prices=PRICES)  # type: ignore[arg-type]
        assert info.value.code == "illegal_transition"
        assert info.value.status == 409


def test_server_must_say_whom_it_counters_for() -> None:
    with pytest.raises(OnBehalfRequired):
        counter(responded(), "server", NOW, prices=PRICES)
    quote = counter(responded(), "server", NOW, prices=PRICES, on_behalf_of="buyer")
    assert quote.latest is not None
    assert quote.latest.author == "buyer"
    with pytest.raises(RoleNotAllowed):
        counter(responded(), "buyer", NOW, prices=PRICES, on_behalf_of="seller")


def test_buyer_accepts_the_latest_seller_revision() -> None:
    quote = accept(responded(), "buyer", NOW + WEEK - timedelta(seconds=1), revision=1)
    assert quote.status is QuoteStatus.ACCEPTED
    assert quote.accepted_revision == 1
    assert quote.accepted is quote.revisions[0]
    assert expires_at(quote) is None
    assert expire_if_due(quote, NOW + 10 * WEEK) is quote


def test_accepting_a_superseded_revision() -> None:
    quote = respond(responded(), "seller", NOW, prices=PRICES, valid_until=NOW + WEEK)
    with pytest.raises(RevisionSuperseded) as info:
        accept(quote, "buyer", NOW, revision=1)
    assert info.value.code == "revision_superseded"
    assert (info.value.revision, info.value.latest) == (1, 2)
    # The buyer's own counter also supersedes the seller's offer.
    with pytest.raises(RevisionSuperseded):
        accept(countered_by_buyer(), "buyer", NOW, revision=1)


def test_accepting_an_expired_revision() -> None:
    quote = responded()
    with pytest.raises(QuoteExpired) as info:
        accept(quote, "buyer", NOW + WEEK, revision=1)  # valid while now < valid_until
    assert info.value.code == "quote_expired"
    assert info.value.status == 410
    expired = expire_if_due(quote, NOW + WEEK)
    with pytest.raises(QuoteExpired):
        accept(expired, "buyer", NOW, revision=1)


def test_accept_refusals() -> None:
    with pytest.raises(OwnRevision) as info:
        accept(countered_by_buyer(), "buyer", NOW, revision=2)
    assert info.value.code == "cannot_accept_own_revision"
    for number in (0, 2, -1, True):
        with pytest.raises(UnknownRevision):
            accept(responded(), "buyer", NOW, revision=number)
    for actor in ("seller", "staff"):
        with pytest.raises(RoleNotAllowed):
            accept(responded(), actor, NOW, revision=1)  # type: ignore[arg-type]
    with pytest.raises(IllegalQuoteAction):
        accept(requested(), "buyer", NOW, revision=1)
    assert accept(responded(), "server", NOW, revision=1).status is QuoteStatus.ACCEPTED


def test_expiry() -> None:
    quote = responded()
    assert expire_if_due(quote, NOW + WEEK - timedelta(microseconds=1)) is quote
    expired = expire_if_due(quote, NOW + WEEK)
    assert expired.status is QuoteStatus.EXPIRED
    assert expired.closed_by == "server"
    assert expired.updated_at == NOW + WEEK
    assert expire_if_due(expired, NOW + 2 * WEEK) is expired
    assert expire_if_due(requested(), NOW + 100 * WEEK).status is QuoteStatus.REQUESTED
    seller_counter = counter(
        countered_by_buyer(), "seller", NOW, prices=PRICES, valid_until=NOW + WEEK
    )
    assert expire_if_due(seller_counter, NOW + WEEK).status is QuoteStatus.EXPIRED
    # Overdue but not yet marked: every action already sees it as expired.
    late = NOW + WEEK
    with pytest.raises(QuoteExpired):
        respond(quote, "seller", late, prices=PRICES, valid_until=late + WEEK)
    with pytest.raises(QuoteExpired):
        counter(quote, "buyer", late, prices=PRICES)
    with pytest.raises(QuoteExpired):
        withdraw(quote, "buyer", late)
    with pytest.raises(QuoteExpired):
        decline(quote, "seller", late)


def test_decline_and_withdraw() -> None:
    declined = decline(responded(), "buyer", NOW, reason=" too dear ")
    assert (declined.status, declined.closed_by, declined.reason) == (
        QuoteStatus.DECLINED,
        "buyer",
        "too dear",
    )
    assert decline(requested(), "seller", NOW).closed_by == "seller"
    with pytest.raises(IllegalQuoteAction, match="withdraw"):
        decline(requested(), "buyer", NOW)
    with pytest.raises(OnBehalfRequired):
        decline(responded(), "server", NOW)
    assert decline(responded(), "server", NOW, on_behalf_of="seller").closed_by == "seller"
    withdrawn = withdraw(countered_by_buyer(), "buyer", NOW)
    assert withdrawn.status is QuoteStatus.WITHDRAWN
    with pytest.raises(RoleNotAllowed):
        withdraw(requested(), "seller", NOW)
    for final in (declined, withdrawn):
        with pytest.raises(IllegalQuoteAction, match="final"):
            withdraw(final, "buyer", NOW)


def test_revision_limit() -> None:
    limits = QuoteLimits(max_revisions=2)
    quote = counter(responded(), "buyer", NOW, prices=PRICES, limits=limits)
    with pytest.raises(TooManyRevisions) as info:
        respond(quote, "seller", NOW, prices=PRICES, valid_until=NOW + WEEK, limits=limits)
    assert info.value.code == "too_many_revisions"


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        accept(responded(), "buyer", datetime(2026, 1, 1), revision=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        expire_if_due(responded(), datetime(2026, 1, 1))
