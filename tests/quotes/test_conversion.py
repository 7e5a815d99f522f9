"""Converting an accepted quote, and the command dispatcher."""

from decimal import Decimal

import pytest

from chat_service.orders.money import Money, order_totals
from chat_service.quotes.commands import (
    Accept,
    Convert,
    Counter,
    Decline,
    Respond,
    Withdraw,
    apply_action,
)
from chat_service.quotes.conversion import agreed_lines, convert
from chat_service.quotes.errors import IllegalQuoteAction, InvalidConversion, RoleNotAllowed
from chat_service.quotes.models import ConversionKind, PaymentTerms
from chat_service.quotes.revisions import accept
from chat_service.quotes.states import QuoteStatus
from tests.quotes.helpers import NOW, WEEK, countered_by_buyer, requested, responded


@pytest.mark.parametrize("kind", ["sales_order", "invoice"])
@pytest.mark.parametrize("terms", ["card", "ach", "purchase_order", "account_credit"])
def test_accepted_quotes_convert(kind: str, terms: str) -> None:
    accepted = accept(responded(), "buyer", NOW, revision=1)
    converted = convert(accepted, kind, terms, NOW + WEEK, reference="PO-1042")
    assert converted.status is QuoteStatus.CONVERTED
    conversion = converted.conversion
    assert conversion is not None
    assert conversion.kind is ConversionKind(kind)
    assert conversion.payment_terms is PaymentTerms(terms)
    assert conversion.revision == 1
    assert conversion.converted_at == NOW + WEEK  # after valid_until: acceptance is what counts
    assert conversion.reference == "PO-1042"


def test_only_accepted_quotes_convert_once() -> None:
    for quote in (requested(), responded(), countered_by_buyer()):
        with pytest.raises(IllegalQuoteAction) as info:
            convert(quote, "invoice", "card", NOW)
        assert info.value.code == "illegal_transition"
    converted = convert(accept(responded(), "buyer", NOW, revision=1), "invoice", "card", NOW)
    with pytest.raises(IllegalQuoteAction, match="final"):
        convert(converted, "invoice", "card", NOW)


@pytest.mark.parametrize(
    ("kind", "terms", "reference"),
    [
        ("purchase", "card", None),
        ("invoice", "cash", None),
        ("invoice", None, None),
        ("invoice", "card", "x" * 101),
        ("invoice", "card", "a\nb"),
    ],
)
def test_bad_conversions(kind: str, terms: str, reference: str | None) -> None:
    accepted = accept(responded(), "buyer", NOW, revision=1)
    with pytest.raises(InvalidConversion) as info:
        convert(accepted, kind, terms, NOW, reference=reference)
    assert info.value.code == "invalid_conversion"


def test_agreed_lines_carry_the_accepted_prices() -> None:
    quote = apply_action(
        countered_by_buyer(), "seller", Respond({"1": "11.50", "2": "290"}, NOW + WEEK), NOW
    )
    accepted = accept(quote, "buyer", NOW, revision=3)
    lines = agreed_lines(accepted)
    assert [(ln.sku, ln.quantity, ln.unit_price) for ln in lines] == [
        ("CHAIR", 40, Money(Decimal("11.50"), "USD")),
        ("DESK", 2, Money(Decimal("290.00"), "USD")),
    ]
    assert order_totals(lines).subtotal == Decimal("1040.00")
    assert agreed_lines(convert(accepted, "sales_order", "ach", NOW)) == lines
    with pytest.raises(IllegalQuoteAction):
        agreed_lines(quote)


def test_commands_dispatch_to_the_same_rules() -> None:
    quote = apply_action(requested(), "seller", Respond({"1": "1", "2": "2"}, NOW + WEEK), NOW)
    quote = apply_action(quote, "buyer", Counter({"1": "1", "2": "1"}), NOW)
    quote = apply_action(
        quote, "server", Counter({"1": "1", "2": "1.5"}, NOW + WEEK, on_behalf_of="seller"), NOW
    )
    with pytest.raises(RoleNotAllowed):
        apply_action(quote, "seller", Accept(3), NOW)
    accepted = apply_action(quote, "buyer", Accept(3), NOW)
    with pytest.raises(RoleNotAllowed):
        apply_action(accepted, "buyer", Convert("invoice", "card"), NOW)
    converted = apply_action(accepted, "server", Convert("invoice", "card"), NOW)
    assert converted.status is QuoteStatus.CONVERTED
    assert apply_action(quote, "buyer", Decline("no"), NOW).status is QuoteStatus.DECLINED
    assert apply_action(quote, "buyer", Withdraw(), NOW).status is QuoteStatus.WITHDRAWN
    with pytest.raises(TypeError):
        apply_action(quote, "buyer", "accept", NOW)  # type: ignore[arg-type]
