"""Presets: every one is valid and holds what its docstring promises."""

import pytest

from policies import (
    PRESET_NAMES,
    PRESETS,
    PolicyInvalid,
    default_policy,
    policy_problems,
    preset,
    validate,
)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_is_valid_and_named_after_its_mode(name: str) -> None:
    policy = preset(name)
    assert policy_problems(policy) == []
    assert validate(policy) is policy
    assert policy.preset == policy.compliance_mode == name
    assert PRESETS[name] is policy
    assert not policy.retention.keep_original_when_masked
    assert policy.masking.replacement == "[hidden]"
    assert policy.masking.allowlist == ()


def test_default_is_standard() -> None:
    assert default_policy() == preset("standard")


def test_standard() -> None:
    policy = preset("standard")
    assert set(policy.email.content_by_role.model_dump().values()) == {"full"}
    assert policy.email.delay_seconds == 120
    assert policy.email.reply_by_email_allowed
    assert (policy.retention.message_days, policy.retention.attachment_days) == (None, None)
    masking = policy.masking
    assert (masking.phones, masking.emails, masking.urls) == (True, True, False)
    assert policy.attachments.allowed
    assert policy.staff.session_idle_minutes == 60


def test_gdpr() -> None:
    policy = preset("gdpr")
    assert set(policy.email.content_by_role.model_dump().values()) == {"full"}
    assert (policy.retention.message_days, policy.retention.attachment_days) == (365, 180)
    masking = policy.masking
    assert masking.phones and masking.emails and masking.urls
    assert policy.staff.session_idle_minutes == 30


def test_hipaa() -> None:
    policy = preset("hipaa")
    assert set(policy.email.content_by_role.model_dump().values()) == {"redacted"}
    assert not policy.email.reply_by_email_allowed
    assert policy.retention.message_days == policy.retention.attachment_days == 2190
    masking = policy.masking
    assert masking.phones and masking.emails and masking.urls
    assert policy.staff.session_idle_minutes == 15


def test_unknown_preset() -> None:
    with pytest.raises(PolicyInvalid) as info:
        preset("custom")
    [(path, message)] = info.value.problems
    assert path == "preset"
    assert "standard, gdpr, hipaa" in message


def test_presets_cannot_be_replaced() -> None:
    with pytest.raises(TypeError):
        PRESETS["standard"] = preset("hipaa")  # type: ignore[index]
