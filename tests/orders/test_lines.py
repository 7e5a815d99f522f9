"""Order line items."""

from decimal import Decimal

import pytest

from chat_service.orders.errors import (
    InvalidAmount,
    InvalidLineItem,
    InvalidQuantity,
    MixedCurrencies,
)
from chat_service.orders.lines import OrderLine, check_order_lines, make_order_line
from chat_service.orders.money import Money


def make(**overrides: object) -> OrderLine:
    values: dict[str, object] = {
        "line_id": "1",
        "sku": "CH-01",
        "name": " Blue chair ",
        "quantity": 2,
        "unit_price": "19.99",
        "currency": "USD",
    }
    values.update(overrides)
    return make_order_line(**values)  # type: ignore[arg-type]


def test_a_line() -> None:
    line = make()
    assert line.name == "Blue chair"
    assert line.unit_price == Money(Decimal("19.99"), "USD")
    assert line.total == Money(Decimal("39.98"), "USD")


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"quantity": 0}, InvalidQuantity),
        ({"quantity": -3}, InvalidQuantity),
        ({"quantity": 2.0}, InvalidQuantity),
        ({"quantity": True}, InvalidQuantity),
        ({"unit_price": "19.999"}, InvalidAmount),
        ({"unit_price": "5", "currency": "JPY", "quantity": 1}, None),
        ({"unit_price": "5.5", "currency": "JPY"}, InvalidAmount),
        ({"unit_price": "-1"}, InvalidAmount),
        ({"unit_price": 19.99}, InvalidAmount),
        ({"sku": ""}, InvalidLineItem),
        ({"sku": "has space"}, InvalidLineItem),
        ({"sku": "x" * 65}, InvalidLineItem),
        ({"line_id": "a/b"}, InvalidLineItem),
        ({"name": "  "}, InvalidLineItem),
        ({"name": "a\x00b"}, InvalidLineItem),
        ({"name": "n" * 201}, InvalidLineItem),
    ],
)
def test_bad_lines(overrides: dict[str, object], error: type[Exception] | None) -> None:
    if error is None:
        make(**overrides)
        return
    with pytest.raises(error):
        make(**overrides)


def test_negative_unit_price_refused_even_as_money() -> None:
    with pytest.raises(InvalidLineItem):
        OrderLine("1", "A", "a", 1, Money(Decimal("-1"), "USD"))


def test_order_lines_as_a_set() -> None:
    lines = [make(line_id="1"), make(line_id="2", sku="CH-01")]  # one SKU on two lines is fine
    assert check_order_lines(lines) == tuple(lines)
    with pytest.raises(InvalidLineItem):
        check_order_lines([])
    with pytest.raises(InvalidLineItem, match="more than once"):
        check_order_lines([make(), make()])
    with pytest.raises(InvalidLineItem):
        check_order_lines(lines, max_lines=1)
    with pytest.raises(MixedCurrencies):
        check_order_lines([make(line_id="1"), make(line_id="2", currency="EUR")])
