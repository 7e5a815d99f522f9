"""Property-based tests of the masker, and hostile inputs.

Phone numbers, addresses and links are generated in the shapes people type
them and hidden among random words; the masker must remove every one,
leave plain words alone, never raise, and be idempotent.
"""

import string
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import MaskResult, Policy, apply_changes, mask_contact_details, preset
from policies.addresses import KNOWN_TLDS, MARKER_WORDS
from policies.phones import NUMBER_WORDS

EVERYTHING = preset("hipaa")
POLICIES = [
    EVERYTHING,
    preset("standard"),
    apply_changes(EVERYTHING, {"masking": {"phones": False}}),
    apply_changes(EVERYTHING, {"masking": {"emails": False}}),
    apply_changes(EVERYTHING, {"masking": {"replacement": "<x>"}}),
    apply_changes(
        EVERYTHING, {"masking": {"allowlist": ["example.com", "jane@x.io", "+1-555-123-4567"]}}
    ),
]
VOCABULARY = NUMBER_WORDS | MARKER_WORDS
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]

# Pieces people type, to steer random text towards the tricky corners.
FRAGMENTS = [
    *"0123456789@.()[]{}<>-_+/:,$€#%?!'\"\n\t ",
    *DIGIT_WORDS,
    *["oh", "twenty", "double", "at", "dot", " at ", " dot ", "(at)", "[dot]", "http://"],
    *["https://", "www.", "com", "co.uk", ".io", "example", "jane", "x", "hidden", "2025"],
    *["\uff15", "²", "⑳", "\u200b", "é", "ß", "İ", "[hidden]", "555-123-4567", "a@b.cd"],
]
tricky_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=50).map(
    "".join
)
any_text = st.one_of(st.text(max_size=300), tricky_text)
policies = st.sampled_from(POLICIES)


def is_plain_word(word: str) -> bool:
    norm = unicodedata.normalize("NFKC", word).casefold()
    return norm not in VOCABULARY and not any(char.isdigit() for char in norm)


words = st.lists(
    st.text(alphabet=string.ascii_letters, min_size=1, max_size=8).filter(is_plain_word),
    max_size=5,
).map(" ".join)


def embedded(item: str, before: str, after: str) -> str:
    return " ".join(part for part in (before, item, after) if part)


# -- generators ----------------------------------------------------------------


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """Digits in groups, as typed: ``+1 (555) 123-4567``, ``555.123.45.67``."""
    first = draw(st.text(alphabet=string.digits, min_size=3, max_size=3))
    rest = draw(
        st.lists(st.text(alphabet=string.digits, min_size=2, max_size=4), min_size=1, max_size=4)
    )
    if len(first) + sum(map(len, rest)) < 7:
        rest.append(draw(st.text(alphabet=string.digits, min_size=4, max_size=4)))
    sep = draw(st.sampled_from([" ", "-", ".", "", " - ", "/"]))
    head = f"({first})" if draw(st.booleans()) else first
    number = head + (" " if head.endswith(")") else sep) + sep.join(rest)
    if draw(st.booleans()):
        number = draw(st.sampled_from(["+1 ", "+44 ", "+", "00"])) + number
    return number


@st.composite
def spelled_numbers(draw: st.DrawFn) -> str:
    """``five five five, one 2 three 4``: words, digits or both."""
    digits = draw(st.lists(st.integers(0, 9), min_size=7, max_size=12))
    parts = []
    for digit in digits:
        style = draw(st.sampled_from(["digit", "word", "word", "Word"]))
        word = "oh" if digit == 0 and draw(st.booleans()) else DIGIT_WORDS[digit]
        parts.append(str(digit) if style == "digit" else word.title() if style == "Word" else word)
    seps = [draw(st.sampled_from([" ", "-", " - ", ", ", ". "])) for _ in parts[1:]]
    text = parts[0]
    for sep, part in zip(seps, parts[1:], strict=True):
        # A comma between two bare digit runs reads as a quantity (1,000).
        text += (" " if sep == ", " and text[-1].isdigit() and part.isdigit() else sep) + part
    return text


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
word_label = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(
    lambda w: w not in VOCABULARY
)
local_part = st.lists(
    st.from_regex(r"[a-z0-9][a-z0-9_+-]{0,8}", fullmatch=True), min_size=1, max_size=3
).map(".".join)
known_tld = st.sampled_from(sorted(KNOWN_TLDS))
any_tld = st.one_of(known_tld, st.from_regex(r"[a-z]{2,6}", fullmatch=True))


@st.composite
def addresses(draw: st.DrawFn) -> tuple[str, str]:
    """(as typed, the plain address)."""
    style = draw(st.sampled_from(["plain", "words", "brackets", "spaced"]))
    if style == "plain":
        local = draw(local_part)
        domain = draw(st.lists(label, min_size=1, max_size=3))
        tld = draw(any_tld)
        address = f"{local}@{'.'.join([*domain, tld])}"
        return address, address
    local = draw(word_label)
    domain = draw(st.lists(word_label, min_size=1, max_size=2))
    tld = draw(known_tld)
    at, dot = {
        "words": (draw(st.sampled_from([" at ", " AT ", " At "])), " dot "),
        "brackets": (draw(st.sampled_from(["(at)", " [at] ", "{at}", " <at> "])), "[dot]"),
        "spaced": (" @ ", " . "),
    }[style]
    typed = local + at + dot.join([*domain, tld])
    return typed, f"{local}@{'.'.join([*domain, tld])}"


@st.composite
def links(draw: st.DrawFn) -> str:
    style = draw(st.sampled_from(["scheme", "www", "bare"]))
    labels = draw(st.lists(label, min_size=1, max_size=3))
    path = draw(st.sampled_from(["", "/", "/item/42", "/a_b-c/d?x=1&y=2#top", ":8080/x"]))
    if style == "scheme":
        scheme = draw(st.sampled_from(["http://", "https://", "HTTPS://", "ftp://"]))
        return scheme + ".".join([*labels, draw(any_tld)]) + path
    if style == "www":
        return "www." + ".".join([*labels, draw(any_tld)]) + path
    return ".".join([*labels, draw(known_tld)]) + path


# -- properties ----------------------------------------------------------------


@settings(max_examples=300)
@given(any_text, policies)
def test_never_raises_and_reports_honestly(text: str, policy: Policy) -> None:
    result = mask_contact_details(text, policy)
    assert isinstance(result, MaskResult)
    assert result.masked == bool(result.kinds) == (result.text != text)
    assert result.kinds <= {"phone", "email", "url"}


@settings(max_examples=500)
@given(any_text, policies)
def test_idempotent(text: str, policy: Policy) -> None:
    once = mask_contact_details(text, policy)
    assert mask_contact_details(once.text, policy) == MaskResult(once.text, frozenset(), False)


@settings(max_examples=300)
@given(any_text, policies)
def test_output_length_is_bounded(text: str, policy: Policy) -> None:
    # Every masked stretch is at least 4 characters ("a.co") and becomes one replacement.
    growth = max(0, len(policy.masking.replacement) - 4)
    assert len(mask_contact_details(text, policy).text) <= len(text) + len(text) // 4 * growth


@given(st.one_of(phone_numbers(), spelled_numbers()), words, words)
def test_phone_numbers_among_words_are_masked(number: str, before: str, after: str) -> None:
    result = mask_contact_details(embedded(number, before, after), EVERYTHING)
    assert result.masked
    assert not any(char.isdigit() for char in result.text)
    assert result.text.startswith(before)
    assert result.text.endswith(after)


@given(spelled_numbers(), words, words)
def test_spelled_numbers_leave_no_number_words(number: str, before: str, after: str) -> None:
    result = mask_contact_details(embedded(number, before, after), EVERYTHING)
    assert result.kinds == {"phone"}
    leftover = {word.strip(",.-").casefold() for word in result.text.split()}
    assert not leftover & NUMBER_WORDS


@given(addresses(), words, words)
def test_addresses_among_words_are_masked(
    address: tuple[str, str], before: str, after: str
) -> None:
    typed, plain = address
    result = mask_contact_details(embedded(typed, before, after), EVERYTHING)
    assert "email" in result.kinds
    assert typed not in result.text
    assert plain.split("@")[1] not in result.text
    assert "@" not in result.text


@given(links(), words, words)
def test_links_among_words_are_masked(link: str, before: str, after: str) -> None:
    result = mask_contact_details(embedded(link, before, after), EVERYTHING)
    assert result.kinds == {"url"}
    assert link not in result.text
    assert "." not in result.text


ALLOWED = apply_changes(EVERYTHING, {"masking": {"allowlist": ["myshop.com"]}})


@given(
    st.lists(label, max_size=2).map(lambda labels: ".".join([*labels, "myshop.com"])),
    local_part,
    st.sampled_from(["", "/", "/item/5551234567", "?ref=42"]),
    words,
    words,
)
def test_allowlisted_domains_are_kept(
    host: str, local: str, path: str, before: str, after: str
) -> None:
    text = embedded(f"https://{host}{path} or {host}{path} or {local}@{host}", before, after)
    assert mask_contact_details(text, ALLOWED) == MaskResult(text, frozenset(), False)


@given(
    st.lists(
        st.text(st.characters(categories=["L"]), min_size=1, max_size=10).filter(is_plain_word),
        max_size=30,
    ).map(" ".join),
    policies,
)
def test_plain_words_are_unchanged(text: str, policy: Policy) -> None:
    assert mask_contact_details(text, policy) == MaskResult(text, frozenset(), False)


# -- hostile input ---------------------------------------------------------------

HOSTILE = {
    "at-signs": "a@" * 50_000,
    "ones": "1 " * 50_000,
    "dots": "a." * 50_000,
    "letters": "a" * 100_000,
    "digits": "5" * 100_000,
    "number words": "five " * 20_000,
    "bracket ats": "(at)" * 25_000,
    "word ats": "x at " * 20_000,
    "schemes": "http://" * 14_000,
    "www": "www." * 25_000,
    "tlds": ".com" * 25_000,
    "paths": "a.com/" * 16_000,
    "address soup": "a.b@c." * 16_000,
    "dashes": "1-" * 50_000,
    "open brackets": "( " * 50_000,
    "spaces": " " * 100_000,
    "one long word then a link": "x" * 99_990 + "http://a",
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_input_finishes(text: str) -> None:
    result = mask_contact_details(text, EVERYTHING)
    assert mask_contact_details(result.text, EVERYTHING).text == result.text
