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
``at`` (``dot``) counts as ``@`` (``.``) only with spaces on both sides, and a
full stop counts as a dot only with spaces on both sides or on neither.
Markers are decided by the characters right around them and every label may
start a link, so masking one find never turns its neighbours into another:
masking is idempotent.

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
_SCHEME_URL = re.compile(r"(?<![\w%+-])[\w%+-]*?(?:https?|ftp)://[^\W_][^\s<>\"']*", re.IGNORECASE)
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
    # Markers depend on the whitespace around them: decide them now.
    for index, unit in enumerate(raw):
        after = raw[index + 1] if index + 1 < len(raw) else None
        ws_after = after is None or after.ws_before
        if unit.kind == "@":
            unit.kind, unit.plain = _AT, not (unit.ws_before or ws_after)
        elif unit.kind == ".":
            unit.kind = _DOT if unit.ws_before == ws_after else _BREAK
            unit.plain = not unit.ws_before
        elif unit.kind == _LABEL and unit.text in MARKER_WORDS and unit.ws_before and ws_after:
            unit.kind = _AT if unit.text == "at" else _DOT
            unit.plain = False
    return raw


def _chains(units: list[_Unit]) -> list[list[_Unit]]:
    """Maximal ``label (marker label)*`` sequences; one that starts with an
    ``@`` gets an empty first label."""
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
            if unit.kind == _AT:
                # "@example.com": an address whose local part is missing, or
                # was masked away; it must read the same either way.
                chain.extend([_Unit(_LABEL, unit.start, unit.start, ""), unit])
    flush()
    return chains


def _host_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(char.isalnum() or char == "-" for char in label)
    )


def _tld(label: str, *, any_alpha: bool) -> bool:
    return label.isalpha() and 2 <= len(label) <= 24 and (any_alpha or label in KNOWN_TLDS)


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


def _host(labels: list[_Unit], dots: list[_Unit], *, plain: bool) -> int:
    """How many of ``labels`` (an address's domain) make the longest valid
    host, 0 if none: host labels all the way, at least two, ending in a TLD
    (any alphabetic one while every marker so far is plain)."""
    best = 0
    for count, label in enumerate(labels, start=1):
        if not _host_label(label.text):
            break
        plain = plain and (count == 1 or dots[count - 2].plain)
        if count >= 2 and _tld(label.text, any_alpha=plain):
            best = count
    return best


def _hosts(labels: list[_Unit], dots: list[_Unit], cover: _Cover) -> list[tuple[int, int]]:
    """Links among dot-joined host labels, as ``(first, last)`` label indexes.

    Every label not inside an earlier link may start a host, so what is found
    does not depend on what stands before a label (masking that part away
    changes nothing): the longest host ending in a known TLD, else one
    starting with ``www`` and plain dots, ending in any alphabetic TLD.
    Linear: "last TLD at or before" tables instead of a scan per start.
    """
    size = len(labels)
    last_known, last_alpha, next_weak = [-1] * size, [-1] * size, [size - 1] * size
    for index, label in enumerate(labels):
        previous = (last_known[index - 1], last_alpha[index - 1]) if index else (-1, -1)
        last_known[index] = index if _tld(label.text, any_alpha=False) else previous[0]
        last_alpha[index] = index if _tld(label.text, any_alpha=True) else previous[1]
    for index in range(size - 2, -1, -1):
        next_weak[index] = index if not dots[index].plain else next_weak[index + 1]
    hosts: list[tuple[int, int]] = []
    start = 0
    while start < size - 1:
        last = last_known[size - 1]
        if labels[start].text == "www":
            last = max(last, last_alpha[next_weak[start]])
        if last > start and not cover.reaches(labels[start].start):
            hosts.append((start, last))
            start = last + 1
        else:
            start += 1
    return hosts


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
        # Only the "@" and the domain decide: the local part may be cut short
        # by masking what stands before it, and that must not change anything.
        count = _host(labels[k + 1 : last + 1], markers[k + 1 : last], plain=marker.plain)
        if not count:
            continue
        domain = labels[k + 1 : k + 1 + count]
        local = ".".join(unit.text for unit in labels[first : k + 1])
        address = local + "@" + ".".join(unit.text for unit in domain)
        found.append(Found("email", labels[first].start, domain[-1].end, address))
        for index in range(first, k + 1 + count):
            used[index] = True
    # Links: runs of dot-joined host labels that no address used.
    index = 0
    while index < len(labels):
        end = index
        while end < len(labels) and not used[end] and _host_label(labels[end].text):
            end += 1
            if end < len(labels) and markers[end - 1].kind != _DOT:
                break
        run = labels[index:end]
        for first, last in _hosts(run, markers[index : max(index, end - 1)], cover):
            _add_link(run[first : last + 1], text, found, cover)
        index = max(end, index + 1)


def _add_link(host: list[_Unit], text: str, found: list[Found], cover: _Cover) -> None:
    stop = host[-1].end
    follow = text[stop : stop + 2]
    if follow[:1] in ("/", "?", "#") or (follow[:1] == ":" and follow[1:].isdigit()):
        path = _PATH.match(text, stop)
        stop = _trim(text, stop, path.end() if path else stop)
    found.append(Found("url", host[0].start, stop, ".".join(unit.text for unit in host)))
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
