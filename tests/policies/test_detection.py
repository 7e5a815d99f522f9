"""The finders under the masker: spans and normalised values."""

from policies.addresses import find_addresses_and_links
from policies.phones import find_phone_numbers
from policies.types import Found


def test_phone_values_are_the_digits() -> None:
    text = "call +1 (555) 123-4567 or five five five, oh one two three"
    assert find_phone_numbers(text) == [
        Found("phone", 5, 22, "15551234567"),
        Found("phone", 26, len(text), "5550123"),
    ]


def test_spelled_tens_and_multipliers() -> None:
    [found] = find_phone_numbers("double five twenty two thirty four one")
    assert found.value == "5522341"
    assert find_phone_numbers("double five twenty two thirty four") == []  # six digits
    [found] = find_phone_numbers("triple seven twenty two thirty four")
    assert found.value == "7772234"


def test_blocked_spans_break_runs() -> None:
    text = "555 1234 x.com 567"
    assert find_phone_numbers(text, [(9, 14)]) == [Found("phone", 0, 8, "5551234")]
    assert find_phone_numbers("5551234567", [(0, 10)]) == []


def test_address_values_are_normalised() -> None:
    found = find_addresses_and_links("Jane (AT) Example [dot] COM and x.Y@Shop.co.uk")
    assert [(item.kind, item.value) for item in found] == [
        ("email", "jane@example.com"),
        ("email", "x.y@shop.co.uk"),
    ]


def test_link_values_are_hosts() -> None:
    found = find_addresses_and_links("https://user@Shop.Example.com:8443/a b www.x.io/p?q=1")
    assert [(item.kind, item.value, item.start) for item in found] == [
        ("url", "shop.example.com", 0),
        ("email", "user@shop.example.com", 8),
        ("url", "www.x.io", 39),
    ]


def test_an_address_without_its_local_part_is_still_an_address() -> None:
    [found] = find_addresses_and_links("write to: @example.com")
    assert (found.kind, found.value, found.start) == ("email", "@example.com", 10)
    [found] = find_addresses_and_links("write to @example.com")  # "to @" reads as "to@"
    assert found.value == "to@example.com"


def test_every_label_may_start_a_link() -> None:
    found = find_addresses_and_links("a_b.example.com and x%y.www.foo.xyz")
    assert [item.value for item in found] == ["example.com", "www.foo.xyz"]
