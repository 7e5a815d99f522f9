"""Masking contact details in chat text as a marketplace's policy asks.

What is found is decided by :mod:`policies.phones` and
:mod:`policies.addresses`; this module applies the policy: which kinds are
masked, what the allowlist keeps, and how overlapping finds are merged into
one replacement.

Allowlist entries (compared case-insensitively):

* a domain (``shop.example.com``, optionally written ``*.shop.example.com``)
  keeps links to it and e-mail addresses at it, subdomains included;
* an e-mail address keeps that address, however it is spelled in the text;
* a phone number (digits with ``+ - . ( )``, at least seven digits) keeps
  numbers with the same digits;
* anything else keeps a find whose exact text equals it.

An allowlisted link or address is kept whole: nothing inside it is masked
(a product link may carry long numeric ids). A find that merely contains an
allowlisted one is still masked, so wrapping an allowed address in another
link does not smuggle the link through.

Masking is idempotent: the replacement (see :mod:`policies.validation`) is
bracketed text with a letter in it, which never joins or forms a find.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from policies.addresses import find_addresses_and_links
from policies.model import Policy
from policies.phones import MIN_DIGITS, find_phone_numbers
from policies.types import ContactKind, Found

__all__ = ["MaskResult", "mask_contact_details"]

_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}")
_PHONE_ENTRY = re.compile(r"\+?[\d().-]+")


@dataclass(frozen=True, slots=True)
class MaskResult:
    """The text to store and show, which kinds were masked, and whether any was.

    ``kinds`` holds only what was replaced: allowlisted finds and kinds the
    policy does not mask are not in it, and ``masked`` is ``bool(kinds)``.
    """

    text: str
    kinds: frozenset[ContactKind]
    masked: bool


class _Allowlist:
    def __init__(self, entries: Iterable[str]) -> None:
        self.exact: set[str] = set()
        self.domains: set[str] = set()
        self.digits: set[str] = set()
        for raw in entries:
            entry = raw.strip().casefold()
            if not entry:
                continue
            self.exact.add(entry)
            if _PHONE_ENTRY.fullmatch(entry):
                digits = "".join(char for char in entry if char.isdigit())
                if len(digits) >= MIN_DIGITS:
                    self.digits.add(digits)
            domain = entry.removeprefix("*.").removeprefix(".")
            if _DOMAIN.fullmatch(domain):
                self.domains.add(domain)

    def _domain(self, host: str) -> bool:
        return any(host == domain or host.endswith("." + domain) for domain in self.domains)

    def keeps(self, item: Found, text: str) -> bool:
        if text[item.start : item.end].casefold() in self.exact:
            return True
        if item.kind == "phone":
            return item.value in self.digits
        if item.kind == "email":
            return item.value in self.exact or self._domain(item.value.rsplit("@", 1)[1])
        return self._domain(item.value)


def _union(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _within(spans: list[tuple[int, int]], starts: list[int], item: Found) -> bool:
    index = bisect.bisect_right(starts, item.start) - 1
    return index >= 0 and spans[index][1] >= item.end


def mask_contact_details(text: str, policy: Policy) -> MaskResult:
    """Replace the phone numbers, e-mail addresses and links that ``policy``
    masks with its replacement; merged finds become one replacement.

    Linear in the length of ``text``; never raises on any string.
    """
    rules = policy.masking
    if not text or not (rules.phones or rules.emails or rules.urls):
        return MaskResult(text, frozenset(), False)
    allowlist = _Allowlist(rules.allowlist)
    enabled = {"email": rules.emails, "url": rules.urls}
    keep: list[Found] = []
    hits: list[Found] = []
    if rules.emails or rules.urls:
        for item in find_addresses_and_links(text):
            if enabled[item.kind]:
                (keep if allowlist.keeps(item, text) else hits).append(item)
    kept = _union((item.start, item.end) for item in keep)
    kept_starts = [start for start, _ in kept]
    hits = [item for item in hits if not _within(kept, kept_starts, item)]
    if rules.phones:
        blocked = _union([*kept, *((item.start, item.end) for item in hits)])
        hits.extend(
            item for item in find_phone_numbers(text, blocked) if not allowlist.keeps(item, text)
        )
    if not hits:
        return MaskResult(text, frozenset(), False)
    pieces: list[str] = []
    position = 0
    for start, end in _union((item.start, item.end) for item in hits):
        pieces.append(text[position:start])
        pieces.append(rules.replacement)
        position = end
    pieces.append(text[position:])
    kinds = frozenset(item.kind for item in hits)
    return MaskResult("".join(pieces), kinds, True)
