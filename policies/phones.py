"""Finding phone numbers in chat text, written with digits, words or both.

A *run* is a sequence of number tokens joined only by short separators:

* number tokens: digit runs (decimal digits of any script, and characters
  whose compatibility form is digits: superscript, full-width, circled),
  English number words (``zero``/``oh`` .. ``nine``, ``ten`` .. ``nineteen``,
  ``twenty`` .. ``ninety``, so ``twenty two`` is ``22``) and
  ``double``/``triple`` before a number;
* separators: whitespace, ``- . ( ) [ ] { } / \\ _ * ~ + |``, dashes, bullets
  and invisible format characters, at most :data:`MAX_GAP` characters between
  two tokens; a comma joins tokens unless it stands between two digit runs
  (``1,000,000`` and ``40, 50, 60`` are quantities, not phone numbers).

A run with at least :data:`MIN_DIGITS` digits is a phone number unless it is
made only of digits and looks like an amount of money (a currency symbol
right before or after one number of at most nine digits, or one grouped in
thousands: ``$1250000``, ``€1.250.000``), a date (``2025-05-03``,
``03/05/2025``) or a decimal (``12345.67``). So ``40 units at $12``,
``order #1042`` and ``May 3 2025`` are left alone, while ``(555) 123-4567``,
``+44 20 7946 0958`` and ``five five five one two three four`` are found.
Lists of numbers with seven digits between them (``sizes 36 38 40 42``) are
found too: the rule cannot tell them from ``06 12 34 56 78``, and masking too
much is the safer mistake.

A phone number written inside a word (``call5551234567now``) takes the whole
word, so masking never leaves half a word that could read differently later.

One pass over the text with a tokenising regex of single character classes:
linear time, no backtracking.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from policies.types import Found

__all__ = ["MAX_GAP", "MIN_DIGITS", "NUMBER_WORDS", "find_phone_numbers"]

MIN_DIGITS = 7
MAX_GAP = 4

_UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = (
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
)
_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORDS: dict[str, str] = {
    **{word: str(value) for value, word in enumerate(_UNITS)},
    "oh": "0",
    **{word: str(10 + value) for value, word in enumerate(_TEENS)},
    **{word: f"{value + 2}0" for value, word in enumerate(_TENS)},
    "fourty": "40",
}
_MULTIPLIERS = {"double": 2, "triple": 3}
NUMBER_WORDS: frozenset[str] = frozenset(_WORDS) | frozenset(_MULTIPLIERS)
"""Every word that counts as (part of) a number; casefolded."""

_TOKEN = re.compile(r"(\d+)|([^\W\d_]+)|(\s+)|(.)", re.DOTALL)
_SEPARATORS = frozenset("-.()[]{}/\\_*~+|,\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00b7\u2022")
_CURRENCY = frozenset("$€£¥₹")
_DATE_SEPARATORS = frozenset("-/.")
_MAX_AMOUNT_DIGITS = 9  # "$5551234567" is a phone number, not $5.5 billion
_THOUSANDS = frozenset(". \u00a0\u202f")


@dataclass
class _Run:
    start: int
    end: int = 0
    digits: list[str] = field(default_factory=list)
    # (start, end, is_digit_token) of every number token, for the shape checks.
    parts: list[tuple[int, int, bool]] = field(default_factory=list)
    multiplier: int = 1
    after_tens: bool = False

    def add(self, start: int, end: int, value: str, *, is_digits: bool, tens: bool) -> None:
        if self.after_tens and not is_digits and len(value) == 1 and value != "0":
            self.digits[-1] = self.digits[-1][:-1] + value  # "twenty two" is 22
        else:
            self.digits.append(value * self.multiplier)
        self.parts.append((start, end, is_digits))
        self.end = end
        self.multiplier = 1
        self.after_tens = tens


def _digits_of(token: str) -> str:
    if token.isascii():
        return token
    return "".join(str(unicodedata.decimal(char)) for char in token)


def _word_value(word: str) -> str | None:
    norm = word.casefold() if word.isascii() else unicodedata.normalize("NFKC", word).casefold()
    if norm.isascii() and norm.isdigit():
        return norm  # superscript, circled or full-width digits
    return _WORDS.get(norm)


def _multiplier(word: str) -> int:
    return _MULTIPLIERS.get(word.casefold(), 0) if word.isascii() else 0


def _in_word(char: str) -> bool:
    """Characters of a word as :mod:`policies.addresses` cuts them."""
    return char.isalnum() or char in "_%+-"


def _is_separator(char: str) -> bool:
    return char in _SEPARATORS or unicodedata.category(char) == "Cf"


def _overlaps(
    blocked: Sequence[tuple[int, int]], starts: Sequence[int], start: int, end: int
) -> bool:
    # Spans are sorted and disjoint: only the last one starting before ``end`` can overlap.
    index = bisect.bisect_left(starts, end) - 1
    return index >= 0 and blocked[index][1] > start


def _looks_like_money(text: str, run: _Run) -> bool:
    start, end = run.start, run.end
    before = text[max(0, start - 2) : start].rstrip(" ")
    after = text[end : end + 2].lstrip(" ")
    return (bool(before) and before[-1] in _CURRENCY) or (bool(after) and after[0] in _CURRENCY)


def _is_date(groups: list[str], seps: list[str]) -> bool:
    if len(groups) != 3 or len(set(seps)) != 1 or seps[0] not in _DATE_SEPARATORS:
        return False
    sizes = [len(group) for group in groups]
    a, b, c = (int(group) for group in groups)
    if sizes[0] == 4 and sizes[1] <= 2 and sizes[2] <= 2:  # 2025-05-03
        return 1900 <= a <= 2199 and 1 <= b <= 12 and 1 <= c <= 31
    if sizes[0] <= 2 and sizes[1] <= 2 and sizes[2] == 4:  # 03/05/2025 or 05/03/2025
        plausible = (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)
        return plausible and 1900 <= c <= 2199
    return False


def _is_amount(groups: list[str], seps: list[str]) -> bool:
    """``1250000``, ``1.250.000``, ``1 250 000.50``: one number, or thousands."""
    if seps and seps[-1] == "." and len(groups[-1]) <= 2:  # cents
        groups, seps = groups[:-1], seps[:-1]
    if len(groups) == 1:
        return len(groups[0]) <= _MAX_AMOUNT_DIGITS
    return (
        len(set(seps)) == 1
        and seps[0] in _THOUSANDS
        and 1 <= len(groups[0]) <= 3
        and all(len(group) == 3 for group in groups[1:])
    )


def _is_not_a_phone(text: str, run: _Run) -> bool:
    """Only runs made of digits alone can be amounts, dates or decimals."""
    if not all(is_digits for _, _, is_digits in run.parts):
        return False
    groups = [text[start:end] for start, end, _ in run.parts]
    seps = [text[run.parts[i][1] : run.parts[i + 1][0]] for i in range(len(run.parts) - 1)]
    if _is_amount(groups, seps) and _looks_like_money(text, run):
        return True
    if _is_date(groups, seps):
        return True
    return len(groups) == 2 and seps == ["."] and len(groups[1]) <= 2


def find_phone_numbers(text: str, blocked: Sequence[tuple[int, int]] = ()) -> list[Found]:
    """Phone numbers in ``text``, in order, never overlapping ``blocked``.

    ``blocked`` holds sorted, disjoint ``(start, end)`` spans (links and
    addresses already dealt with): a run never crosses or enters them.
    """
    found: list[Found] = []
    starts = [start for start, _ in blocked]
    floor = 0  # nothing found may reach back before this
    run: _Run | None = None
    gap = 0
    gap_comma = False
    last_is_digits = False

    def free(pos: int) -> bool:
        return not _overlaps(blocked, starts, pos, pos + 1)

    def close() -> None:
        nonlocal run, floor
        current, run = run, None
        if current is None:
            return
        digits = "".join(current.digits)
        if len(digits) < MIN_DIGITS or _is_not_a_phone(text, current):
            return
        start, end = current.start, current.end
        for _ in range(2):  # "+1 ...", "(555) ...", "(+1) ..."
            if start > floor and text[start - 1] in "+(" and free(start - 1):
                start -= 1
        span = text[start:end]
        if span.count("(") > span.count(")") and text[end : end + 1] == ")" and free(end):
            end += 1
        # Take whole words ("call5551234567now", "x+15551234567"): masking half
        # a word would leave a new word behind that could read differently.
        while start > floor and _in_word(text[start]) and _in_word(text[start - 1]):
            if not free(start - 1):
                break
            start -= 1
        while end < len(text) and _in_word(text[end - 1]) and _in_word(text[end]):
            if not free(end):
                break
            end += 1
        found.append(Found("phone", start, end, digits))
        floor = end

    for match in _TOKEN.finditer(text):
        start, end = match.span()
        if blocked and _overlaps(blocked, starts, start, end):
            close()
            floor = max(floor, end)
            continue
        number, word, space = match.group(1), match.group(2), match.group(3)
        value: str | None = None
        times = 0
        if number is not None:
            value = _digits_of(number)
        elif word is not None:
            value = _word_value(word)
            times = 0 if value is not None else _multiplier(word)
        if value is None and not times:
            char = match.group(4)
            separator = space is not None or (char is not None and _is_separator(char))
            if run is not None and separator:
                gap += end - start
                gap_comma = gap_comma or char == ","
                if gap > MAX_GAP:
                    close()
            else:
                close()
            continue
        is_digits = number is not None
        joins = run is not None and not (gap_comma and is_digits and last_is_digits)
        if not joins:
            close()
        if run is None:
            run = _Run(start=start)
        if times:
            run.multiplier = times  # applies to the next number
        elif value is not None:
            tens = (not is_digits) and len(value) == 2 and value.endswith("0")
            run.add(start, end, value, is_digits=is_digits, tens=tens and value != "10")
            last_is_digits = is_digits
        gap, gap_comma = 0, False
    close()
    return found
