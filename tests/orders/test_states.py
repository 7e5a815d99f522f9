"""The order status machine, edge by edge and as a graph."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_service.errors import Conflict
from chat_service.orders.errors import IllegalTransition, UnknownStatus
from chat_service.orders.states import (
    ALLOWED,
    INITIAL,
    TERMINAL,
    OrderStatus,
    can_transition,
    parse_status,
    transition,
)

S = OrderStatus
EDGES = {(source, target) for source, targets in ALLOWED.items() for target in targets}


def test_table_covers_every_status() -> None:
    assert set(ALLOWED) == set(OrderStatus)
    assert {S.REJECTED, S.CANCELLED, S.REFUNDED} == TERMINAL
    assert {S.PLACED, S.AWAITING_APPROVAL} == INITIAL


def test_every_status_is_reachable_from_a_start() -> None:
    seen = set(INITIAL)
    frontier = list(INITIAL)
    while frontier:
        for target in ALLOWED[frontier.pop()]:
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(OrderStatus)


def test_the_docstring_table_matches_allowed() -> None:
    import chat_service.orders.states as module

    doc = module.__doc__ or ""
    for source, targets in ALLOWED.items():
        line = next(row for row in doc.splitlines() if row.strip().startswith(source.value + " "))
        listed = line.split(None, 1)[1].strip()
        if targets:
            assert set(listed.split(", ")) == {t.value for t in targets}
        else:
            assert listed == "(final)"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.PLACED, S.PROCESSING),
        (S.PLACED, S.AWAITING_APPROVAL),
        (S.AWAITING_APPROVAL, S.APPROVED),
        (S.AWAITING_APPROVAL, S.REJECTED),
        (S.APPROVED, S.PROCESSING),
        (S.PROCESSING, S.PARTIALLY_SHIPPED),
        (S.PARTIALLY_SHIPPED, S.PARTIALLY_SHIPPED),
        (S.PARTIALLY_SHIPPED, S.SHIPPED),
        (S.PROCESSING, S.SHIPPED),
        (S.SHIPPED, S.DELIVERED),
        (S.DELIVERED, S.REFUNDED),
        (S.PROCESSING, S.CANCELLED),
    ],
)
def test_legal_transitions(source: OrderStatus, target: OrderStatus) -> None:
    assert transition(source, target) is target
    assert transition(source.value, target.value) is target
    assert can_transition(source, target)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (S.PLACED, S.SHIPPED),
        (S.PLACED, S.APPROVED),
        (S.AWAITING_APPROVAL, S.PROCESSING),
        (S.SHIPPED, S.PROCESSING),
        (S.SHIPPED, S.CANCELLED),
        (S.PARTIALLY_SHIPPED, S.CANCELLED),
        (S.DELIVERED, S.SHIPPED),
        (S.PROCESSING, S.DELIVERED),
        (S.PROCESSING, S.PROCESSING),
        (S.CANCELLED, S.PROCESSING),
        (S.REJECTED, S.APPROVED),
        (S.REFUNDED, S.DELIVERED),
    ],
)
def test_illegal_transitions(source: OrderStatus, target: OrderStatus) -> None:
    with pytest.raises(IllegalTransition) as info:
        transition(source, target)
    error = info.value
    assert isinstance(error, Conflict)
    assert error.status == 409
    assert error.code == "illegal_transition"
    assert (error.current, error.target) == (source.value, target.value)
    assert error.allowed == tuple(sorted(t.value for t in ALLOWED[source]))
    assert source.value in error.detail
    assert target.value in error.detail
    assert not can_transition(source, target)


def test_messages_name_the_way_forward() -> None:
    with pytest.raises(IllegalTransition) as info:
        transition("shipped", "processing")
    assert "delivered, refunded" in info.value.detail
    with pytest.raises(IllegalTransition) as info:
        transition("cancelled", "processing")
    assert "final" in info.value.detail


@pytest.mark.parametrize("value", ["", "Shipped", "lost", None, 3, "shipped "])
def test_unknown_status(value: object) -> None:
    with pytest.raises(UnknownStatus) as info:
        parse_status(value)
    assert info.value.code == "unknown_status"
    with pytest.raises(UnknownStatus):
        transition("placed", value)  # type: ignore[arg-type]


def test_parse_status() -> None:
    assert parse_status("partially_shipped") is S.PARTIALLY_SHIPPED
    assert parse_status(S.DELIVERED) is S.DELIVERED


@given(
    st.sampled_from(sorted(INITIAL)),
    st.lists(st.sampled_from(list(OrderStatus)), max_size=60),
)
def test_random_sequences_stay_inside_the_graph(
    start: OrderStatus, targets: list[OrderStatus]
) -> None:
    current = start
    terminal_seen = False
    for target in targets:
        before = current
        try:
            current = transition(current, target)
        except IllegalTransition:
            assert current is before  # a refusal changes nothing
            assert (before, target) not in EDGES
        else:
            assert (before, current) in EDGES
            assert not terminal_seen
        assert current in ALLOWED
        if current in TERMINAL:
            terminal_seen = True
            assert not ALLOWED[current]
