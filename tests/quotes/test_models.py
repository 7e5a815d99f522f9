"""Quote requests, line items and their configuration options."""

from datetime import datetime

import pytest

from chat_service.orders.errors import InvalidLineItem, InvalidQuantity, UnsupportedCurrency
from chat_service.quotes.errors import InvalidNote, InvalidOptions
from chat_service.quotes.models import (
    QuoteLimits,
    QuoteLine,
    check_note,
    check_options,
    make_quote_line,
    request_quote,
)
from chat_service.quotes.states import QuoteStatus
from tests.quotes.helpers import NOW, requested


def test_a_request() -> None:
    quote = requested()
    assert quote.status is QuoteStatus.REQUESTED
    assert quote.currency == "USD"
    assert quote.revisions == ()
    assert quote.latest is None
    assert quote.accepted is None
    assert quote.note == "for the new office"
    assert quote.lines[0].option_map == {"colour": "oak", "freight destination": "Denver, CO"}
    assert quote.requested_at == quote.updated_at == NOW


def test_options_keep_order_and_trim_keys() -> None:
    pairs = check_options({" colour ": "oak", "size": "", "notes": "line\nbreak\tok"})
    assert pairs == (("colour", "oak"), ("size", ""), ("notes", "line\nbreak\tok"))
    assert check_options(None) == ()


@pytest.mark.parametrize(
    "options",
    [
        {"": "x"},
        {"   ": "x"},
        {"k" * 65: "x"},
        {"colour": "v" * 501},
        {"col\x00our": "x"},
        {"colour": "a\x07b"},
        {"Colour": "oak", "colour": "pine"},
        {"colour": 3},
        {3: "x"},
        {f"k{i}": "v" for i in range(21)},
        [("colour", "oak")],
        "colour=oak",
    ],
)
def test_bad_options(options: object) -> None:
    with pytest.raises(InvalidOptions) as info:
        check_options(options)  # type: ignore[arg-type]
    assert info.value.code == "invalid_options"


def test_option_limits_are_configurable() -> None:
    small = QuoteLimits(max_options=1, max_option_key_chars=3, max_option_value_chars=2)
    assert check_options({"abc": "de"}, small) == (("abc", "de"),)
    for options in ({"a": "b", "c": "d"}, {"abcd": "e"}, {"a": "bcd"}):
        with pytest.raises(InvalidOptions):
            check_options(options, small)
    line = make_quote_line(line_id="1", sku="A", name="a", quantity=1, options={"a": "b", "c": "d"})
    with pytest.raises(InvalidOptions):
        request_quote([line], "USD", NOW, limits=small)


def test_bad_lines_and_requests() -> None:
    with pytest.raises(InvalidQuantity):
        make_quote_line(line_id="1", sku="A", name="a", quantity=0)
    with pytest.raises(InvalidQuantity):
        make_quote_line(line_id="1", sku="A", name="a", quantity=-5)
    with pytest.raises(InvalidLineItem):
        make_quote_line(line_id="1", sku="bad sku", name="a", quantity=1)
    with pytest.raises(InvalidOptions):
        QuoteLine("1", "A", "a", 1, (("only-key",),))  # type: ignore[arg-type]
    with pytest.raises(InvalidOptions, match="not trimmed"):
        request_quote([QuoteLine("1", "A", "a", 1, ((" k", "v"),))], "USD", NOW)
    line = make_quote_line(line_id="1", sku="A", name="a", quantity=1)
    with pytest.raises(InvalidLineItem):
        request_quote([], "USD", NOW)
    with pytest.raises(InvalidLineItem):
        request_quote([line, line], "USD", NOW)
    with pytest.raises(InvalidLineItem):
        request_quote([line], "USD", NOW, limits=QuoteLimits(max_lines=0))
    with pytest.raises(UnsupportedCurrency):
        request_quote([line], "XXX", NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        request_quote([line], "USD", datetime(2026, 1, 1))


def test_notes() -> None:
    assert check_note("  hi  ") == "hi"
    assert check_note("   ") is None
    assert check_note(None) is None
    with pytest.raises(InvalidNote):
        check_note("x" * 2001)
    with pytest.raises(InvalidNote):
        check_note("a\x00b")
    with pytest.raises(InvalidNote):
        check_note(5)
