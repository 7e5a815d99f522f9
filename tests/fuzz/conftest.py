"""Fixtures of the REST fuzzer (the app, its schema, the seeded world) and the
case counter: every case tried is counted per operation and caller, printed in
the terminal summary and written to ``tests/artifacts/fuzz-counts.json``."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from schemathesis.python import asgi

from chat_service.api.app import create_app
from tests.fixtures.app import drop_database, make_settings
from tests.fixtures.servers import RealServers
from tests.fuzz.world import Shop, make_shops, openapi_spec, seed

ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "fuzz-counts.json"


@dataclass
class FuzzWorld:
    client: asgi.ASGIClient
    home: Shop
    other: Shop
    counter: CaseCounter
    base_url: str = f"http://{asgi.HOST}"


class CaseCounter:
    """Cases tried, by operation, by caller, and the status codes they got."""

    def __init__(self) -> None:
        self.by_operation: dict[str, Counter[str]] = defaultdict(Counter)
        self.statuses: dict[str, Counter[str]] = defaultdict(Counter)

    def record(self, operation: str, identity: str, status: int) -> None:
        self.by_operation[operation][identity] += 1
        self.statuses[operation][str(status)] += 1

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.by_operation.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "class": "rest (schemathesis, OpenAPI)",
            "total_cases": self.total,
            "server_errors": sum(
                n for c in self.statuses.values() for code, n in c.items() if code.startswith("5")
            ),
            "operations": {
                op: {
                    "cases": sum(self.by_operation[op].values()),
                    "by_caller": dict(sorted(self.by_operation[op].items())),
                    "by_status": dict(sorted(self.statuses[op].items())),
                }
                for op in sorted(self.by_operation)
            },
        }


COUNTER = CaseCounter()


@pytest.fixture(scope="module")
def fuzz_world(real_servers: RealServers) -> Iterator[FuzzWorld]:
    # Rate limits far above what the fuzzer sends, so its cases reach the handlers.
    settings = make_settings(
        real_servers,
        send_rate_per_minute=1_000_000,
        typing_rate_per_minute=1_000_000,
        upload_rate_per_minute=1_000_000,
        attachment_link_ttl_seconds=4 * 3600,
    )
    home, other = make_shops(settings)
    app = create_app(settings)
    try:
        with asgi.get_client(app) as client:  # starts the app's lifespan
            seed(client, home, "home", settings)
            seed(client, other, "other", settings)
            served = client.get("/openapi.json").json()
            assert served == openapi_spec(), "the fuzzer must test the spec the app serves"
            yield FuzzWorld(client=client, home=home, other=other, counter=COUNTER)
    finally:
        asgi.shutdown_lifespans()
        asyncio.run(drop_database(settings))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COUNTER.total:
        return
    report = COUNTER.as_json()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n")
    terminalreporter.section("REST fuzz cases tried")
    for op, row in report["operations"].items():
        callers = ", ".join(f"{k}={v}" for k, v in row["by_caller"].items())
        terminalreporter.write_line(f"{row['cases']:6d}  {op}  ({callers})")
    terminalreporter.write_line(
        f"{report['total_cases']:6d}  total over {len(report['operations'])} operations, "
        f"{report['server_errors']} server errors; written to {ARTIFACT.name}"
    )
