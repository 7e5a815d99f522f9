"""Split shipments and back-orders."""

import copy
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_service.orders.errors import (
    DuplicateShipment,
    InvalidBackorder,
    InvalidLineItem,
    InvalidQuantity,
    InvalidShipment,
    LineFullyShipped,
    QuantityExceedsRemaining,
    UnknownLine,
    UnknownSku,
)
from chat_service.orders.fulfilment import (
    Backorder,
    Shipment,
    ShipmentItem,
    add_shipment,
    reconcile_backorders,
    remaining_quantities,
    set_backorder,
)
from chat_service.orders.lines import OrderLine, make_order_line
from chat_service.orders.states import OrderStatus

TODAY = date(2026, 3, 1)


def line(line_id: str, sku: str, quantity: int) -> OrderLine:
    return make_order_line(
        line_id=line_id,
        sku=sku,
        name=f"item {sku}",
        quantity=quantity,
        unit_price=5,
        currency="USD",
    )


LINES = (line("1", "CHAIR", 10), line("2", "DESK", 2), line("3", "LAMP", 1))


def ship(shipment_id: str, *items: tuple[str, int]) -> Shipment:
    return Shipment(shipment_id, tuple(ShipmentItem(q, line_id=i) for i, q in items))


def test_split_shipments_then_complete() -> None:
    first = add_shipment(LINES, [], ship("s1", ("1", 4), ("2", 2)))
    assert first.status is OrderStatus.PARTIALLY_SHIPPED
    assert dict(first.remaining) == {"1": 6, "2": 0, "3": 1}
    assert first.shipment.items[0].sku == "CHAIR"
    second = add_shipment(LINES, first.shipments, ship("s2", ("1", 6), ("3", 1)))
    assert second.status is OrderStatus.SHIPPED
    assert set(second.remaining.values()) == {0}
    assert [s.shipment_id for s in second.shipments] == ["s1", "s2"]
    assert remaining_quantities(LINES, second.shipments) == {"1": 0, "2": 0, "3": 0}


def test_items_by_sku_and_carrier_details() -> None:
    shipment = Shipment(
        "s1",
        (ShipmentItem(1, sku="LAMP"),),
        carrier=" UPS ",
        tracking_number="1Z999",
    )
    outcome = add_shipment(LINES, (), shipment)
    assert outcome.shipment.items == (ShipmentItem(1, line_id="3", sku="LAMP"),)
    assert outcome.shipment.carrier == "UPS"
    assert outcome.shipment.tracking_number == "1Z999"


def test_shipping_more_than_left_is_refused() -> None:
    first = add_shipment(LINES, [], ship("s1", ("1", 8)))
    with pytest.raises(QuantityExceedsRemaining) as info:
        add_shipment(LINES, first.shipments, ship("s2", ("1", 3)))
    assert info.value.code == "quantity_exceeds_remaining"
    assert info.value.status == 409
    assert "only 2 of 10" in info.value.detail
    with pytest.raises(QuantityExceedsRemaining):
        add_shipment(LINES, [], ship("s1", ("2", 3)))


def test_unknown_lines_and_skus_are_refused() -> None:
    with pytest.raises(UnknownLine) as info:
        add_shipment(LINES, [], ship("s1", ("9", 1)))
    assert info.value.code == "unknown_line"
    with pytest.raises(UnknownSku) as sku_info:
        add_shipment(LINES, [], Shipment("s1", (ShipmentItem(1, sku="SOFA"),)))
    assert sku_info.value.code == "unknown_sku"
    with pytest.raises(UnknownSku):
        add_shipment(LINES, [], Shipment("s1", (ShipmentItem(1, line_id="1", sku="DESK"),)))


def test_malformed_shipments_are_refused() -> None:
    with pytest.raises(InvalidShipment):
        add_shipment(LINES, [], ship("s1", ("1", 1), ("1", 1)))
    with pytest.raises(InvalidShipment):
        Shipment("s1", ())
    with pytest.raises(InvalidShipment):
        Shipment("bad id!", (ShipmentItem(1, line_id="1"),))
    with pytest.raises(InvalidShipment):
        ShipmentItem(1)
    with pytest.raises(InvalidShipment):
        Shipment("s1", (ShipmentItem(1, line_id="1"),), carrier="x" * 101)
    for quantity in (0, -2, 1.5, True):
        with pytest.raises(InvalidQuantity):
            ShipmentItem(quantity, line_id="1")  # type: ignore[arg-type]
    twins = (line("a", "CHAIR", 1), line("b", "CHAIR", 1))
    with pytest.raises(InvalidShipment, match="several lines"):
        add_shipment(twins, [], Shipment("s1", (ShipmentItem(1, sku="CHAIR"),)))
    with pytest.raises(InvalidLineItem):
        add_shipment((*LINES, LINES[0]), [], ship("s1", ("1", 1)))
    with pytest.raises(InvalidLineItem):
        add_shipment((), [], ship("s1", ("1", 1)))


def test_duplicate_shipment_ids() -> None:
    first = add_shipment(LINES, [], ship("s1", ("1", 1)))
    with pytest.raises(DuplicateShipment) as info:
        add_shipment(LINES, first.shipments, ship("s1", ("1", 1)))
    assert info.value.code == "duplicate_shipment"


def test_inputs_are_not_modified() -> None:
    shipments = [ship("s1", ("1", 2))]
    before = copy.deepcopy(shipments)
    add_shipment(LINES, shipments, ship("s2", ("1", 1)))
    with pytest.raises(QuantityExceedsRemaining):
        add_shipment(LINES, shipments, ship("s3", ("1", 99)))
    assert shipments == before


def test_backorders() -> None:
    backorder = set_backorder(LINES[0], date(2026, 5, 1), today=TODAY, remaining=6, note=" May ")
    assert backorder == Backorder("1", 6, date(2026, 5, 1), "May")
    partial = set_backorder(LINES[0], TODAY, today=TODAY, remaining=6, quantity=2)
    assert partial.quantity == 2
    with pytest.raises(LineFullyShipped) as info:
        set_backorder(LINES[1], date(2026, 5, 1), today=TODAY, remaining=0)
    assert info.value.code == "line_fully_shipped"
    with pytest.raises(QuantityExceedsRemaining):
        set_backorder(LINES[0], date(2026, 5, 1), today=TODAY, remaining=6, quantity=7)
    with pytest.raises(InvalidQuantity):
        set_backorder(LINES[0], date(2026, 5, 1), today=TODAY, remaining=6, quantity=0)
    for bad in (
        TODAY - timedelta(days=1),
        TODAY + timedelta(days=731),
        datetime(2026, 5, 1),
        "2026-05-01",
    ):
        with pytest.raises(InvalidBackorder) as bad_info:
            set_backorder(LINES[0], bad, today=TODAY, remaining=6)  # type: ignore[arg-type]
        assert bad_info.value.code == "invalid_backorder"


def test_backorders_follow_shipments() -> None:
    backorders = (Backorder("1", 6, TODAY), Backorder("3", 1, TODAY))
    outcome = add_shipment(LINES, [ship("s0", ("1", 4))], ship("s1", ("1", 3), ("3", 1)))
    assert reconcile_backorders(backorders, outcome.remaining) == (Backorder("1", 3, TODAY),)


@st.composite
def order_and_attempts(draw: st.DrawFn) -> tuple[tuple[OrderLine, ...], list[Shipment]]:
    quantities = draw(st.lists(st.integers(1, 20), min_size=1, max_size=6))
    lines = tuple(line(f"l{i}", f"SKU{i}", q) for i, q in enumerate(quantities))
    attempts = []
    for number in range(draw(st.integers(0, 25))):
        chosen = draw(st.lists(st.integers(0, len(lines) + 1), min_size=1, max_size=4))
        items = tuple(
            ShipmentItem(draw(st.integers(1, 25)), line_id=f"l{index}") for index in chosen
        )
        attempts.append(Shipment(f"s{draw(st.integers(0, number + 1))}", items))
    return lines, attempts


@given(order_and_attempts())
def test_shipments_never_ship_more_than_ordered(
    case: tuple[tuple[OrderLine, ...], list[Shipment]],
) -> None:
    lines, attempts = case
    shipments: tuple[Shipment, ...] = ()
    status = None
    for attempt in attempts:
        try:
            outcome = add_shipment(lines, shipments, attempt)
        except (QuantityExceedsRemaining, UnknownLine, InvalidShipment, DuplicateShipment):
            continue
        shipments = outcome.shipments
        status = outcome.status
        assert dict(outcome.remaining) == remaining_quantities(lines, shipments)
    shipped = {ln.line_id: 0 for ln in lines}
    for shipment in shipments:
        for item in shipment.items:
            assert item.line_id is not None
            shipped[item.line_id] += item.quantity
    for ln in lines:
        assert 0 <= shipped[ln.line_id] <= ln.quantity
    if status is not None:
        complete = all(shipped[ln.line_id] == ln.quantity for ln in lines)
        assert status is (OrderStatus.SHIPPED if complete else OrderStatus.PARTIALLY_SHIPPED)
    assert len({s.shipment_id for s in shipments}) == len(shipments)
