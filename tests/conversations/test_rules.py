"""Pure rules, no store."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_service.conversations.rules import check_text, idempotency_key, to_millis
from chat_service.errors import BadRequest


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "invalid_text"),
        (" \n\t", "invalid_text"),
        ("a\x00", "invalid_text"),
        ("x" * 11, "message_too_long"),
    ],
)
def test_refused_text(text: str, code: str) -> None:
    with pytest.raises(BadRequest) as info:
        check_text(text, max_chars=10)
    assert info.value.code == code


@given(st.text(min_size=1, max_size=10).filter(lambda t: t.strip() and "\x00" not in t))
def test_accepted_text_is_unchanged(text: str) -> None:
    assert check_text(text, max_chars=10) == text


def test_keys_and_times() -> None:
    assert idempotency_key("a", "b") != idempotency_key("a|b", "")
    moment = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert to_millis(moment).microsecond == 123000
