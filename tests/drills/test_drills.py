"""The fault drills of ``bench.drills`` at a size that fits CI (see bench/README.md).

Each starts its own store, Redis, hubs or Celery worker on loopback and stops
them at the end; each is bounded in time. The lease of the Celery drill is
moved into the past in the store instead of waiting for it (10 s minimum).
"""

from __future__ import annotations

import pytest

from bench.drills.chat import ChatDrill, chat_drill
from bench.drills.email import email_drill

pytestmark = pytest.mark.timeout(120)


def test_kill_9_of_a_hub_with_100_clients_loses_and_repeats_nothing() -> None:
    drill = ChatDrill(pairs=50, rate=20, seconds=8, fault_at=3, settle=30, reconnect_timeout=30)
    code, figures = chat_drill("hub-kill", drill)
    assert code == 0, figures
    assert figures["clients on the killed hub"] == 50
    assert figures["reconnected and resumed"] == 50
    assert figures["acknowledged"] == figures["stored"] == figures["delivered_once"] > 100


def test_a_redis_restart_mid_traffic_loses_nothing_acknowledged() -> None:
    drill = ChatDrill(pairs=10, rate=10, seconds=8, fault_at=2, down=2, settle=30)
    code, figures = chat_drill("redis-restart", drill)
    assert code == 0, figures
    assert figures["acknowledged"] == figures["stored"] == figures["delivered_once"] >= 60
    assert figures["first ack after Redis is back (s)"] is not None


def test_a_store_restart_gives_retryable_errors_and_recovers_without_a_hub_restart() -> None:
    # The hubs wait 1 s for a store that is gone (CHAT_STORE_WAIT_SECONDS) instead of 5.
    drill = ChatDrill(pairs=10, rate=5, seconds=14, fault_at=2, down=6, settle=30, store_wait=1.0)
    code, figures = chat_drill("store-restart", drill)
    assert code == 0, figures
    assert figures["errors"].get("unavailable", 0) > 0
    assert set(figures["errors"]) == {"unavailable"}
    assert figures["reconnects caused"] == 0
    assert figures["hubs still running (no restart)"] is True
    assert figures["acknowledged"] == figures["stored"] == figures["delivered_once"] >= 60


@pytest.mark.parametrize("at", ["refused", "rcpt", "data"])
def test_a_killed_celery_worker_sends_the_away_email_exactly_once(at: str) -> None:
    code, figures = email_drill(at, lapse="rewind", timeout=45)
    assert code == 0, figures
    assert figures["emails received by the sink"] == 1
    # Killed before DATA: sent again (outcome sent); killed in DATA: never resent.
    assert figures["outcome"] == ("uncertain" if at == "data" else "sent")
