"""Finding e-mail addresses and links in chat text, including obfuscated ones.

E-mail addresses: ``jane@example.com``, and the spellings people use to slip
past filters: ``jane at example dot com``, ``jane (at) example [dot] com``,
``jane @ example . com``, ``john dot smith AT example DOT co DOT uk``.

Links: ``http(s)://`` and ``ftp://`` URLs (any host), ``www.`` hosts (any
alphabetic top-level domain) and bare domains such as ``example.com`` or
``shop.co.uk``, with a path if one follows (``example.com/item/1``).

Top-level domains: a plain address (``@`` and ``.`` written as such) may end
in any alphabetic TLD. Bare domains and every obfuscated form must end in one
of :data:`KNOWN_TLDS`, a list of common TLDs that leaves out those which are
also English words (``it``, ``in``, ``me``, ``to``, ...), so a missing space
after a full stop (``broken.it arrived``) is not taken for a link. The word
``at`` counts as ``@`` only between two words with spaces around it, and a
full stop counts as a dot only with spaces on both sides or on neither.

Known false positives, accepted because masking too much is the safer
mistake: ``look at this dot com bubble`` reads as an address.

The text is cut into units (labels, ``@``-like and dot-like markers, breaks)
by a regex of simple alternatives, then scanned once: linear time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from policies.types import Found

__all__ = ["KNOWN_TLDS", "MARKER_WORDS", "find_addresses_and_links"]

_TLDS = (
    "com net org edu gov mil int info biz pro name io co ai app dev xyz tv cc ly gg "
    "shop store online site website tech email "
    "uk de fr es nl ch se dk fi pl ru cn jp kr br mx ar nz ie eu ca au za sg hk tw pt "
    "cz gr hu ro tr ua il ae sa vn th ph ng ke eg cl pe ve lt lv ee sk si hr rs bg"
)
KNOWN_TLDS: frozenset[str] = frozenset(_TLDS.split())
MARKER_WORDS: frozenset[str] = frozenset({"at", "dot"})
"""Words that stand for ``@`` and ``.`` in obfuscated addresses."""

_UNIT = re.compile(
    r"""
      (?P<label>[^\W_][\w%+-]*)
    | (?P<at>[(\[{<]\s*at\s*[)\]}>])
    | (?P<dot>[(\[{<]\s*dot\s*[)\]}>])
    | (?P<ws>\s+)
    | (?P<ch>.)
    """,
    re.IGNORECASE | re.DOTALL | re.VERBOSE,
)
# A scheme URL takes the whole word it starts in ("xhttp://..."), so masking
# it never leaves half a label behind, and must name a host ("http://[hidden]"
# is not a link).
_SCHEME_URL = re.compile(
    r"(?<![\w%+-])[\w%+-]*?(?:https?|ftp)://[^\W_][^\s<>\"']*", re.IGNORECASE
)
_PATH = re.compile(r"[^\s<>\"']*")
_TRAILING = ".,;:!?'\""
_CLOSERS = {")": "(", "]": "[", "}": "{"}

_LABEL, _AT, _DOT, _BREAK = "label", "at", "dot", "break"


@dataclass(slots=True)
class _Unit:
    kind: str
    start: int
    end: int
    text: str  # casefolded, for labels
    plain: bool = True  # "@" or "." written as such, without spaces around
    ws_before: bool = False


def _trim(text: str, start: int, end: int) -> int:
    """The end of a link without the punctuation that ends its sentence."""
    while end > start:
        last = text[end - 1]
        unbalanced = last in _CLOSERS and text.count(last, start, end) > text.count(
            _CLOSERS[last], start, end
        )
        if last not in _TRAILING and not unbalanced:
            break
        end -= 1
    return end


def _scheme_host(url: str) -> str:
    rest = url.split("://", 1)[1]
    for stop in "/?#":
        rest = rest.split(stop, 1)[0]
    rest = rest.rsplit("@", 1)[-1].split(":", 1)[0]
    return rest.casefold().rstrip(".")


def _units(text: str) -> list[_Unit]:
    raw: list[_Unit] = []
    ws = True  # the start of the text counts as a boundary
    for match in _UNIT.finditer(text):
        kind = match.lastgroup
        if kind == "ws":
            ws = True
            continue
        start, end = match.span()
        if kind == "label":
            unit = _Unit(_LABEL, start, end, match.group().casefold())
        elif kind in ("at", "dot"):
            unit = _Unit(_AT if kind == "at" else _DOT, start, end, "", plain=False)
        else:
            char = match.group()
            unit = _Unit("@" if char == "@" else "." if char == "." else _BREAK, start, end, "")
        unit.ws_before = ws
        ws = False
        raw.append(unit)
    # Markers depend on their neighbours: decide them now.
    for index, unit in enumerate(raw):
        before = raw[index - 1] if index else None
        after = raw[index + 1] if index + 1 < len(raw) else None
        ws_after = after is None or after.ws_before
        if unit.kind == "@":
            unit.kind, unit.plain = _AT, not (unit.ws_before or ws_after)
        elif unit.kind == ".":
            unit.kind = _DOT if unit.ws_before == ws_after else _BREAK
            unit.plain = not unit.ws_before
        elif unit.kind == _LABEL and unit.text in MARKER_WORDS:
            between_words = (
                before is not None
                and before.kind == _LABEL
                and after is not None
                and after.kind == _LABEL
            )
            if between_words and unit.ws_before and ws_after:
                unit.kind = _AT if unit.text == "at" else _DOT
                unit.plain = False
    return raw


def _chains(units: list[_Unit]) -> list[list[_Unit]]:
    """Maximal ``label (marker label)*`` sequences."""
    chains: list[list[_Unit]] = []
    chain: list[_Unit] = []

    def flush() -> None:
        if chain and chain[-1].kind != _LABEL:
            chain.pop()
        if len(chain) >= 3:
            chains.append(chain.copy())
        chain.clear()

    for unit in units:
        if unit.kind == _LABEL:
            if chain and chain[-1].kind == _LABEL:
                flush()
            chain.append(unit)
        elif unit.kind in (_AT, _DOT) and chain and chain[-1].kind == _LABEL:
            chain.append(unit)
        else:
            flush()
    flush()
    return chains


def _host_label(label: str) -> bool:
    return (
        len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(char.isalnum() or char == "-" for char in label)
    )


def _tld(label: str, *, any_alpha: bool) -> bool:
    return label.isalpha() and 2 <= len(label) <= 24 and (any_alpha or label in KNOWN_TLDS)


def _host(labels: list[_Unit], dots: list[_Unit], *, plain: bool, www: bool) -> int:
    """How many of ``labels`` make the longest valid host (0 if none): host
    labels all the way, at least two, ending in an acceptable TLD."""
    best = 0
    for count, label in enumerate(labels, start=1):
        if not _host_label(label.text):
            break
        plain = plain and (count == 1 or dots[count - 2].plain)
        if count >= 2 and _tld(label.text, any_alpha=plain and www):
            best = count
    return best


class _Cover:
    """How far links found so far reach, asked in increasing positions: a host
    inside an earlier link (its path, or a scheme URL) is not a new link."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self._spans, self._next, self._end = spans, 0, 0

    def reaches(self, pos: int) -> bool:
        while self._next < len(self._spans) and self._spans[self._next][0] <= pos:
            self._end = max(self._end, self._spans[self._next][1])
            self._next += 1
        return pos < self._end

    def extend(self, end: int) -> None:
        self._end = max(self._end, end)


def _scan_chain(chain: list[_Unit], text: str, found: list[Found], cover: _Cover) -> None:
    labels = chain[0::2]
    markers = chain[1::2]  # markers[k] sits between labels[k] and labels[k + 1]
    used = [False] * len(labels)
    for k, marker in enumerate(markers):
        if marker.kind != _AT:
            continue
        first = k
        while first > 0 and markers[first - 1].kind == _DOT:
            first -= 1
        last = k + 1
        while last < len(markers) and markers[last].kind == _DOT:
            last += 1
        local_plain = all(m.plain for m in markers[first:k])
        count = _host(
            labels[k + 1 : last + 1],
            markers[k + 1 : last],
            plain=marker.plain and local_plain,
            www=True,  # a plain address may end in any alphabetic TLD
        )
        if not count:
            continue
        domain = labels[k + 1 : k + 1 + count]
        local = ".".join(unit.text for unit in labels[first : k + 1])
        address = local + "@" + ".".join(unit.text for unit in domain)
        found.append(Found("email", labels[first].start, domain[-1].end, address))
        for index in range(first, k + 1 + count):
            used[index] = True
    # Links: runs of dot-joined labels that no address used.
    index = 0
    while index < len(labels):
        end = index
        while end < len(markers) and markers[end].kind == _DOT:
            end += 1
        segment = range(index, end + 1)
        index = end + 1
        if any(used[i] for i in segment) or cover.reaches(labels[segment.start].start):
            continue
        www = labels[segment[0]].text == "www"
        count = _host(
            labels[segment.start : segment.stop],
            markers[segment.start : segment.stop - 1],
            plain=True,
            www=www,
        )
        if count:
            first_unit, last_unit = labels[segment.start], labels[segment.start + count - 1]
            stop = last_unit.end
            follow = text[stop : stop + 2]
            if follow[:1] in ("/", "?", "#") or (follow[:1] == ":" and follow[1:].isdigit()):
                path = _PATH.match(text, stop)
                stop = _trim(text, stop, path.end() if path else stop)
            host = ".".join(unit.text for unit in labels[segment.start : segment.start + count])
            found.append(Found("url", first_unit.start, stop, host))
            cover.extend(stop)


def find_addresses_and_links(text: str) -> list[Found]:
    """E-mail addresses (kind ``email``) and links (kind ``url``) in ``text``.

    Sorted by start. Addresses found inside a link are reported too (the link
    may be allowlisted or links may not be masked at all); links inside an
    earlier link are not.
    """
    found: list[Found] = []
    for match in _SCHEME_URL.finditer(text):
        end = _trim(text, match.start(), match.end())
        host = _scheme_host(text[match.start() : end])
        if host:
            found.append(Found("url", match.start(), end, host))
    cover = _Cover([(item.start, item.end) for item in found])
    for chain in _chains(_units(text)):
        _scan_chain(chain, text, found, cover)
    found.sort(key=lambda item: (item.start, -item.end))
    return found
