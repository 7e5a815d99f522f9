"""Policy rules, partial updates and change lists."""

from typing import Any

import pytest

from policies import (
    Policy,
    PolicyInvalid,
    apply_changes,
    changed_fields,
    policy_problems,
    preset,
    validate,
)
from policies.validation import (
    MAX_ATTACHMENT_BYTES,
    MAX_EMAIL_DELAY_SECONDS,
    MAX_RETENTION_DAYS,
)

STANDARD = preset("standard")
GDPR = preset("gdpr")
HIPAA = preset("hipaa")


def changed(policy: Policy, **parts: dict[str, Any]) -> Policy:
    """``policy`` with sub-model fields replaced, not validated."""
    update: dict[str, Any] = {}
    for name, fields in parts.items():
        update[name] = getattr(policy, name).model_copy(update=fields)
    return policy.model_copy(update=update)


def paths(policy: Policy) -> list[str]:
    return [path for path, _ in policy_problems(policy)]


def refused(policy: Policy, changes: Any) -> dict[str, str]:
    with pytest.raises(PolicyInvalid) as info:
        apply_changes(policy, changes)
    return dict(info.value.problems)


# -- rules ---------------------------------------------------------------------


def test_validate_lists_every_problem() -> None:
    bad = changed(
        HIPAA.model_copy(update={"preset": "custom"}),
        email={"delay_seconds": -1},
        attachments={"max_bytes": 0, "max_per_message": 21},
        staff={"session_idle_minutes": 0},
    )
    with pytest.raises(PolicyInvalid) as info:
        validate(bad)
    assert [path for path, _ in info.value.problems] == [
        "email.delay_seconds",
        "attachments.max_bytes",
        "attachments.max_per_message",
        "staff.session_idle_minutes",
    ]


@pytest.mark.parametrize("role", ["buyer", "seller", "staff"])
def test_hipaa_forbids_full_email_for_every_role(role: str) -> None:
    roles = HIPAA.email.content_by_role.model_copy(update={role: "full"})
    policy = changed(HIPAA, email={"content_by_role": roles})
    [(path, message)] = policy_problems(policy)
    assert path == f"email.content_by_role.{role}"
    assert "HIPAA" in message


@pytest.mark.parametrize("mode", ["redacted", "off"])
def test_hipaa_allows_redacted_and_off(mode: str) -> None:
    roles = HIPAA.email.content_by_role.model_copy(update={"buyer": mode})
    assert paths(changed(HIPAA, email={"content_by_role": roles})) == []


def test_full_email_is_fine_outside_hipaa() -> None:
    assert paths(GDPR) == paths(STANDARD) == []


@pytest.mark.parametrize("base", [GDPR, HIPAA])
@pytest.mark.parametrize("field", ["message_days", "attachment_days"])
def test_gdpr_and_hipaa_need_finite_retention(base: Policy, field: str) -> None:
    policy = changed(base, retention={field: None})
    [(path, message)] = policy_problems(policy)
    assert path == f"retention.{field}"
    assert "finite" in message


def test_standard_may_keep_for_ever() -> None:
    assert paths(changed(STANDARD, retention={"message_days": None, "attachment_days": 30})) == []


@pytest.mark.parametrize(
    ("messages", "attachments", "ok"),
    [
        (365, 365, True),
        (365, 30, True),
        (30, 365, False),
        (None, 365, True),
        (365, None, True),  # attachments go with their message
        (0, 0, False),
        (MAX_RETENTION_DAYS + 1, 1, False),
    ],
)
def test_retention_ranges_and_order(
    messages: int | None, attachments: int | None, ok: bool
) -> None:
    policy = changed(STANDARD, retention={"message_days": messages, "attachment_days": attachments})
    assert (paths(policy) == []) is ok


@pytest.mark.parametrize(
    ("part", "field", "good", "bad"),
    [
        (
            "email",
            "delay_seconds",
            [0, 60, MAX_EMAIL_DELAY_SECONDS],
            [-1, MAX_EMAIL_DELAY_SECONDS + 1],
        ),
        ("attachments", "max_bytes", [1, MAX_ATTACHMENT_BYTES], [0, MAX_ATTACHMENT_BYTES + 1]),
        ("attachments", "max_per_message", [1, 20], [0, 21]),
        ("staff", "session_idle_minutes", [1, 480], [0, 481]),
    ],
)
def test_hard_caps(part: str, field: str, good: list[int], bad: list[int]) -> None:
    for value in good:
        assert paths(changed(STANDARD, **{part: {field: value}})) == [], value
    for value in bad:
        assert paths(changed(STANDARD, **{part: {field: value}})) == [f"{part}.{field}"], value


def test_hipaa_staff_sessions_idle_out_within_half_an_hour() -> None:
    assert paths(changed(HIPAA, staff={"session_idle_minutes": 30})) == []
    assert paths(changed(HIPAA, staff={"session_idle_minutes": 31})) == [
        "staff.session_idle_minutes"
    ]


def test_named_preset_must_match_its_mode() -> None:
    assert paths(HIPAA.model_copy(update={"preset": "gdpr"})) == ["preset"]
    assert paths(GDPR.model_copy(update={"preset": "custom"})) == []


def test_schema_version_is_checked() -> None:
    assert paths(STANDARD.model_copy(update={"schema_version": 2})) == ["schema_version"]


@pytest.mark.parametrize(
    ("allowlist", "problem"),
    [
        (("shop.example.com", "support@shop.example.com", "+1-800-555-0100"), None),
        (("a" * 253,), None),
        (("a" * 254,), "masking.allowlist.0"),
        (("",), "masking.allowlist.0"),
        (("ok.com", "two words"), "masking.allowlist.1"),
        (("tab\there",), "masking.allowlist.0"),
        (("bell\x07",), "masking.allowlist.0"),
        (("shop.com", "SHOP.com"), "masking.allowlist.1"),
        (tuple(f"d{i}.com" for i in range(50)), None),
        (tuple(f"d{i}.com" for i in range(51)), "masking.allowlist"),
    ],
)
def test_allowlist_entries(allowlist: tuple[str, ...], problem: str | None) -> None:
    found = paths(changed(STANDARD, masking={"allowlist": allowlist}))
    assert found == ([problem] if problem else [])


@pytest.mark.parametrize(
    ("replacement", "ok"),
    [
        ("[hidden]", True),
        ("(removed)", True),
        ("<contact hidden>", True),
        ("*masqué*", True),
        ("[x]", True),
        ("", False),
        ("x", False),
        ("hidden", False),  # would join the words around it
        ("[hidden", False),
        ("***", False),  # no letter: does not break a run of digits
        ("[hidden 1]", False),
        ("[one]", False),
        ("[call at]", False),
        ("[dot]", False),
        ("[x@y]", False),
        ("[see.com]", False),
        ("[hidden]\n", False),
        ("[" + "x" * 31 + "]", False),
    ],
)
def test_replacement(replacement: str, ok: bool) -> None:
    found = paths(changed(STANDARD, masking={"replacement": replacement}))
    assert found == ([] if ok else ["masking.replacement"])


# -- apply_changes -----------------------------------------------------------


def test_nested_partial_update_marks_custom() -> None:
    policy = apply_changes(STANDARD, {"email": {"content_by_role": {"buyer": "off"}}})
    assert policy.email.content_by_role.buyer == "off"
    assert policy.email.content_by_role.seller == "full"
    assert policy.email.delay_seconds == STANDARD.email.delay_seconds
    assert policy.preset == "custom"
    assert policy.compliance_mode == "standard"


def test_changing_back_restores_the_preset_name() -> None:
    custom = apply_changes(GDPR, {"retention": {"message_days": 400}})
    assert custom.preset == "custom"
    assert apply_changes(custom, {"retention": {"message_days": 365}}) == GDPR


def test_an_empty_change_changes_nothing() -> None:
    assert apply_changes(HIPAA, {}) == HIPAA


def test_switching_preset_starts_from_it_and_applies_the_rest() -> None:
    policy = apply_changes(STANDARD, {"preset": "hipaa"})
    assert policy == HIPAA
    tuned = apply_changes(STANDARD, {"preset": "hipaa", "staff": {"session_idle_minutes": 10}})
    assert tuned.compliance_mode == "hipaa"
    assert tuned.preset == "custom"
    assert tuned.staff.session_idle_minutes == 10
    assert tuned.email == HIPAA.email


def test_lists_are_replaced_whole() -> None:
    one = apply_changes(STANDARD, {"masking": {"allowlist": ["a.com", "b.com"]}})
    two = apply_changes(one, {"masking": {"allowlist": ["c.com"]}})
    assert two.masking.allowlist == ("c.com",)


def test_custom_label_is_kept_only_when_values_differ() -> None:
    assert apply_changes(STANDARD, {"preset": "custom"}) == STANDARD
    relabelled = apply_changes(STANDARD, {"preset": "custom", "email": {"delay_seconds": 5}})
    assert relabelled.preset == "custom"


def test_changing_mode_applies_its_rules() -> None:
    problems = refused(STANDARD, {"compliance_mode": "hipaa"})
    assert "email.content_by_role.buyer" in problems
    assert "retention.message_days" in problems
    assert "staff.session_idle_minutes" in problems


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"emial": {"delay_seconds": 5}}, "emial"),
        ({"email": {"delay": 5}}, "email.delay"),
        ({"email": {"delay_seconds": "5"}}, "email.delay_seconds"),
        ({"email": 5}, "email"),
        ({"masking": {"allowlist": "a.com"}}, "masking.allowlist"),
        ({"preset": "paranoid"}, "preset"),
        ({"preset": None}, "preset"),
        ({"schema_version": 2}, "schema_version"),
        ({"attachments": {"max_per_message": 0}}, "attachments.max_per_message"),
        ({"retention": {"attachment_days": 400}}, "retention.attachment_days"),
    ],
)
def test_bad_changes_are_refused(changes: dict[str, Any], path: str) -> None:
    assert path in refused(GDPR, changes)


def test_changes_must_be_an_object() -> None:
    assert refused(STANDARD, ["email"]) == {"": "changes must be a JSON object"}


def test_a_refused_change_leaves_the_policy_alone() -> None:
    before = GDPR.to_document()
    refused(GDPR, {"email": {"delay_seconds": -5}, "retention": {"message_days": None}})
    assert GDPR.to_document() == before


# -- changed_fields ------------------------------------------------------------


def test_changed_fields_in_document_order() -> None:
    new = apply_changes(
        STANDARD,
        {"staff": {"session_idle_minutes": 5}, "email": {"content_by_role": {"staff": "off"}}},
    )
    assert changed_fields(STANDARD, new) == [
        "preset",
        "email.content_by_role.staff",
        "staff.session_idle_minutes",
    ]
    assert changed_fields(new, new) == []


def test_changed_fields_between_presets() -> None:
    assert changed_fields(STANDARD, GDPR) == [
        "preset",
        "compliance_mode",
        "retention.message_days",
        "retention.attachment_days",
        "masking.urls",
        "staff.session_idle_minutes",
    ]


def test_allowlist_changes_are_one_field() -> None:
    new = apply_changes(STANDARD, {"masking": {"allowlist": ["a.com"]}})
    assert changed_fields(STANDARD, new) == ["preset", "masking.allowlist"]
