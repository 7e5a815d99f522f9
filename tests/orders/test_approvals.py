"""B2B approval thresholds."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_service.orders.approvals import (
    ApprovalRule,
    check_rules,
    decide_approval,
    initial_status,
    may_approve,
    required_approver,
)
from chat_service.orders.errors import (
    ApprovalCurrencyMismatch,
    IllegalTransition,
    InvalidApprovalRules,
    NotAnApprover,
)
from chat_service.orders.money import Money
from chat_service.orders.states import OrderStatus


def usd(amount: str) -> Money:
    return Money.parse(amount, "USD")


RULES = (
    ApprovalRule("r5000", usd("5000"), frozenset({"di"})),
    ApprovalRule("r2000", usd("2000"), frozenset({"ann"})),
    ApprovalRule("r3000", usd("3000"), frozenset({"bo", "cy"})),
)


@pytest.mark.parametrize(
    ("total", "rule_id"),
    [
        ("0", None),
        ("1999.99", None),
        ("2000.00", "r2000"),
        ("2999.99", "r2000"),
        ("3000", "r3000"),
        ("4999.99", "r3000"),
        ("5000", "r5000"),
        ("1000000", "r5000"),
    ],
)
def test_highest_threshold_at_or_below_the_total(total: str, rule_id: str | None) -> None:
    rule = required_approver(RULES, usd(total))
    assert (rule.rule_id if rule else None) == rule_id
    expected = OrderStatus.AWAITING_APPROVAL if rule_id else OrderStatus.PLACED
    assert initial_status(RULES, usd(total)) is expected


def test_no_rules_means_no_approval() -> None:
    assert required_approver((), usd("1000000")) is None
    assert initial_status([], Money.parse("5", "JPY")) is OrderStatus.PLACED


def test_rules_in_another_currency_fail_closed() -> None:
    with pytest.raises(ApprovalCurrencyMismatch) as info:
        required_approver(RULES, Money.parse("100", "EUR"))
    assert info.value.code == "approval_currency_mismatch"
    mixed = (*RULES, ApprovalRule("eur", Money.parse("1000", "EUR"), frozenset({"eve"})))
    assert required_approver(mixed, Money.parse("999", "EUR")) is None
    chosen = required_approver(mixed, Money.parse("1000", "EUR"))
    assert chosen is not None
    assert chosen.rule_id == "eur"


def test_only_the_matching_approvers_decide() -> None:
    rule = required_approver(RULES, usd("3500"))
    assert rule is not None
    assert may_approve(rule, "bo")
    assert may_approve(rule, "cy")
    assert not may_approve(rule, "ann")
    assert not may_approve(rule, "di")  # no implied seniority
    assert decide_approval("awaiting_approval", rule, "bo", approve=True) is OrderStatus.APPROVED
    assert decide_approval("awaiting_approval", rule, "cy", approve=False) is OrderStatus.REJECTED
    with pytest.raises(NotAnApprover) as info:
        decide_approval("awaiting_approval", rule, "ann", approve=True)
    assert info.value.code == "not_approver"
    assert info.value.status == 403
    with pytest.raises(IllegalTransition):
        decide_approval("approved", rule, "bo", approve=False)


def test_invalid_rules() -> None:
    with pytest.raises(InvalidApprovalRules):
        ApprovalRule("r", usd("0"), frozenset({"a"}))
    with pytest.raises(InvalidApprovalRules):
        ApprovalRule("r", usd("10"), frozenset())
    with pytest.raises(InvalidApprovalRules):
        ApprovalRule("r", usd("10"), "ann")  # type: ignore[arg-type]
    with pytest.raises(InvalidApprovalRules):
        ApprovalRule("r", usd("10"), frozenset({"not valid"}))
    with pytest.raises(InvalidApprovalRules):
        ApprovalRule("bad id", usd("10"), frozenset({"a"}))
    with pytest.raises(InvalidApprovalRules, match="share the threshold"):
        check_rules([*RULES, ApprovalRule("again", usd("2000.00"), frozenset({"x"}))])
    with pytest.raises(InvalidApprovalRules, match="more than once"):
        check_rules([*RULES, ApprovalRule("r2000", usd("9000"), frozenset({"x"}))])
    with pytest.raises(InvalidApprovalRules):
        check_rules(RULES, max_rules=2)
    assert [r.rule_id for r in check_rules(RULES)] == ["r2000", "r3000", "r5000"]


def test_approver_sets_are_frozen() -> None:
    rule = ApprovalRule("r", usd("10"), ["a", "b"])  # type: ignore[arg-type]
    assert rule.approver_ids == frozenset({"a", "b"})


@given(
    st.lists(st.integers(1, 10_000), min_size=0, max_size=8, unique=True),
    st.integers(0, 12_000),
)
def test_required_approver_matches_its_definition(thresholds: list[int], total: int) -> None:
    rules = [ApprovalRule(f"r{t}", usd(str(t)), frozenset({f"u{t}"})) for t in thresholds]
    chosen = required_approver(rules, usd(str(total)))
    reached = [t for t in thresholds if t <= total]
    if not reached:
        assert chosen is None
    else:
        assert chosen is not None
        assert chosen.minimum.amount == Decimal(max(reached))
