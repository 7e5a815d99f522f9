"""Masking contact details: what is caught, what is left alone, the allowlist."""

import pytest

from policies import MaskResult, Policy, apply_changes, mask_contact_details, preset

EVERYTHING = preset("hipaa")  # phones, e-mails and links all masked
H = "[hidden]"


def masked(text: str, policy: Policy = EVERYTHING) -> str:
    return mask_contact_details(text, policy).text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 555-123-4567 today", f"call me on {H} today"),
        ("call (555) 123-4567", f"call {H}"),
        ("ring +44 20 7946 0958!", f"ring {H}!"),
        ("ring (+1) 555 123 4567.", f"ring {H}."),
        ("555.123.4567", H),
        ("5551234", H),
        ("555 12 34", H),
        ("5 5 5 1 2 3 4", H),
        ("call5551234567now", H),
        ("five five five one two three four", H),
        ("Five-Five-Five, One-Two-Three-Four please", f"{H} please"),
        ("oh two oh, seven nine four six, oh nine five eight", H),
        ("555 one two three four", H),
        ("5five5 one 2 three 4", H),
        ("double five five one two three four", H),
        ("five twenty two thirty four fifty six", H),
        ("call \uff15\uff15\uff15\uff11\uff12\uff13\uff14 now", f"call {H} now"),  # full width
        ("call 555\u200b123\u200b4567", f"call {H}"),
        ("$5551234567", f"${H}"),
    ],
)
def test_phone_numbers(text: str, expected: str) -> None:
    result = mask_contact_details(text, EVERYTHING)
    assert result.text == expected
    assert result.kinds == {"phone"}
    assert result.masked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane@example.com.", f"mail {H}."),
        ("jane.doe+shop@mail.example.co.uk", H),
        ("jane at example dot com", H),
        ("jane AT example DOT com", H),
        ("jane (at) example [dot] com", H),
        ("jane[at]example[dot]com", H),
        ("jane {at} example (dot) com", H),
        ("jane @ example . com", H),
        ("jane@example . com", H),
        ("john dot smith at example dot co dot uk", H),
        ("write to jane@example.museum", f"write to {H}"),
        ("Contact: jane at example.com, thanks", f"Contact: {H}, thanks"),
    ],
)
def test_email_addresses(text: str, expected: str) -> None:
    result = mask_contact_details(text, EVERYTHING)
    assert result.text == expected
    assert result.kinds == {"email"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see https://example.com/item?id=3#top.", f"see {H}."),
        ("see http://localhost:8000/x", f"see {H}"),
        ("(see HTTPS://Example.com/a_(b))", f"(see {H})"),
        ("see www.example.xyz", f"see {H}"),
        ("go to example.com now", f"go to {H} now"),
        ("shop.co.uk/item/3, ok", f"{H}, ok"),
        ("visit mystore dot com", f"visit {H}"),
        ("visit example.com:8080/path", f"visit {H}"),
    ],
)
def test_links(text: str, expected: str) -> None:
    result = mask_contact_details(text, EVERYTHING)
    assert result.text == expected
    assert result.kinds == {"url"}


@pytest.mark.parametrize(
    "text",
    [
        "Can you do 40 units at $12 with freight to Denver?",
        "The blue chair arrived in the wrong colour, see order #1042.",
        "Item 3 is back-ordered until May 3 2025.",
        "Delivery on 2025-05-03 or 03/05/2025, between 9-5.",
        "Total $1,250,000.00 or €1.250.000 or $1250000 for 1,000,000 pieces.",
        "It weighs 12345.67 kg; ref 123456.",
        "Meet me at noon. Net price is fine.",
        "It arrived broken.it is cracked.",
        "e.g. the 3.5mm jack, i.e. Dr.Smith's version 2.0.1",
        "one or two chairs, maybe three",
        "I'm at the warehouse",
        "@seller thanks!",
        "price: 1, 2 or 3 thousand",
        "",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    result = mask_contact_details(text, EVERYTHING)
    assert result == MaskResult(text, frozenset(), False)


def test_several_kinds_at_once() -> None:
    result = mask_contact_details(
        "call 555 123 4567 or mail jane@example.com or see example.org", EVERYTHING
    )
    assert result.text == f"call {H} or mail {H} or see {H}"
    assert result.kinds == {"phone", "email", "url"}


def test_only_kinds_the_policy_masks() -> None:
    text = "call 555 123 4567, mail jane@example.com, see https://example.org/x"
    standard = preset("standard")  # links allowed
    result = mask_contact_details(text, standard)
    assert result.text == f"call {H}, mail {H}, see https://example.org/x"
    assert result.kinds == {"phone", "email"}
    nothing = apply_changes(standard, {"masking": {"phones": False, "emails": False}})
    assert mask_contact_details(text, nothing) == MaskResult(text, frozenset(), False)


def test_a_phone_number_inside_an_allowed_link_is_still_masked() -> None:
    standard = preset("standard")
    assert masked("https://wa.me/15551234567", standard) == f"https://wa.me/{H}"


def test_a_phone_number_inside_a_masked_link_counts_as_the_link() -> None:
    result = mask_contact_details("https://wa.me/15551234567", EVERYTHING)
    assert (result.text, result.kinds) == (H, {"url"})


def test_replacement_comes_from_the_policy() -> None:
    policy = apply_changes(EVERYTHING, {"masking": {"replacement": "<contact removed>"}})
    assert (
        masked("jane@example.com or 5551234567", policy) == "<contact removed> or <contact removed>"
    )


ALLOW = apply_changes(
    EVERYTHING,
    {
        "masking": {
            "allowlist": [
                "shop.example.com",
                "*.market.io",
                "help@partner.org",
                "+1-800-555-0100",
                "Acme-Order-12345678",
            ]
        }
    },
)


@pytest.mark.parametrize(
    "text",
    [
        "see https://shop.example.com/item/123456789 for details",
        "see shop.example.com/item/123456789",
        "see https://www.shop.example.com/x",
        "write to orders@shop.example.com",
        "write to orders at shop dot example dot com",
        "mail help@partner.org",
        "mail HELP (at) partner [dot] org",
        "see market.io and eu.market.io",
        "call +1 (800) 555-0100",
        "ref Acme-Order-12345678",
    ],
)
def test_allowlist_keeps(text: str) -> None:
    assert mask_contact_details(text, ALLOW) == MaskResult(text, frozenset(), False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see notshop.example.com.evil.com", f"see {H}"),
        ("see example.com", f"see {H}"),
        ("mail other@partner.org", f"mail {H}"),
        ("call 1 800 555 0101", f"call {H}"),
        ("see evil.com/?to=orders@shop.example.com", f"see {H}"),
    ],
)
def test_allowlist_is_exact_about_what_it_keeps(text: str, expected: str) -> None:
    assert masked(text, ALLOW) == expected


def test_allowed_domain_in_a_masked_link_does_not_protect_it() -> None:
    assert masked("https://evil.com/r?u=https://shop.example.com", ALLOW) == H


def test_masking_twice_changes_nothing() -> None:
    text = "call 555 123 4567, mail jane at example dot com, see www.example.com"
    once = masked(text)
    assert masked(once) == once
