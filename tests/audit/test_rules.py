"""What an audit entry may hold: pure checks, no store, no event loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from chat_service.audit import AUDIT_ACTIONS, AuditActor, AuditQuery
from chat_service.audit.rules import (
    check_action,
    check_actor,
    check_details,
    check_target,
    check_tenant,
)
from chat_service.auth.principals import ServerPrincipal, UserPrincipal
from chat_service.errors import BadRequest

MESSAGE_TEXT = "the blue chair arrived in the wrong colour, call me on 555 0101"

REFUSED_DETAILS: list[tuple[str, Any]] = [
    ("message-like free text", {"note": MESSAGE_TEXT}),
    ("a single word with a space", {"reason": "wrong colour"}),
    ("a newline", {"reason": "a\nb"}),
    ("quotes", {"reason": 'x"y'}),
    ("a nested object", {"policy": {"email_mode": "full"}}),
    ("an operator object", {"seq": {"$gt": 0}}),
    ("a list", {"ids": ["c1", "c2"]}),
    ("a too long string", {"ticket": "a" * 201}),
    ("an operator key", {"$set": 1}),
    ("a dotted key", {"a.b": 1}),
    ("an upper-case key", {"Reason": "x"}),
    ("an empty key", {"": 1}),
    ("a non-string key", {1: "x"}),
    ("NaN", {"ratio": float("nan")}),
    ("infinity", {"ratio": float("inf")}),
    ("an integer beyond 64 bits", {"count": 2**64}),
    ("bytes", {"blob": b"abc"}),
    ("a datetime", {"when": datetime(2026, 1, 1, tzinfo=UTC)}),
    ("too many keys", {f"k{i}": i for i in range(21)}),
    ("not a mapping", ["a", 1]),
]


@pytest.mark.parametrize(("case", "details"), REFUSED_DETAILS, ids=[c for c, _ in REFUSED_DETAILS])
def test_details_that_could_carry_content_are_refused(case: str, details: Any) -> None:
    with pytest.raises(BadRequest) as raised:
        check_details(details)
    assert raised.value.code == "audit_details_invalid"
    assert raised.value.status == 400
    # The refusal never repeats the refused value (it may be the content itself).
    assert MESSAGE_TEXT not in raised.value.detail
    assert "wrong colour" not in raised.value.detail
    assert "a" * 50 not in raised.value.detail


def test_ids_numbers_booleans_and_short_tokens_are_kept_as_they_are() -> None:
    details = {
        "conversation": "c_0123456789abcdef01234567",
        "user": "buyer-1@shop.example",
        "old_version": 3,
        "new_version": 4,
        "ratio": 0.5,
        "full_text": False,
        "previous": None,
        "ticket": "ZD-1042",
        "at": "2026-01-01T00:00:00+00:00",
        "digest": "sha256:AbC/+=",
        "longest": "x" * 200,
    }
    checked = check_details(details)
    assert checked == details
    assert type(checked["full_text"]) is bool
    assert check_details(None) == {}


def test_every_action_is_domain_past_verb() -> None:
    assert len(set(AUDIT_ACTIONS)) == len(AUDIT_ACTIONS) >= 12
    for action in AUDIT_ACTIONS:
        domain, _, verb = action.partition(".")
        assert domain and verb and domain.replace("_", "").isalpha(), action
        assert check_action(action) == action


@pytest.mark.parametrize("action", ["message.created", "policy.change", "", "policy.changed "])
def test_unknown_actions_are_refused(action: str) -> None:
    with pytest.raises(BadRequest) as raised:
        check_action(action)
    assert raised.value.code == "audit_action_unknown"


@pytest.mark.parametrize("tenant", ["", "$where", "t 1", "a" * 65, None, {"$ne": 1}])
def test_bad_tenants_are_refused(tenant: Any) -> None:
    with pytest.raises(BadRequest) as raised:
        check_tenant(tenant)
    assert raised.value.code == "audit_entry_invalid"


@pytest.mark.parametrize(
    ("target_type", "target_id"),
    [("Conversation", "c1"), ("conversation", "c 1"), ("conversation", ""), ("$x", "c1")],
)
def test_bad_targets_are_refused(target_type: str, target_id: str) -> None:
    with pytest.raises(BadRequest) as raised:
        check_target(target_type, target_id)
    assert raised.value.code == "audit_entry_invalid"


def test_actors_are_ids_not_names() -> None:
    with pytest.raises(ValidationError):
        AuditActor(type="staff", id="Jane Doe")
    with pytest.raises(ValidationError):
        AuditActor(type="robot", id="x")  # type: ignore[arg-type]
    # Built without validation, it is still checked before it is recorded.
    sneaky = AuditActor.model_construct(type="staff", id="Jane Doe", role=None)
    with pytest.raises(BadRequest) as raised:
        check_actor(sneaky)
    assert raised.value.code == "audit_entry_invalid"


def test_actor_of_a_principal() -> None:
    expires = datetime.now(UTC) + timedelta(minutes=5)
    staff = UserPrincipal(tenant="t_1", user_id="s1", name="S", role="staff", expires_at=expires)
    buyer = UserPrincipal(tenant="t_1", user_id="b1", name="B", role="buyer", expires_at=expires)
    assert AuditActor.of(staff) == AuditActor(type="staff", id="s1", role="staff")
    assert AuditActor.of(buyer) == AuditActor(type="user", id="b1", role="buyer")
    assert AuditActor.of(ServerPrincipal(tenant="t_1")) == AuditActor(type="server", id="t_1")
    assert AuditActor.system("retention") == AuditActor(type="system", id="retention")


@pytest.mark.parametrize(
    "raw",
    [
        {"actor_id": {"$ne": None}},
        {"target_id": "c1 OR 1"},
        {"action": "message.created"},
        {"target_type": "$where"},
        {"limit": 0},
        {"limit": 501},
        {"before_seq": 0},
        {"sort": "hash"},
    ],
)
def test_search_filters_are_typed(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        AuditQuery.model_validate(raw)
