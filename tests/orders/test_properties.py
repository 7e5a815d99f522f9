"""An order's life as random status changes and shipments, the way the
service combines the pure parts: a shipment is recorded only if the order may
move to the status it implies, and nothing changes when either step refuses."""

import copy
from dataclasses import dataclass

from hypothesis import event, given, settings
from hypothesis import strategies as st

from chat_service.errors import ChatError
from chat_service.orders.fulfilment import Shipment, ShipmentItem, add_shipment
from chat_service.orders.lines import OrderLine, make_order_line
from chat_service.orders.states import ALLOWED, INITIAL, TERMINAL, OrderStatus, transition

EDGES = {(source, target) for source, targets in ALLOWED.items() for target in targets}


@dataclass(frozen=True)
class Order:
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    shipments: tuple[Shipment, ...] = ()


def apply(order: Order, step: tuple[str, object]) -> Order:
    kind, payload = step
    if kind == "status":
        return Order(transition(order.status, payload), order.lines, order.shipments)  # type: ignore[arg-type]
    reuse_id, items = payload  # type: ignore[misc]
    number = 0 if reuse_id else len(order.shipments)
    shipment = Shipment(
        f"s{number}", tuple(ShipmentItem(q, line_id=f"l{i}") for i, q in items.items())
    )
    outcome = add_shipment(order.lines, order.shipments, shipment)
    return Order(transition(order.status, outcome.status), order.lines, outcome.shipments)


@st.composite
def lives(draw: st.DrawFn) -> tuple[Order, list[tuple[str, object]]]:
    quantities = draw(st.lists(st.integers(1, 5), min_size=1, max_size=4))
    lines = tuple(
        make_order_line(
            line_id=f"l{i}", sku=f"S{i}", name="x", quantity=q, unit_price="1.00", currency="EUR"
        )
        for i, q in enumerate(quantities)
    )
    # Any status can be a starting point (all are reachable); processing most often.
    start = st.sampled_from(sorted(INITIAL)) | st.just(OrderStatus.PROCESSING)
    order = Order(draw(start | st.sampled_from(list(OrderStatus))), lines)
    # Line index len(lines) is unknown to the order; quantities may exceed what is left.
    items = st.dictionaries(
        st.integers(0, len(lines) - 1) | st.integers(0, len(lines)),
        st.integers(1, 2) | st.integers(1, 6),
        min_size=1,
        max_size=3,
    )
    # Weighted towards progress, so that lives reach shipping before they end.
    targets = [*OrderStatus, *[OrderStatus.PROCESSING] * 4, *[OrderStatus.APPROVED] * 2]
    status_step = st.tuples(st.just("status"), st.sampled_from(targets))
    reuse_id = st.integers(0, 9).map(lambda n: n == 0)  # sometimes a duplicate shipment id
    ship_step = st.tuples(st.just("ship"), st.tuples(reuse_id, items))
    step = st.one_of(status_step, ship_step, ship_step)
    return order, draw(st.lists(step, min_size=5, max_size=40))


@settings(max_examples=200, deadline=None)
@given(lives())
def test_random_order_lives(life: tuple[Order, list[tuple[str, object]]]) -> None:
    order, steps = life
    for step in steps:
        snapshot = copy.deepcopy(order)
        try:
            after = apply(order, step)
        except ChatError:
            assert order == snapshot
            continue
        assert order == snapshot
        assert order.status not in TERMINAL
        assert (order.status, after.status) in EDGES
        event(f"{step[0]}: {order.status} -> {after.status}")
        shipped = {line.line_id: 0 for line in after.lines}
        for shipment in after.shipments:
            for item in shipment.items:
                assert item.line_id is not None
                shipped[item.line_id] += item.quantity
        assert all(shipped[line.line_id] <= line.quantity for line in after.lines)
        if step[0] == "ship":
            complete = all(shipped[line.line_id] == line.quantity for line in after.lines)
            assert (after.status is OrderStatus.SHIPPED) == complete
        order = after
