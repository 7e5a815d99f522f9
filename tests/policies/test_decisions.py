"""Decision functions: e-mail modes fail closed, retention and limits fail safe."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from policies import (
    AttachmentDecision,
    Policy,
    apply_changes,
    attachment_byte_limit,
    attachment_decision,
    email_content_mode,
    is_expired,
    preset,
    reply_by_email_allowed,
    retention_cutoff,
    retention_days,
    staff_session_expired,
)
from policies.validation import MAX_ATTACHMENT_BYTES, MAX_RETENTION_DAYS

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STANDARD = preset("standard")
GDPR = preset("gdpr")
HIPAA = preset("hipaa")


def unchecked(policy: Policy, part: str, **fields: object) -> Policy:
    """A policy that skipped validation, as a bad stored document might."""
    sub = getattr(policy, part).model_copy(update=fields)
    return policy.model_copy(update={"preset": "custom", part: sub})


# -- away e-mail --------------------------------------------------------------


def test_email_mode_per_role() -> None:
    policy = apply_changes(
        STANDARD, {"email": {"content_by_role": {"buyer": "off", "staff": "redacted"}}}
    )
    assert email_content_mode(policy, "buyer") == "off"
    assert email_content_mode(policy, "seller") == "full"
    assert email_content_mode(policy, "staff") == "redacted"


@pytest.mark.parametrize("role", ["buyer", "seller", "staff"])
def test_hipaa_preset_is_redacted(role: str) -> None:
    assert email_content_mode(HIPAA, role) == "redacted"


@pytest.mark.parametrize("role", ["buyer", "seller", "staff", "admin", "", "BUYER"])
def test_no_policy_fails_closed(role: str) -> None:
    assert email_content_mode(None, role) == "redacted"


@pytest.mark.parametrize("role", ["admin", "", "Buyer", "content_by_role", "__class__"])
def test_unknown_role_fails_closed(role: str) -> None:
    assert email_content_mode(STANDARD, role) == "redacted"


def test_unreadable_policy_fails_closed() -> None:
    assert email_content_mode({"email": "full"}, "buyer") == "redacted"  # type: ignore[arg-type]
    roles = STANDARD.email.content_by_role.model_construct(buyer="everything", seller=None)
    broken = unchecked(STANDARD, "email", content_by_role=roles)
    assert email_content_mode(broken, "buyer") == "redacted"
    assert email_content_mode(broken, "seller") == "redacted"


def test_hipaa_never_gets_full_even_unvalidated() -> None:
    roles = HIPAA.email.content_by_role.model_copy(update={"buyer": "full"})
    broken = unchecked(HIPAA, "email", content_by_role=roles)
    assert email_content_mode(broken, "buyer") == "redacted"


@pytest.mark.parametrize(
    ("policy", "mode", "allowed"),
    [
        (STANDARD, "full", True),
        (STANDARD, "redacted", True),
        (STANDARD, "off", False),
        (STANDARD, "bogus", False),
        (HIPAA, "redacted", False),
        (apply_changes(HIPAA, {"email": {"reply_by_email_allowed": True}}), "redacted", True),
        (apply_changes(STANDARD, {"email": {"reply_by_email_allowed": False}}), "full", False),
        (None, "full", False),
        (None, "redacted", False),
    ],
)
def test_reply_by_email(policy: Policy | None, mode: str, allowed: bool) -> None:
    assert reply_by_email_allowed(policy, mode) is allowed


# -- retention ------------------------------------------------------------------


def test_keep_for_ever() -> None:
    ancient = datetime(1990, 1, 1, tzinfo=UTC)
    for kind in ("message", "attachment"):
        assert retention_days(kind, STANDARD) is None
        assert retention_cutoff(kind, STANDARD, NOW) is None
        assert not is_expired(ancient, kind, STANDARD, NOW)


def test_gdpr_cutoffs() -> None:
    assert retention_cutoff("message", GDPR, NOW) == NOW - timedelta(days=365)
    assert retention_cutoff("attachment", GDPR, NOW) == NOW - timedelta(days=180)


@pytest.mark.parametrize(
    ("age", "kind", "expired"),
    [
        (timedelta(days=179, hours=23), "attachment", False),
        (timedelta(days=180), "attachment", True),
        (timedelta(days=200), "attachment", True),
        (timedelta(days=200), "message", False),
        (timedelta(days=365) - timedelta(microseconds=1), "message", False),
        (timedelta(days=365), "message", True),
        (timedelta(days=-1), "message", False),  # from the future: clock skew
    ],
)
def test_is_expired_boundaries(age: timedelta, kind: str, expired: bool) -> None:
    assert is_expired(NOW - age, kind, GDPR, NOW) is expired  # type: ignore[arg-type]


def test_other_time_zones_compare_correctly() -> None:
    tokyo = timezone(timedelta(hours=9))
    created = (NOW - timedelta(days=365)).astimezone(tokyo)
    assert is_expired(created, "message", GDPR, NOW)
    assert not is_expired(created + timedelta(seconds=1), "message", GDPR, NOW)


def test_attachments_never_outlive_their_message() -> None:
    only_messages = apply_changes(STANDARD, {"retention": {"message_days": 30}})
    assert retention_days("attachment", only_messages) == 30
    only_attachments = apply_changes(STANDARD, {"retention": {"attachment_days": 7}})
    assert retention_days("attachment", only_attachments) == 7
    assert retention_days("message", only_attachments) is None
    unvalidated = unchecked(STANDARD, "retention", message_days=10, attachment_days=99)
    assert retention_days("attachment", unvalidated) == 10


def test_bad_retention_values_fail_safe() -> None:
    zero = unchecked(STANDARD, "retention", message_days=0)
    assert retention_days("message", zero) == 1
    assert not is_expired(NOW - timedelta(hours=23), "message", zero, NOW)
    huge = unchecked(STANDARD, "retention", message_days=10**12)
    assert retention_days("message", huge) == MAX_RETENTION_DAYS
    early = datetime(1, 1, 2, tzinfo=UTC)
    floor = unchecked(STANDARD, "retention", message_days=MAX_RETENTION_DAYS)
    assert retention_cutoff("message", floor, early) == datetime.min.replace(tzinfo=UTC)


def test_naive_datetimes_and_unknown_kinds_are_programming_errors() -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_expired(naive, "message", GDPR, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        retention_cutoff("message", GDPR, naive)
    with pytest.raises(ValueError, match="record kind"):
        retention_days("conversation", GDPR)  # type: ignore[arg-type]


# -- attachments ----------------------------------------------------------------


def test_attachment_allowed() -> None:
    decision = attachment_decision(STANDARD, size_bytes=1024, count_in_message=1)
    assert decision == AttachmentDecision(True)
    assert decision.reason is None
    assert decision.detail == "attachment allowed"


@pytest.mark.parametrize(
    ("policy", "size", "count", "reason", "limit"),
    [
        (
            apply_changes(STANDARD, {"attachments": {"allowed": False}}),
            1,
            1,
            "attachments_disabled",
            None,
        ),
        (STANDARD, 10 * 1024 * 1024 + 1, 1, "attachment_too_large", 10 * 1024 * 1024),
        (STANDARD, 1, 11, "too_many_attachments", 10),
        (STANDARD, 10**9, 11, "too_many_attachments", 10),  # count is checked first
    ],
)
def test_attachment_refusals(
    policy: Policy, size: int, count: int, reason: str, limit: int | None
) -> None:
    decision = attachment_decision(policy, size_bytes=size, count_in_message=count)
    assert not decision.allowed
    assert (decision.reason, decision.limit) == (reason, limit)
    assert decision.detail != "attachment allowed"


def test_attachment_limits_are_inclusive() -> None:
    assert attachment_decision(STANDARD, size_bytes=10 * 1024 * 1024, count_in_message=10).allowed
    assert attachment_decision(STANDARD, size_bytes=0, count_in_message=0).allowed


def test_hard_cap_applies_to_unvalidated_policies() -> None:
    greedy = unchecked(STANDARD, "attachments", max_bytes=10**12, max_per_message=10**6)
    assert attachment_byte_limit(greedy) == MAX_ATTACHMENT_BYTES
    assert (
        attachment_decision(greedy, size_bytes=MAX_ATTACHMENT_BYTES + 1, count_in_message=1).reason
        == "attachment_too_large"
    )
    assert (
        attachment_decision(greedy, size_bytes=1, count_in_message=21).reason
        == "too_many_attachments"
    )


def test_negative_sizes_are_programming_errors() -> None:
    with pytest.raises(ValueError, match="negative"):
        attachment_decision(STANDARD, size_bytes=-1, count_in_message=1)
    with pytest.raises(ValueError, match="negative"):
        attachment_decision(STANDARD, size_bytes=1, count_in_message=-1)


# -- staff sessions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "idle", "expired"),
    [
        (HIPAA, timedelta(minutes=14, seconds=59), False),
        (HIPAA, timedelta(minutes=15), True),
        (STANDARD, timedelta(minutes=59), False),
        (STANDARD, timedelta(hours=1), True),
        (STANDARD, timedelta(minutes=-5), False),  # clock skew
    ],
)
def test_staff_session_idle(policy: Policy, idle: timedelta, expired: bool) -> None:
    assert staff_session_expired(NOW - idle, policy, NOW) is expired


def test_staff_session_timeout_is_clamped() -> None:
    never = unchecked(STANDARD, "staff", session_idle_minutes=10**9)
    assert staff_session_expired(NOW - timedelta(minutes=480), never, NOW)
    instant = unchecked(STANDARD, "staff", session_idle_minutes=0)
    assert not staff_session_expired(NOW - timedelta(seconds=59), instant, NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        staff_session_expired(datetime(2026, 1, 1), STANDARD, NOW)
