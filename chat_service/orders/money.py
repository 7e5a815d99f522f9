"""Exact money: ISO 4217 minor units, amount and quantity parsing, line and
order totals. ``Decimal`` only, never ``float``.

Amounts (:func:`parse_amount`, :class:`Money`):

* ``float`` is refused outright, whatever its value (``0.1`` has no exact
  binary form, so a float price has already been rounded by someone). So are
  ``bool``, NaN, sNaN and the infinities.
* Strings are an optional sign, digits and optionally a point followed by
  digits, at most :data:`MAX_AMOUNT_TEXT` characters: ``"12"``, ``"12.50"``,
  ``"-3.5"``. No exponents (``"1e3"``, ``"1.2E+4"``), no thousands separators,
  no surrounding spaces, no ``".5"`` or ``"5."``. Exponents are refused
  because they are what float formatting in spreadsheets and scripts
  produces; a feed that emits them has probably lost precision already. A
  ``Decimal`` *object* is taken by value, whatever its exponent.
* An amount must be a whole number of the currency's minor units: ``"12.345"``
  USD, ``"1.5"`` JPY and ``"1.2345"`` BHD are refused. Trailing zeros are
  fine (``"12.500"`` USD is 12.50): the value is exact, and ERPs often export
  four decimals for every currency. Results carry exactly the currency's
  number of decimals (``"12.5"`` USD becomes ``Decimal("12.50")``).
* Negative amounts are refused unless the caller allows them (refunds and
  adjustments); zero is allowed (free samples). ``-0`` becomes ``0``.
* ``abs(amount)`` must stay below ``max_amount`` (default
  :data:`MAX_AMOUNT`, 10**12 major units).

Quantities are ``int`` from 1 to ``max_quantity`` (default
:data:`MAX_QUANTITY`); 0, negatives, ``bool``, ``float`` and ``Decimal`` are
refused with ``invalid_quantity``. :func:`parse_quantity` also takes plain
digit strings, for CSV cells.

Totals are computed on integer minor units, so they are exact whatever the
``decimal`` context's precision; the largest line total (10**12 x 10**9) has
24 digits, well inside MongoDB's Decimal128 (34).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from types import MappingProxyType
from typing import Final, Protocol

from chat_service.orders.errors import (
    InvalidAmount,
    InvalidLineItem,
    InvalidQuantity,
    MixedCurrencies,
    UnsupportedCurrency,
)

__all__ = [
    "CURRENCY_MINOR_UNITS",
    "MAX_AMOUNT",
    "MAX_AMOUNT_TEXT",
    "MAX_QUANTITY",
    "AmountInput",
    "Money",
    "PricedLine",
    "Totals",
    "check_currency",
    "check_quantity",
    "line_total",
    "minor_units",
    "order_totals",
    "parse_amount",
    "parse_quantity",
]


def _exponent(digits: int, codes: str) -> dict[str, int]:
    return dict.fromkeys(codes.split(), digits)


# ISO 4217 exponents (digits after the decimal point) of the currencies a
# marketplace is likely to price in. Extend here; unknown codes are refused.
CURRENCY_MINOR_UNITS: Final[Mapping[str, int]] = MappingProxyType(
    {
        **_exponent(0, "CLP ISK JPY KRW PYG UGX VND XAF XOF XPF"),
        **_exponent(
            2,
            "AED ARS AUD BGN BRL CAD CHF CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR KES "
            "MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN QAR RON SAR SEK SGD THB TRY TWD UAH USD ZAR",
        ),
        **_exponent(3, "BHD IQD JOD KWD LYD OMR TND"),
    }
)
MAX_AMOUNT: Final = Decimal(10) ** 12
MAX_AMOUNT_TEXT: Final = 40
MAX_QUANTITY: Final = 1_000_000_000

AmountInput = str | int | Decimal

_AMOUNT_TEXT = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_QUANTITY_TEXT = re.compile(r"[0-9]{1,12}")
_CURRENCY_TEXT = re.compile(r"[A-Za-z]{3}")
# Wide enough for any amount below MAX_AMOUNT at any exponent in the table.
_CONTEXT = Context(prec=60)


def check_currency(currency: object) -> str:
    """The upper-case ISO code of a supported currency (``"usd"`` -> ``"USD"``)."""
    if not isinstance(currency, str) or not _CURRENCY_TEXT.fullmatch(currency):
        raise UnsupportedCurrency(f"{currency!r} is not an ISO 4217 currency code")
    code = currency.upper()
    if code not in CURRENCY_MINOR_UNITS:
        raise UnsupportedCurrency(f"currency {code} is not supported")
    return code


def minor_units(currency: str) -> int:
    """Digits after the decimal point in ``currency`` (USD 2, JPY 0, KWD 3)."""
    return CURRENCY_MINOR_UNITS[check_currency(currency)]


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, (bool, float)):
        raise InvalidAmount(
            f"amounts must be decimal strings, integers or Decimals, not {type(value).__name__}"
        )
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        if len(value) > MAX_AMOUNT_TEXT or not _AMOUNT_TEXT.fullmatch(value):
            raise InvalidAmount(
                f"{value[:MAX_AMOUNT_TEXT]!r} is not a plain decimal amount like 12.50 "
                "(no exponents, separators or spaces)"
            )
        return Decimal(value)
    raise InvalidAmount(f"amounts must be decimal strings, not {type(value).__name__}")


def parse_amount(
    value: AmountInput,
    currency: str,
    *,
    allow_negative: bool = False,
    max_amount: Decimal = MAX_AMOUNT,
) -> Decimal:
    """``value`` as an exact amount of ``currency`` with the currency's number
    of decimals, or :class:`InvalidAmount` (see the module docstring)."""
    code = check_currency(currency)
    amount = _to_decimal(value)
    if not amount.is_finite():
        raise InvalidAmount(f"{amount} is not a finite amount")
    if amount < 0 and not allow_negative:
        raise InvalidAmount(f"amount {amount} may not be negative")
    if abs(amount) >= max_amount:
        raise InvalidAmount(f"amount {amount} is too large (limit {max_amount:,} {code})")
    return _whole_minor_units(amount, code)


def _whole_minor_units(amount: Decimal, currency: str) -> Decimal:
    exponent = CURRENCY_MINOR_UNITS[currency]
    quantum = Decimal(1).scaleb(-exponent)
    exact = amount.quantize(quantum, context=_CONTEXT)
    if exact != amount:
        raise InvalidAmount(
            f"amount {amount} has more decimals than {currency} allows ({exponent})"
        )
    return exact.copy_abs() if exact == 0 else exact


def _from_minor(minor: int, currency: str) -> Decimal:
    exponent = CURRENCY_MINOR_UNITS[currency]
    digits = tuple(int(digit) for digit in str(abs(minor)))
    return Decimal((1 if minor < 0 else 0, digits, -exponent))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount of one currency. Construction normalises the amount to
    the currency's decimals and refuses anything :func:`parse_amount` would,
    except that negative and large values are allowed (sums, refunds)."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        code = check_currency(self.currency)
        if not isinstance(self.amount, Decimal):
            raise InvalidAmount(f"Money needs a Decimal amount, not {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise InvalidAmount(f"{self.amount} is not a finite amount")
        object.__setattr__(self, "currency", code)
        object.__setattr__(self, "amount", _whole_minor_units(self.amount, code))

    @classmethod
    def parse(cls, value: AmountInput, currency: str, *, allow_negative: bool = False) -> Money:
        """:func:`parse_amount` wrapped in a :class:`Money`."""
        amount = parse_amount(value, currency, allow_negative=allow_negative)
        return cls(amount, currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """From a count of minor units: ``Money.from_minor(1250, "USD")`` is 12.50."""
        code = check_currency(currency)
        return cls(_from_minor(minor, code), code)

    @property
    def minor(self) -> int:
        """The amount in minor units (cents for USD, yen for JPY)."""
        return int(self.amount.scaleb(CURRENCY_MINOR_UNITS[self.currency], context=_CONTEXT))

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            raise MixedCurrencies(f"cannot add {other.currency} to {self.currency}")
        return Money.from_minor(self.minor + other.minor, self.currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def check_quantity(value: object, *, max_quantity: int = MAX_QUANTITY) -> int:
    """``value`` if it is an ``int`` from 1 to ``max_quantity``, else
    :class:`InvalidQuantity`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidQuantity(f"quantity must be a whole number, not {type(value).__name__}")
    if value < 1:
        raise InvalidQuantity(f"quantity must be at least 1, got {value}")
    if value > max_quantity:
        raise InvalidQuantity(f"quantity {value} is above the limit of {max_quantity}")
    return value


def parse_quantity(value: str | int, *, max_quantity: int = MAX_QUANTITY) -> int:
    """Like :func:`check_quantity`, also taking a string of digits (``"12"``)."""
    if isinstance(value, str):
        if not _QUANTITY_TEXT.fullmatch(value):
            raise InvalidQuantity(f"{value[:20]!r} is not a whole number like 12")
        return check_quantity(int(value), max_quantity=max_quantity)
    return check_quantity(value, max_quantity=max_quantity)


class PricedLine(Protocol):
    """What a total needs from a line item."""

    @property
    def quantity(self) -> int: ...

    @property
    def unit_price(self) -> Money: ...


@dataclass(frozen=True, slots=True)
class Totals:
    """The sum of an order's line totals. There is no tax or shipping here:
    the marketplace owns those, and ``subtotal`` is the value approval
    thresholds are compared with."""

    subtotal: Decimal
    currency: str
    line_count: int

    @property
    def money(self) -> Money:
        return Money(self.subtotal, self.currency)


def line_total(quantity: int, unit_price: Money) -> Money:
    """``quantity x unit_price``, exactly."""
    if not isinstance(unit_price, Money):
        raise InvalidAmount(f"unit price must be Money, not {type(unit_price).__name__}")
    count = check_quantity(quantity)
    return Money.from_minor(unit_price.minor * count, unit_price.currency)


def order_totals(lines: Iterable[PricedLine]) -> Totals:
    """The exact subtotal of ``lines``; :class:`MixedCurrencies` if they are
    not all priced in one currency, :class:`InvalidLineItem` if there are none."""
    currency: str | None = None
    minor = 0
    count = 0
    for line in lines:
        total = line_total(line.quantity, line.unit_price)
        if currency is None:
            currency = total.currency
        elif total.currency != currency:
            raise MixedCurrencies(
                f"line {count + 1} is priced in {total.currency}, earlier lines in {currency}; "
                "an order has one currency"
            )
        minor += total.minor
        count += 1
    if currency is None:
        raise InvalidLineItem("an order needs at least one line item")
    return Totals(_from_minor(minor, currency), currency, count)
