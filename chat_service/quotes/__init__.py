"""Quotes: a buyer's request, the seller's priced responses and both sides'
counters as numbered revisions, acceptance, expiry and conversion.

The modules here are the pure core (no I/O): ``states`` (statuses, actions and
who may take them), ``models`` (line items with configuration options,
revisions, the quote's state), ``revisions`` (the negotiation), ``conversion``
(sales order or invoice), ``commands`` (actions as data, one dispatcher) and
``errors``.
"""
