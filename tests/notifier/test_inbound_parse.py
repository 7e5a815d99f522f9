"""Parsing and checks, pure: stripping, sanitising, limits, and malformed mail."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifier.inbound.checks import automatic_reason, sender_reason
from notifier.inbound.errors import Refused
from notifier.inbound.parse import ParseLimits, html_to_text, parse_inbound, strip_reply
from tests.fuzz.scale import scaled
from tests.notifier.inbound_corpus import MALFORMED, REPLY, SAMPLES
from tests.notifier.inbound_kit import reply_email

LIMITS = ParseLimits(max_bytes=256 * 1024, max_parts=10, max_depth=4)


@pytest.mark.parametrize(("name", "body", "expected"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_quoted_history_and_signatures_are_stripped(name: str, body: str, expected: str) -> None:
    assert strip_reply(body) == expected


def test_html_is_sanitised_to_text() -> None:
    text = html_to_text(
        "<p>Hi &lt;b&gt;there&lt;/b&gt;</p><script>alert(1)</script><style>p{}</style>"
        "<a href='javascript:x()'>link</a><br>next<img src=x onerror=alert(1)>"
    )
    assert text == "Hi <b>there</b>\nlink\nnext"


def test_plain_text_is_preferred_to_html() -> None:
    raw = reply_email("plain wins", html="<p>html loses</p>").as_bytes()
    assert parse_inbound(raw, LIMITS).text.strip() == "plain wins"


def test_limits_are_enforced_before_and_while_parsing() -> None:
    with pytest.raises(Refused, match="too_large"):
        parse_inbound(b"x" * 300_000, LIMITS)
    message = reply_email(REPLY)
    for n in range(12):
        message.add_attachment(b"x", maintype="image", subtype="png", filename=f"{n}.png")
    with pytest.raises(Refused, match="too_many_parts"):
        parse_inbound(message.as_bytes(), LIMITS)


def test_attachments_are_counted_not_posted() -> None:
    message = reply_email(REPLY)
    message.add_attachment(b"\x89PNG", maintype="image", subtype="png", filename="a.png")
    parsed = parse_inbound(message.as_bytes(), LIMITS)
    assert parsed.attachments == 1
    assert strip_reply(parsed.text) == REPLY


def test_checks_pass_a_person_and_compare_senders_ignoring_case() -> None:
    parsed = parse_inbound(reply_email(REPLY, sender="Sam <S@Mail.Test>").as_bytes(), LIMITS)
    assert automatic_reason(parsed, envelope_sender="s@mail.test", own_addresses=[]) is None
    assert sender_reason(parsed, "s@mail.test") is None
    assert sender_reason(parsed, "b@mail.test") == "sender_mismatch"
    assert sender_reason(parsed, None) == "sender_mismatch"


@pytest.mark.parametrize(("name", "raw"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_mail_is_refused_or_parsed_cleanly(name: str, raw: bytes) -> None:
    reason = None
    try:
        parsed = parse_inbound(raw, LIMITS)
    except Refused as refused:
        reason = refused.reason
    if reason is not None:
        assert reason in {"too_many_parts", "too_deep", "too_many_headers", "malformed"}
        return
    text = strip_reply(parsed.text)
    assert "\x00" not in text
    automatic_reason(parsed, envelope_sender=None, own_addresses=["notify@shop.test"])


_VALID = reply_email(REPLY, html="<p>Hello <b>there</b></p>").as_bytes()


@settings(max_examples=scaled(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=4096),
        st.tuples(
            st.integers(0, len(_VALID)), st.integers(0, len(_VALID)), st.binary(max_size=64)
        ).map(lambda t: _VALID[: t[0]] + t[2] + _VALID[t[1] :]),
    )
)
def test_fuzzed_mail_never_raises_anything_else(raw: bytes) -> None:
    try:
        parsed = parse_inbound(raw, LIMITS)
    except Refused:
        return
    strip_reply(parsed.text)
    automatic_reason(parsed, envelope_sender=None, own_addresses=[])
