"""Orders: line items and exact money, the status machine, split shipments and
back-orders, and B2B approval thresholds.

The modules here are the pure core (no I/O): ``money`` (amounts, quantities,
totals), ``lines`` (validated line items), ``states`` (the status machine),
``fulfilment`` (shipments and back-orders), ``approvals`` (who must approve
an order) and ``errors``. Storage, routes and bulk uploads build on them.
"""
