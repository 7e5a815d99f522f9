"""Bulk order status updates: rows applied per second for a 10,000-row CSV.

Run from the repository root with the venv active::

    python -m bench.orders_bulk                  # 10,000 orders, one 10,000-row CSV
    python -m bench.orders_bulk --orders 2000    # smaller
    python -m bench.orders_bulk --encryption off

It starts its own store (SecantusDB, in memory) and Redis, seeds one tenant
with N placed orders by bulk inserts (their users, conversations and order
documents, as the service would store them; seeding is not what is measured),
then applies a CSV of N status updates (``placed -> processing``, each with
a note) through :class:`BulkStatusUpdates`, the code the
``POST /v1/orders/bulk-status`` route calls. Every applied row is one
history entry (its note sealed), one audit entry and one system message in
the order's conversation; the apply path batches its store work per chunk of
orders (:mod:`chat_service.orders.batch`). It also times repeating the same
upload (answered from the stored result). Everything it starts is stopped at
the end, also after an error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/orders_bulk.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr

from bench.report import write_json
from chat_service.auth.principals import ServerPrincipal
from chat_service.config import Settings
from chat_service.embedded.servers import start_redis, start_store, stop_all
from chat_service.ids import new_id
from chat_service.orders.bulk import parse_csv
from chat_service.orders.repository import order_doc
from chat_service.orders.rules import fingerprint, order_lines
from chat_service.orders.schemas import OrderCreate
from chat_service.orders.states import OrderStatus
from chat_service.services import Services, build_services
from chat_service.tenants.schemas import TenantCreate

RESULTS = Path(__file__).resolve().parent / "results"


def order_request(number: int) -> OrderCreate:
    return OrderCreate.model_validate(
        {
            "order_id": f"B{number:06d}",
            "currency": "USD",
            "buyer": {"user_id": f"buyer-{number % 500:04d}", "display_name": "Buyer"},
            "seller": {"user_id": f"seller-{number % 50:03d}", "display_name": "Seller"},
            "lines": [
                {"sku": "CHAIR", "name": "Chair", "quantity": 2, "unit_price": "49.90"},
                {"sku": "TABLE", "name": "Table", "quantity": 1, "unit_price": "199.00"},
            ],
        }
    )


def status_csv(count: int, status: str) -> bytes:
    rows = [f"B{n:06d},{status},bulk bench row {n}" for n in range(count)]
    return ("order_id,status,note\n" + "\n".join(rows) + "\n").encode()


async def seed(services: Services, tenant: str, count: int) -> None:
    """N placed orders and their conversations, inserted in bulk."""
    now = services.clock.now()
    for number in range(500):
        await services.users.remember(
            tenant, f"buyer-{number:04d}", role="buyer", display_name="Buyer", email=None
        )
    for number in range(50):
        await services.users.remember(
            tenant, f"seller-{number:03d}", role="seller", display_name="Seller", email=None
        )
    db = services.stores.db
    for start in range(0, count, 1000):
        convs, docs = [], []
        for number in range(start, min(count, start + 1000)):
            request = order_request(number)
            lines = order_lines(request, "USD")
            conv_id = new_id("c")
            convs.append(
                {
                    "_id": conv_id,
                    "tenant": tenant,
                    "subject_type": "order",
                    "subject_id": request.order_id,
                    "title": f"Order #{request.order_id}",
                    "participants": [
                        {"user_id": request.buyer.user_id, "role": "buyer", "display_name": "B"},
                        {"user_id": request.seller.user_id, "role": "seller", "display_name": "S"},
                    ],
                    "created_at": now,
                }
            )
            doc = order_doc(
                tenant=tenant,
                request=request,
                fingerprint=fingerprint(request, lines),
                conversation_id=conv_id,
                status=OrderStatus.PLACED,
                lines=lines,
                rule=None,
                text=f"Order #{request.order_id} placed",
                now=now,
            )
            docs.append(doc | {"announced": 1})
        await db["conversations"].insert_many(convs)
        await db["orders"].insert_many(docs)


async def run(settings: Settings, count: int) -> dict[str, Any]:
    services = await build_services(settings)
    try:
        await services.ensure_indexes()
        bulk = services.order_uploads
        creds = await services.tenants.create(TenantCreate(name="Bench", origins=["http://b.test"]))
        server = ServerPrincipal(tenant=creds.tenant_id)

        started = time.monotonic()
        await seed(services, server.tenant, count)
        seed_seconds = time.monotonic() - started
        print(f"seeded {count} orders in {seed_seconds:.1f} s ({count / seed_seconds:.0f}/s)")

        body = status_csv(count, "processing")
        started = time.monotonic()
        rows = parse_csv(body)
        parse_seconds = time.monotonic() - started
        started = time.monotonic()
        result = await bulk.apply(server, "bench-1", rows)
        apply_seconds = time.monotonic() - started
        if result.applied != count:
            failed = [r for r in result.results if not r.ok][:3]
            raise RuntimeError(f"only {result.applied} of {count} rows applied: {failed}")
        started = time.monotonic()
        replay = await bulk.apply(server, "bench-1", parse_csv(body))
        replay_seconds = time.monotonic() - started
        assert replay.replayed
        per_second = count / (parse_seconds + apply_seconds)
        print(
            f"CSV of {count} rows ({len(body) / 1024:.0f} KiB): parsed in {parse_seconds:.2f} s, "
            f"applied in {apply_seconds:.1f} s -> {per_second:.0f} rows applied per second"
        )
        print(f"repeating the upload (stored result): {replay_seconds:.2f} s")
        return {
            "orders": count,
            "csv_bytes": len(body),
            "seed_seconds": round(seed_seconds, 2),
            "orders_seeded_per_s": round(count / seed_seconds, 1),
            "parse_seconds": round(parse_seconds, 3),
            "apply_seconds": round(apply_seconds, 2),
            "rows_applied_per_s": round(per_second, 1),
            "replay_seconds": round(replay_seconds, 3),
        }
    finally:
        await services.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--encryption", choices=["on", "off"], default="on")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="orders-bench-") as run_dir:
        logs = Path(run_dir) / "logs"
        store = start_store(data_dir=None, log_dir=logs)
        try:
            redis = start_redis(data_dir=None, log_dir=logs)
        except Exception:
            store.stop()
            raise
        try:
            settings = Settings(
                environment="test",
                mongo_url=store.url,
                mongo_db="bench_orders",
                redis_url=redis.url,
                redis_prefix="benchorders",
                keks=SecretStr(f"1:{base64.b64encode(os.urandom(32)).decode()}"),
                bench_disable_encryption=args.encryption == "off",
            )
            figures = asyncio.run(run(settings, args.orders))
        finally:
            stop_all(redis, store)
    figures |= {"bench": "orders_bulk", "encryption": args.encryption, "nproc": os.cpu_count()}
    path = write_json(figures, RESULTS)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
