"""Reply tokens: compact, lowercase, signed, expiring; pure, no store."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest

from notifier.inbound.errors import Refused
from notifier.inbound.tokens import TOKEN_CHARS, ReplyTokens

NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
LATER = int((NOW + timedelta(days=30)).timestamp())
KEY_1, KEY_2 = os.urandom(32), os.urandom(32)


def test_a_token_fits_a_local_part_and_round_trips() -> None:
    tokens = ReplyTokens({1: KEY_1}, 1)
    handle = os.urandom(10)
    token = tokens.mint(handle, LATER)
    assert len(token) == TOKEN_CHARS
    assert len("reply+" + token) <= 64
    assert token == token.lower() and token.isalnum()
    signed = tokens.verify(token.upper(), now=NOW)  # a mail system may change the case
    assert (signed.handle, signed.expires) == (handle.hex(), LATER)


def test_every_single_character_change_is_refused() -> None:
    tokens = ReplyTokens({1: KEY_1}, 1)
    token = tokens.mint(os.urandom(10), LATER)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    tried = 0
    for i, char in enumerate(token):
        for other in alphabet.replace(char, ""):
            forged = token[:i] + other + token[i + 1 :]
            with pytest.raises(Refused):
                tokens.verify(forged, now=NOW)
            tried += 1
    assert tried == TOKEN_CHARS * 31


@pytest.mark.parametrize("token", ["", "a", "a" * 41, "a" * 43, "é" * 42, "0" * 42, "a-" * 21])
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(Refused) as refused:
        ReplyTokens({1: KEY_1}, 1).verify(token, now=NOW)
    assert refused.value.reason == "token_invalid"


def test_an_expired_token_is_refused() -> None:
    tokens = ReplyTokens({1: KEY_1}, 1)
    token = tokens.mint(os.urandom(10), int(NOW.timestamp()))
    with pytest.raises(Refused) as refused:
        tokens.verify(token, now=NOW)
    assert refused.value.reason == "token_expired"


def test_a_token_of_another_key_is_refused_and_rotation_keeps_old_ones() -> None:
    old = ReplyTokens({1: KEY_1}, 1).mint(os.urandom(10), LATER)
    with pytest.raises(Refused):
        ReplyTokens({1: KEY_2}, 1).verify(old, now=NOW)
    rotated = ReplyTokens({1: KEY_1, 2: KEY_2}, 2)
    assert rotated.verify(old, now=NOW).expires == LATER
    assert rotated.verify(rotated.mint(os.urandom(10), LATER), now=NOW).expires == LATER


@pytest.mark.parametrize(
    ("address", "token"),
    [
        ("reply+abc@reply.shop.test", "abc"),
        ("<REPLY+ABC@Reply.Shop.Test>", "ABC"),
        ("reply+abc@other.test", None),
        ("abc@reply.shop.test", None),
        ("reply+abc", None),
    ],
)
def test_the_token_is_read_from_the_address(address: str, token: str | None) -> None:
    assert ReplyTokens.token_of(address, "reply.shop.test") == token
