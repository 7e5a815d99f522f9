"""Sealing and opening, without a store."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat_service.crypto.envelope import associated_data, new_key, open_sealed, seal
from chat_service.errors import IntegrityError


def test_round_trip() -> None:
    key = new_key()
    aad = associated_data(1, "t_1", "messages", "m_1")
    assert open_sealed(key, seal(key, b"blue chair", aad), aad) == b"blue chair"


def test_every_seal_uses_a_fresh_nonce() -> None:
    key = new_key()
    aad = associated_data("x")
    blobs = {seal(key, b"same text", aad) for _ in range(200)}
    assert len(blobs) == 200
    assert len({b[1:13] for b in blobs}) == 200


def test_ciphertext_does_not_contain_the_plaintext() -> None:
    key = new_key()
    assert b"blue chair" not in seal(key, b"blue chair" * 3, associated_data("x"))


def test_other_record_fails() -> None:
    key = new_key()
    blob = seal(key, b"secret", associated_data(1, "t_1", "messages", "m_1"))
    with pytest.raises(IntegrityError, match="another record"):
        open_sealed(key, blob, associated_data(1, "t_1", "messages", "m_2"))


def test_other_key_fails() -> None:
    aad = associated_data("x")
    with pytest.raises(IntegrityError):
        open_sealed(new_key(), seal(new_key(), b"secret", aad), aad)


@pytest.mark.parametrize("position", [0, 5, 13, -1])
def test_flipped_bit_fails(position: int) -> None:
    key = new_key()
    aad = associated_data("x")
    blob = bytearray(seal(key, b"secret text", aad))
    blob[position] ^= 0x01
    with pytest.raises(IntegrityError):
        open_sealed(key, bytes(blob), aad)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\x00" * 20, b"\x02" + b"\x00" * 40])
def test_malformed_blob_fails_cleanly(blob: bytes) -> None:
    with pytest.raises(IntegrityError, match=r"malformed|authentication"):
        open_sealed(new_key(), blob, associated_data("x"))


def test_associated_data_is_unambiguous() -> None:
    assert associated_data("ab", "c") != associated_data("a", "bc")
    assert associated_data("a|b") != associated_data("a", "b")


@given(st.lists(st.text(max_size=8), max_size=4), st.lists(st.text(max_size=8), max_size=4))
def test_associated_data_is_injective(a: list[str], b: list[str]) -> None:
    assert (associated_data(*a) == associated_data(*b)) == (a == b)
