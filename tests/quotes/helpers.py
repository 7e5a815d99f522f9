"""Builders shared by the quote tests."""

from datetime import UTC, datetime, timedelta

from chat_service.quotes.models import QuoteState, make_quote_line, request_quote
from chat_service.quotes.revisions import counter, respond

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def requested(currency: str = "USD") -> QuoteState:
    lines = [
        make_quote_line(
            line_id="1",
            sku="CHAIR",
            name="Chair",
            quantity=40,
            options={"colour": "oak", "freight destination": "Denver, CO"},
        ),
        make_quote_line(line_id="2", sku="DESK", name="Desk", quantity=2),
    ]
    return request_quote(lines, currency, NOW, note="for the new office")


def responded() -> QuoteState:
    return respond(
        requested(), "seller", NOW, prices={"1": "12.00", "2": "300"}, valid_until=NOW + WEEK
    )


def countered_by_buyer() -> QuoteState:
    return counter(responded(), "buyer", NOW, prices={"1": "11.00", "2": "280.00"})
