"""Random sequences of quote actions by random actors at random times never
leave the documented graph, never change the input on a refusal, and keep
the revision history append-only."""

import copy
import functools
from datetime import datetime, timedelta
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from chat_service.errors import ChatError
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
from chat_service.quotes.models import QuoteState, make_quote_line, request_quote
from chat_service.quotes.revisions import expire_if_due
from chat_service.quotes.states import ALLOWED, TERMINAL, QuoteStatus
from tests.quotes.helpers import NOW

EDGES = {(source, target) for source, targets in ALLOWED.items() for target in targets}
# Mostly the role that may act, sometimes anyone (refusals are part of the test).
ROLES = {
    "respond": "seller",
    "counter": "buyer",
    "accept": "buyer",
    "decline": "seller",
    "withdraw": "buyer",
    "convert": "server",
    "expire": "server",
}
# Weighted so that negotiations get deep before a decline or withdrawal ends them.
KINDS = ["respond"] * 6 + ["counter"] * 6 + ["accept"] * 5 + ["convert"] * 2 + ["expire"] * 2
KINDS += ["decline", "withdraw"]
sides = st.sampled_from([None, "buyer", "seller"])
anyone = st.sampled_from(["buyer", "seller", "server", "staff"])
amounts = st.sampled_from(["0", "1", "12.50", "999.99", "12.345", "-1", "1e3"])
offsets = st.integers(-1, 20).map(lambda days: timedelta(days=days, hours=1))
documents = st.sampled_from(["sales_order", "invoice", "quote"])
terms = st.sampled_from(["card", "ach", "purchase_order", "account_credit", "cash"])
Spec = tuple[Any, ...]


@functools.cache
def prices(line_count: int) -> st.SearchStrategy[dict[str, str]]:
    """Three times in four a price for every line; otherwise anything."""
    ids = [str(i) for i in range(line_count)] + ["x"]
    valid = st.lists(
        st.sampled_from(["0", "1", "10", "12.00", "999"]), min_size=line_count, max_size=line_count
    ).map(lambda values: dict(zip(ids, values, strict=False)))
    invalid = st.dictionaries(st.sampled_from(ids), amounts, max_size=line_count + 1)
    return st.one_of(valid, valid, valid, invalid)


@st.composite
def steps(draw: st.DrawFn, line_count: int) -> tuple[str, Spec, int]:
    """(actor, command spec, seconds to wait first); valid_until is an offset."""
    kind = draw(st.sampled_from(KINDS))
    actor = ROLES[kind] if draw(st.integers(0, 3)) else draw(anyone)
    spec: Spec
    if kind == "respond":
        spec = (kind, draw(prices(line_count)), draw(offsets), draw(st.none() | st.just("n")))
    elif kind == "counter":
        coherent = draw(st.integers(0, 3)) > 0
        actor = draw(st.sampled_from(["buyer", "seller"])) if coherent else actor
        side = None if coherent else draw(sides)
        until = draw(offsets) if (actor == "seller") == coherent else None
        spec = (kind, draw(prices(line_count)), until, side)
    elif kind == "accept":
        # Mostly the latest revision (relative), sometimes an older or absurd number.
        spec = (kind, draw(st.sampled_from(["latest", "latest", "older"]) | st.integers(0, 12)))
    elif kind == "decline":
        spec = (kind, draw(st.none() | st.just("no thanks")), draw(sides))
    elif kind == "convert":
        spec = (kind, draw(documents), draw(terms))
    else:
        spec = (kind,)
    return actor, spec, draw(st.integers(0, 3 * 24 * 3600))


def build(spec: Spec, now: datetime, state: QuoteState) -> QuoteCommand:
    latest = len(state.revisions)
    match spec:
        case ("accept", "latest"):
            return Accept(latest)
        case ("accept", "older"):
            return Accept(max(latest - 1, 0))
        case ("respond", prices_, offset, note):
            return Respond(prices_, now + offset, note)
        case ("counter", prices_, offset, side):
            return Counter(prices_, None if offset is None else now + offset, None, side)
        case ("accept", number):
            return Accept(number)
        case ("decline", reason, side):
            return Decline(reason, side)
        case ("withdraw",):
            return Withdraw()
        case ("convert", kind, terms):
            return Convert(kind, terms)
    raise AssertionError(spec)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[QuoteState, list[tuple[str, Spec, int]]]:
    line_count = draw(st.integers(1, 3))
    lines = [
        make_quote_line(
            line_id=str(i), sku=f"SKU-{i}", name=f"item {i}", quantity=i + 1, options={"k": "v"}
        )
        for i in range(line_count)
    ]
    quote = request_quote(lines, draw(st.sampled_from(["USD", "JPY", "KWD"])), NOW)
    return quote, draw(st.lists(steps(line_count), min_size=5, max_size=40))


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_random_quote_negotiations_stay_inside_the_graph(
    scenario: tuple[QuoteState, list[tuple[str, Spec, int]]],
) -> None:
    state, plan = scenario
    now = NOW
    for actor, spec, seconds in plan:
        now += timedelta(seconds=seconds)
        before = state
        snapshot = copy.deepcopy(state)
        try:
            if spec[0] == "expire":
                after = expire_if_due(state, now)
            else:
                after = apply_action(state, actor, build(spec, now, state), now)  # type: ignore[arg-type]
        except ChatError:
            assert state == snapshot  # refusals change nothing
            continue
        assert before == snapshot  # the input is never modified
        if after is before:
            continue
        assert before.status not in TERMINAL  # terminal states stay terminal
        assert (before.status, after.status) in EDGES
        event(f"{before.status} -> {after.status}")  # see --hypothesis-show-statistics
        check_invariants(before, after, now)
        state = after


def check_invariants(before: QuoteState, after: QuoteState, now: datetime) -> None:
    assert isinstance(after.status, QuoteStatus)
    assert after.revisions[: len(before.revisions)] == before.revisions  # append-only history
    assert [r.number for r in after.revisions] == list(range(1, len(after.revisions) + 1))
    assert after.lines == before.lines
    for revision in after.revisions:
        assert {line_id for line_id, _ in revision.prices} == {ln.line_id for ln in after.lines}
        if revision.author == "seller":
            assert revision.valid_until is not None
        else:
            assert revision.valid_until is None
    if after.status is QuoteStatus.ACCEPTED:
        accepted = after.accepted
        assert accepted is not None
        assert accepted is after.revisions[-1]
        assert accepted.author == "seller"
        assert accepted.valid_until is not None
        assert now < accepted.valid_until
    if after.status is QuoteStatus.EXPIRED:
        latest = after.latest
        assert latest is not None
        assert latest.valid_until is not None
        assert now >= latest.valid_until
    if after.status is QuoteStatus.CONVERTED:
        assert after.conversion is not None
        assert after.conversion.revision == after.accepted_revision
