"""Amounts, currencies, quantities and totals: exact, and strict about bad input."""

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_service.errors import BadRequest
from chat_service.orders.errors import (
    InvalidAmount,
    InvalidLineItem,
    InvalidQuantity,
    MixedCurrencies,
    UnsupportedCurrency,
)
from chat_service.orders.lines import make_order_line
from chat_service.orders.money import (
    CURRENCY_MINOR_UNITS,
    MAX_AMOUNT,
    Money,
    check_currency,
    check_quantity,
    line_total,
    minor_units,
    order_totals,
    parse_amount,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("currency", "digits"),
    [("USD", 2), ("EUR", 2), ("GBP", 2), ("JPY", 0), ("KRW", 0), ("BHD", 3), ("KWD", 3)],
)
def test_minor_units(currency: str, digits: int) -> None:
    assert minor_units(currency) == digits
    assert CURRENCY_MINOR_UNITS[currency] == digits


@pytest.mark.parametrize(
    ("value", "currency", "expected"),
    [
        ("12.5", "USD", "12.50"),
        ("12.500", "USD", "12.50"),
        ("0", "EUR", "0.00"),
        ("-0.00", "USD", "0.00"),
        (7, "JPY", "7"),
        ("1500", "JPY", "1500"),
        ("1.0", "JPY", "1"),
        ("1.234", "KWD", "1.234"),
        (Decimal("1E+3"), "USD", "1000.00"),
        ("+3", "usd", "3.00"),
        ("999999999999.99", "USD", "999999999999.99"),
    ],
)
def test_accepted_amounts(value: str | int | Decimal, currency: str, expected: str) -> None:
    amount = parse_amount(value, currency)
    assert isinstance(amount, Decimal)
    assert str(amount) == expected


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("12.345", "USD"),  # more decimals than the currency allows
        ("1.5", "JPY"),
        ("100.01", "KRW"),
        ("1.2345", "BHD"),
        (Decimal("0.001"), "EUR"),
        (1.5, "USD"),  # floats are refused, whatever their value
        (2.0, "USD"),
        (True, "USD"),
        ("-1.00", "USD"),  # negative without allow_negative
        (-1, "USD"),
        ("NaN", "USD"),
        (Decimal("NaN"), "USD"),
        (Decimal("sNaN"), "USD"),
        (Decimal("Infinity"), "USD"),
        ("Infinity", "USD"),
        ("1e3", "USD"),  # exponents are refused in text
        ("1.2E+4", "USD"),
        ("1,000.00", "USD"),
        (" 12.00", "USD"),
        (".5", "USD"),
        ("5.", "USD"),
        ("", "USD"),
        ("0x10", "USD"),
        ("١٢", "USD"),  # non-ASCII digits
        ("1" * 41, "USD"),
        ("1000000000000", "USD"),  # absurd magnitude
        (Decimal("1E+30"), "USD"),
        (10**40, "USD"),
        (None, "USD"),
    ],
)
def test_refused_amounts(value: object, currency: str) -> None:
    with pytest.raises(InvalidAmount) as info:
        parse_amount(value, currency)  # type: ignore[arg-type]
    assert info.value.code == "invalid_amount"
    assert info.value.status == 400


def test_negative_amounts_when_allowed() -> None:
    assert parse_amount("-3.10", "USD", allow_negative=True) == Decimal("-3.10")
    with pytest.raises(InvalidAmount):
        parse_amount("-3.105", "USD", allow_negative=True)


def test_max_amount_is_configurable() -> None:
    assert parse_amount("99.99", "USD", max_amount=Decimal(100)) == Decimal("99.99")
    with pytest.raises(InvalidAmount):
        parse_amount("100", "USD", max_amount=Decimal(100))
    assert Decimal(10) ** 12 == MAX_AMOUNT


@pytest.mark.parametrize("code", ["XXX", "US", "USDD", "", "U$D", 840, None, "ÜSD"])
def test_unsupported_currencies(code: object) -> None:
    with pytest.raises(UnsupportedCurrency) as info:
        check_currency(code)
    assert info.value.code == "unsupported_currency"


def test_money_normalises_and_refuses() -> None:
    assert Money(Decimal("5"), "usd") == Money(Decimal("5.00"), "USD")
    assert str(Money(Decimal("5"), "USD")) == "5.00 USD"
    assert Money.from_minor(1250, "USD").amount == Decimal("12.50")
    assert Money.from_minor(-5, "KWD").amount == Decimal("-0.005")
    assert Money.from_minor(7, "JPY").minor == 7
    assert Money.parse("1.10", "EUR").minor == 110
    with pytest.raises(InvalidAmount):
        Money(Decimal("0.001"), "USD")
    with pytest.raises(InvalidAmount):
        Money(1.0, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount):
        Money(Decimal("Infinity"), "USD")
    with pytest.raises(MixedCurrencies):
        _ = Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")
    assert Money(Decimal("0.10"), "USD") + Money(Decimal("0.20"), "USD") == Money(
        Decimal("0.30"), "USD"
    )


@pytest.mark.parametrize("value", [0, -1, -100, True, False, 1.0, 2.5, Decimal(3), "3", None])
def test_refused_quantities(value: object) -> None:
    with pytest.raises(InvalidQuantity) as info:
        check_quantity(value)
    assert info.value.code == "invalid_quantity"


def test_quantities() -> None:
    assert check_quantity(1) == 1
    assert check_quantity(10, max_quantity=10) == 10
    with pytest.raises(InvalidQuantity):
        check_quantity(11, max_quantity=10)
    assert parse_quantity("12") == 12
    assert parse_quantity(3) == 3
    for text in ["0", "-1", "1.0", "1e2", " 1", "", "٣", "9" * 13]:
        with pytest.raises(InvalidQuantity):
            parse_quantity(text)


def test_line_total_and_order_totals() -> None:
    price = Money.parse("19.99", "USD")
    assert line_total(3, price) == Money.parse("59.97", "USD")
    with pytest.raises(InvalidQuantity):
        line_total(0, price)
    with pytest.raises(InvalidAmount):
        line_total(1, Decimal("1.00"))  # type: ignore[arg-type]
    lines = [
        make_order_line(
            line_id="1", sku="A", name="Chair", quantity=3, unit_price="0.10", currency="USD"
        ),
        make_order_line(
            line_id="2", sku="B", name="Desk", quantity=1, unit_price="0.20", currency="USD"
        ),
    ]
    totals = order_totals(lines)
    assert totals.subtotal == Decimal("0.50")
    assert totals.currency == "USD"
    assert totals.line_count == 2
    assert totals.money == Money.parse("0.5", "USD")


def test_order_totals_refuse_mixed_currencies_and_empty_orders() -> None:
    usd = make_order_line(line_id="1", sku="A", name="A", quantity=1, unit_price=1, currency="USD")
    eur = make_order_line(line_id="2", sku="B", name="B", quantity=1, unit_price=1, currency="EUR")
    with pytest.raises(MixedCurrencies) as info:
        order_totals([usd, eur])
    assert info.value.code == "mixed_currencies"
    with pytest.raises(InvalidLineItem):
        order_totals([])


def test_errors_are_bad_requests() -> None:
    for error in (InvalidAmount, InvalidQuantity, MixedCurrencies, UnsupportedCurrency):
        assert issubclass(error, BadRequest)


prices = st.decimals(min_value=0, max_value=Decimal("999999999.99"), places=2)


@given(st.lists(st.tuples(st.integers(1, 10_000), prices), min_size=1, max_size=40))
def test_totals_equal_the_exact_decimal_sum(items: list[tuple[int, Decimal]]) -> None:
    lines = [
        make_order_line(
            line_id=f"l{index}", sku="S", name="n", quantity=qty, unit_price=price, currency="USD"
        )
        for index, (qty, price) in enumerate(items)
    ]
    with localcontext() as exact:
        exact.prec = 100
        expected = sum((qty * price for qty, price in items), Decimal(0))
    with localcontext() as coarse:
        coarse.prec = 6  # the result must not depend on the ambient precision
        totals = order_totals(lines)
    assert totals.subtotal == expected
    assert totals.subtotal.as_tuple().exponent == -2


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, max_value=10**11, min_value=0))
def test_parse_amount_keeps_the_value_or_refuses(value: Decimal) -> None:
    try:
        parsed = parse_amount(str(value), "KWD")
    except InvalidAmount:
        assert value != value.quantize(Decimal("0.001")) or "E" in str(value)
    else:
        assert parsed == value
