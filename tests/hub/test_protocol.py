"""The sans-I/O frame parser: every bad frame gets a stable code, nothing else escapes."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chat_service.hub.protocol import (
    FRAME_TYPES,
    ProtocolError,
    SendFrame,
    SubscribeFrame,
    encode,
    error_frame,
    parse_client_frame,
)
from tests.fuzz.scale import scaled

CONV = "c_0123456789abcdef01234567"
LIMIT = 16 * 1024


def parse(frame: object) -> object:
    return parse_client_frame(
        frame if isinstance(frame, str) else json.dumps(frame), max_bytes=LIMIT
    )


def code_of(frame: object) -> str:
    with pytest.raises(ProtocolError) as info:
        parse(frame)
    return info.value.code


def test_valid_send() -> None:
    frame = parse(
        {"type": "send", "conversation_id": CONV, "client_msg_id": "a-1", "text": "hi", "ref": "r1"}
    )
    assert isinstance(frame, SendFrame)
    assert (frame.text, frame.ref) == ("hi", "r1")


def test_subscribe_defaults_to_the_beginning() -> None:
    frame = parse({"type": "subscribe", "conversation_id": CONV})
    assert isinstance(frame, SubscribeFrame)
    assert frame.after_seq == 0


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "bad_json"),
        ("", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('"send"', "bad_frame"),
        ("null", "bad_frame"),
        ({"type": "launch_missiles"}, "unknown_type"),
        ({"conversation_id": CONV}, "unknown_type"),
        ({"type": {"$ne": None}}, "unknown_type"),
        (
            {"type": "send", "conversation_id": {"$ne": None}, "client_msg_id": "a", "text": "x"},
            "invalid_field",
        ),
        ({"type": "subscribe", "conversation_id": CONV, "after_seq": {"$gt": 0}}, "invalid_field"),
        ({"type": "subscribe", "conversation_id": CONV, "after_seq": "5"}, "invalid_field"),
        ({"type": "subscribe", "conversation_id": CONV, "after_seq": -1}, "invalid_field"),
        ({"type": "subscribe", "conversation_id": CONV, "after_seq": True}, "invalid_field"),
        ({"type": "subscribe", "conversation_id": CONV, "after_seq": 1.5}, "invalid_field"),
        (
            {"type": "send", "conversation_id": CONV, "client_msg_id": "a", "text": ["x"]},
            "invalid_field",
        ),
        (
            {"type": "send", "conversation_id": CONV, "client_msg_id": "a b", "text": "x"},
            "invalid_field",
        ),
        ({"type": "send", "conversation_id": CONV, "client_msg_id": "a"}, "invalid_field"),
        (
            {
                "type": "send",
                "conversation_id": CONV,
                "client_msg_id": "a",
                "text": "x",
                "sender_id": "someone-else",
            },
            "invalid_field",
        ),
        (
            {"type": "send", "conversation_id": "c_$where", "client_msg_id": "a", "text": "x"},
            "invalid_field",
        ),
        ({"type": "typing", "conversation_id": CONV, "state": "maybe"}, "invalid_field"),
        ({"type": "auth", "token": 12}, "invalid_field"),
        ({"type": "ping", "ref": {"$ne": 1}}, "invalid_field"),
    ],
)
def test_bad_frames(raw: object, code: str) -> None:
    assert code_of(raw) == code


def test_binary_frames_are_refused() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(b'{"type": "ping"}', max_bytes=LIMIT)
    assert info.value.code == "binary_not_supported"


def test_oversize_frames_are_refused_before_parsing() -> None:
    big = json.dumps(
        {"type": "send", "conversation_id": CONV, "client_msg_id": "a", "text": "x" * LIMIT}
    )
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(big, max_bytes=LIMIT)
    assert info.value.code == "frame_too_large"


def test_multibyte_text_counts_bytes_not_characters() -> None:
    text = "é" * (LIMIT // 2)  # under the limit in characters, over it in bytes
    raw = json.dumps({"type": "ping", "ref": "r", "pad": text}, ensure_ascii=False)
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(raw, max_bytes=LIMIT)
    assert info.value.code == "frame_too_large"


def test_ref_is_echoed_in_errors() -> None:
    with pytest.raises(ProtocolError) as info:
        parse({"type": "subscribe", "conversation_id": 5, "ref": "abc"})
    assert info.value.ref == "abc"


def test_error_frame_shape() -> None:
    assert json.loads(encode(error_frame("bad_json", "nope", "r"))) == {
        "type": "error",
        "code": "bad_json",
        "detail": "nope",
        "ref": "r",
    }


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


KNOWN_CODES = {
    "bad_json",
    "bad_frame",
    "unknown_type",
    "invalid_field",
    "frame_too_large",
    "binary_not_supported",
}


def outcome(raw: str | bytes) -> tuple[str, object]:
    try:
        return "parsed", parse_client_frame(raw, max_bytes=LIMIT)
    except ProtocolError as exc:
        return "refused", exc.code


@settings(max_examples=scaled(400))
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "type",
                "conversation_id",
                "client_msg_id",
                "text",
                "after_seq",
                "seq",
                "state",
                "token",
                "ref",
                "$where",
            ]
        ),
        json_values | st.sampled_from(sorted(FRAME_TYPES)),
        max_size=6,
    )
)
def test_fuzzed_frames_parse_or_fail_with_a_code(frame: dict[str, object]) -> None:
    kind, result = outcome(json.dumps(frame))
    if kind == "refused":
        assert result in KNOWN_CODES
    else:
        # Whatever parses holds only typed, validated values: never an operator object.
        for value in result.model_dump().values():  # type: ignore[attr-defined]
            assert not isinstance(value, dict | list)


@settings(max_examples=scaled(300))
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_fuzzed_raw_input_never_crashes(raw: str | bytes) -> None:
    kind, result = outcome(raw)
    assert kind == "parsed" or result in KNOWN_CODES
