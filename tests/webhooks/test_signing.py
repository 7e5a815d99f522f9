"""The signature header: verifies with the secret, fails with anything else."""

from __future__ import annotations

from chat_service.webhooks.signing import sign, signature_header, verify_signature

SECRET = "whsec_test"
BODY = b'{"id":"order.o_1.v2","type":"order.status_changed"}'
NOW = 1_780_000_000


def test_signature_verifies_with_the_secret_and_fails_with_another() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert header.startswith(f"t={NOW},v1=")
    assert verify_signature(SECRET, header, BODY, now=NOW)
    assert not verify_signature("whsec_other", header, BODY, now=NOW)


def test_tampered_body_or_timestamp_fails() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert not verify_signature(SECRET, header, BODY + b" ", now=NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 1}")
    assert not verify_signature(SECRET, moved, BODY, now=NOW)


def test_old_signatures_are_refused_outside_the_tolerance() -> None:
    header = signature_header(SECRET, NOW, BODY)
    assert verify_signature(SECRET, header, BODY, now=NOW + 299, tolerance=300)
    assert not verify_signature(SECRET, header, BODY, now=NOW + 301, tolerance=300)
    assert not verify_signature(SECRET, header, BODY, now=NOW - 301, tolerance=300)


def test_any_of_several_v1_values_may_match_during_rotation() -> None:
    header = f"t={NOW},v1={sign('whsec_new', NOW, BODY)},v1={sign(SECRET, NOW, BODY)}"
    assert verify_signature(SECRET, header, BODY, now=NOW)
    assert verify_signature("whsec_new", header, BODY, now=NOW)


def test_malformed_headers_are_refused() -> None:
    for header in ["", "v1=abc", f"t={NOW}", "t=abc,v1=00", f"t={NOW}," + "v1=0," * 20, "garbage"]:
        assert not verify_signature(SECRET, header, BODY, now=NOW)
