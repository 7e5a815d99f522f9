"""B2B order approval: a buyer organisation's approvers and their thresholds.

An organisation lists rules such as "orders of 2,000.00 USD or more need
Ann", "3,000.00 USD or more need Bo or Cy", "5,000.00 USD or more need Di".
The semantics:

* The order's value is its subtotal (:class:`chat_service.orders.money.Totals`)
  in the order's currency.
* The rule that applies is the one with the **highest threshold at or below**
  the value: 2,000.00 exactly needs Ann, 4,999.99 needs Bo or Cy, 12,000
  needs Di. Below the lowest threshold no approval is needed and the order
  starts as ``placed``; otherwise it starts as ``awaiting_approval``.
* Only the applying rule's approvers may approve or reject; any one of them
  is enough. Seniority is not implied: a rule for a higher threshold does not
  let its approvers act on lower-value orders. An organisation that wants its
  CFO to approve everything lists the CFO in every rule.
* Thresholds are compared only with orders in the same currency. If the
  organisation has rules but none in the order's currency, the order is
  refused with ``approval_currency_mismatch`` instead of skipping approval.
* Two rules may not share a currency and threshold (which would apply?).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from chat_service.ids import EXTERNAL_ID_PATTERN
from chat_service.orders.errors import (
    ApprovalCurrencyMismatch,
    InvalidApprovalRules,
    NotAnApprover,
)
from chat_service.orders.money import Money
from chat_service.orders.states import OrderStatus, transition

__all__ = [
    "MAX_APPROVERS_PER_RULE",
    "MAX_RULES",
    "ApprovalRule",
    "check_rules",
    "decide_approval",
    "initial_status",
    "may_approve",
    "required_approver",
]

MAX_RULES: Final = 50
MAX_APPROVERS_PER_RULE: Final = 50

_ID = re.compile(EXTERNAL_ID_PATTERN)


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    """Orders worth ``minimum`` or more wait for one of ``approver_ids``."""

    rule_id: str
    minimum: Money
    approver_ids: frozenset[str]

    def __post_init__(self) -> None:
        if not isinstance(self.rule_id, str) or not _ID.fullmatch(self.rule_id):
            raise InvalidApprovalRules(f"rule id {self.rule_id!r} is not a valid id")
        if not isinstance(self.minimum, Money) or self.minimum.amount <= 0:
            raise InvalidApprovalRules(f"rule {self.rule_id!r}: the minimum must be above zero")
        if isinstance(self.approver_ids, str):
            raise InvalidApprovalRules(f"rule {self.rule_id!r}: approver_ids is a set of ids")
        approvers = frozenset(self.approver_ids)
        if not approvers or len(approvers) > MAX_APPROVERS_PER_RULE:
            raise InvalidApprovalRules(
                f"rule {self.rule_id!r} needs 1 to {MAX_APPROVERS_PER_RULE} approvers"
            )
        for approver in approvers:
            if not isinstance(approver, str) or not _ID.fullmatch(approver):
                raise InvalidApprovalRules(f"approver id {approver!r} is not a valid id")
        object.__setattr__(self, "approver_ids", approvers)


def check_rules(
    rules: Iterable[ApprovalRule], *, max_rules: int = MAX_RULES
) -> tuple[ApprovalRule, ...]:
    """``rules`` as a tuple ordered by currency and threshold, if they can be
    one organisation's: at most ``max_rules``, distinct ids, no two rules with
    the same currency and threshold."""
    checked = tuple(rules)
    if len(checked) > max_rules:
        raise InvalidApprovalRules(f"an organisation has at most {max_rules} approval rules")
    ids: set[str] = set()
    thresholds: set[tuple[str, Decimal]] = set()
    for rule in checked:
        if rule.rule_id in ids:
            raise InvalidApprovalRules(f"rule id {rule.rule_id!r} appears more than once")
        ids.add(rule.rule_id)
        key = (rule.minimum.currency, rule.minimum.amount)
        if key in thresholds:
            raise InvalidApprovalRules(f"two rules share the threshold {rule.minimum}")
        thresholds.add(key)
    return tuple(sorted(checked, key=lambda r: (r.minimum.currency, r.minimum.amount)))


def required_approver(rules: Iterable[ApprovalRule], total: Money) -> ApprovalRule | None:
    """The rule whose approvers must approve an order worth ``total``, or
    ``None`` when it needs no approval (see the module docstring)."""
    checked = check_rules(rules)
    same_currency = [rule for rule in checked if rule.minimum.currency == total.currency]
    if checked and not same_currency:
        currencies = ", ".join(sorted({rule.minimum.currency for rule in checked}))
        raise ApprovalCurrencyMismatch(
            f"the buyer's approval rules are in {currencies}; an order in {total.currency} "
            "cannot be checked against them"
        )
    reached = [rule for rule in same_currency if rule.minimum.amount <= total.amount]
    return max(reached, key=lambda rule: rule.minimum.amount, default=None)


def initial_status(rules: Iterable[ApprovalRule], total: Money) -> OrderStatus:
    """``awaiting_approval`` if an order worth ``total`` needs approval, else ``placed``."""
    if required_approver(rules, total) is None:
        return OrderStatus.PLACED
    return OrderStatus.AWAITING_APPROVAL


def may_approve(rule: ApprovalRule, approver_id: str) -> bool:
    """Whether ``approver_id`` may approve or reject an order under ``rule``."""
    return approver_id in rule.approver_ids


def decide_approval(
    current: OrderStatus | str, rule: ApprovalRule, approver_id: str, *, approve: bool
) -> OrderStatus:
    """``approved`` or ``rejected`` for an order in ``current`` status, if
    ``approver_id`` may decide under ``rule``; :class:`NotAnApprover` or
    :class:`chat_service.orders.errors.IllegalTransition` otherwise."""
    if not may_approve(rule, approver_id):
        raise NotAnApprover(
            f"{approver_id!r} is not an approver for orders of {rule.minimum} or more"
        )
    return transition(current, OrderStatus.APPROVED if approve else OrderStatus.REJECTED)
