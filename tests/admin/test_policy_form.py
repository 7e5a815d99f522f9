"""The editor's form mapping, without a server."""

from __future__ import annotations

from admin.policy_form import changes_from_values, values_from_form, values_from_policy
from policies import apply_changes, preset


def test_a_policy_round_trips_through_the_form() -> None:
    for name in ("standard", "gdpr", "hipaa"):
        policy = preset(name)
        values = values_from_policy(policy)
        form = {k: v for k, v in values.items() if not isinstance(v, bool)}
        form |= {k: "on" for k, v in values.items() if v is True}
        changes, problems = changes_from_values(values_from_form(form))
        assert problems == []
        assert apply_changes(policy, changes) == policy


def test_unticked_boxes_are_false_and_blank_retention_is_forever() -> None:
    values = values_from_policy(preset("gdpr"))
    form = {k: v for k, v in values.items() if not isinstance(v, bool)}
    form |= {"retention_message_days": " ", "retention_attachment_days": ""}
    changes, problems = changes_from_values(values_from_form(form))
    assert problems == []
    assert changes["masking"]["phones"] is False
    assert changes["retention"]["message_days"] is None


def test_numbers_that_are_not_whole_numbers_are_problems() -> None:
    values = values_from_policy(preset("standard"))
    values |= {"email_delay_seconds": "-5", "attachments_max_bytes": "1e6"}
    _, problems = changes_from_values(values)
    assert [path for path, _ in problems] == ["email.delay_seconds", "attachments.max_bytes"]
