"""Celery drill: kill -9 the worker in the middle of an away email.

A real ``celery -A notifier.worker worker`` (solo pool) runs against the
embedded store and Redis and an ``aiosmtpd`` sink in this process. The drill
plays beat (it sends ``dispatch_due`` every ``tick`` seconds) and kills the
worker at one of three points, then starts a new worker:

``refused``   SMTP answered the first DATA with 421, so the notification went
              back to ``claimed`` with a lease while the task waits to retry;
              the worker is killed during that wait. Recovery: the lease lapses,
              ``dispatch_due`` claims it again, the new worker sends it. Expect 1.
``data``      the sink holds its reply to DATA (it has the whole email) and
              the worker is killed waiting for it (``sending``). Recovery: the
              lease lapses and the notification is settled ``uncertain``; it is
              never resent. Expect 1 (the one the sink already holds).
``rcpt``      the sink holds its reply to RCPT (no email yet) and the worker is
              killed (``sending``, DATA not begun). Recovery: the lease lapses,
              the notification goes back to ``claimed`` (the server never had
              the email, so resending is safe) and the new worker sends it.
              Expect 1.

The lease (``CHAT_CLAIM_LEASE_SECONDS``, at least 10 s) lapses in real time
(``lapse="wait"``) or, in tests, is moved into the past in the store
(``lapse="rewind"``), as if the time had passed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from pymongo import MongoClient

from chat_service.auth.principals import ServerPrincipal
from chat_service.clock import ManualClock
from chat_service.config import Settings
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.embedded.servers import ChildServer, free_port, start_redis, start_store, stop_all
from chat_service.notifications.repository import NotificationRepository, notification_id
from chat_service.notifications.service import PendingNotifications
from chat_service.services import build_services
from chat_service.tenants.schemas import TenantCreate
from notifier.app import make_celery
from notifier.config import NotifierSettings

__all__ = ["KILL_POINTS", "email_drill", "run_email_drill"]

KILL_POINTS = ("refused", "data", "rcpt")
TEXT = "drill: is the blue chair still available"
LEASE = 10


@dataclass
class HoldingSink:
    """Keeps what it receives; can refuse one DATA or hold its reply to RCPT/DATA."""

    hold_at: str = ""  # "rcpt" | "data" | ""
    refuse_data: int = 0
    received: list[bytes] = field(default_factory=list)
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    async def _hold(self, point: str) -> None:
        if self.hold_at != point:
            return
        self.hold_at = ""
        self.holding.set()
        for _ in range(600):  # at most 60 s
            if self.release.is_set():
                return
            await asyncio.sleep(0.1)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, _: Any
    ) -> str:
        await self._hold("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            self.refuse_data -= 1
            return "421 4.3.0 try again later"
        self.received.append(bytes(envelope.content))
        await self._hold("data")
        return "250 Message accepted"


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "celery", "-A", "notifier.worker", "worker", "--pool", "solo"]
    argv += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "INFO"]
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(10)


async def _seed(settings: Settings) -> str:
    """One order conversation and one buyer message whose away email is due now:
    it is written with a clock 10 minutes behind, past the policy's delay."""
    clock = ManualClock(datetime.now(UTC) - timedelta(minutes=10))
    services = await build_services(settings, clock=clock)
    try:
        await services.ensure_indexes()
        repository = NotificationRepository(services.stores.db)
        await repository.ensure_indexes()
        creds = await services.tenants.create(TenantCreate(name="Drill", origins=["http://x.test"]))
        server = ServerPrincipal(tenant=creds.tenant_id)
        people = (("buyer-1", "buyer", "b@mail.test"), ("seller-1", "seller", "s@mail.test"))
        conv, _ = await services.conversations.open_conversation(
            server,
            ConversationCreate(
                subject_type="order",
                subject_id="D-1",
                title="Blue chair",
                participants=[
                    ParticipantIn(user_id=u, role=r, display_name=u, email=e) for u, r, e in people
                ],
            ),
        )
        sent = await services.conversations.send(
            server, conv.id, client_msg_id="d1", text=TEXT, as_user="buyer-1"
        )
        doc = await services.conversations.check_access(server, conv.id)
        policy = await services.policies.current(creds.tenant_id)
        await PendingNotifications(repository).schedule(
            doc, sent.message, None, policy, clock.now()
        )
        return notification_id(conv.id, "seller-1")
    finally:
        await services.close()


def run_email_drill(at: str = "refused", *, lapse: str = "wait", timeout: float = 90.0) -> int:
    """Kill the worker at ``at``; 0 when the email went out exactly once."""
    return email_drill(at, lapse=lapse, timeout=timeout)[0]


def email_drill(
    at: str = "refused", *, lapse: str = "wait", timeout: float = 90.0
) -> tuple[int, dict[str, Any]]:
    """Kill the worker at ``at``: (exit code, printed figures)."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"drill-celery-{at}-"))
    store: ChildServer | None = None
    redis: ChildServer | None = None
    workers: list[subprocess.Popen[bytes]] = []
    sink = HoldingSink(hold_at="" if at == "refused" else at, refuse_data=int(at == "refused"))
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    app: Any = None
    mongo: MongoClient[dict[str, Any]] | None = None
    figures: dict[str, Any] = {"kill point": at}
    code = 1
    try:
        store = start_store(data_dir=None, log_dir=run_dir)
        redis = start_redis(data_dir=None, log_dir=run_dir)
        controller.start()
        kek = base64.b64encode(os.urandom(32)).decode()
        values = {
            "CHAT_ENVIRONMENT": "test",
            "CHAT_MONGO_URL": store.url,
            "CHAT_MONGO_DB": "drill",
            "CHAT_REDIS_URL": redis.url,
            "CHAT_REDIS_PREFIX": "drill",
            "CHAT_KEKS": f"1:{kek}",
            "CHAT_SMTP_HOST": "127.0.0.1",
            "CHAT_SMTP_PORT": str(controller.port),
            "CHAT_SMTP_LOCAL_HOSTNAME": "localhost",
            "CHAT_SMTP_TIMEOUT_SECONDS": "60",
            "CHAT_MAIL_FROM": "Shop <notify@shop.test>",
            "CHAT_CLAIM_LEASE_SECONDS": str(LEASE),
            "CHAT_RETRY_BASE_SECONDS": "4",
        }
        fields: dict[str, Any] = {k.removeprefix("CHAT_").lower(): v for k, v in values.items()}
        settings = Settings(**fields)
        nid = asyncio.run(_seed(settings))
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")} | values
        app = make_celery(settings, NotifierSettings(environment="test"))
        mongo = MongoClient(store.url)
        notes = mongo["drill"]["notifications"]
        started = time.monotonic()
        deadline = started + timeout

        def tick_until(done: Any) -> bool:
            """Play beat every 0.5 s until ``done()`` (bounded by the deadline)."""
            while time.monotonic() < deadline:
                if done():
                    return True
                app.send_task("notifier.tasks.dispatch_due")
                time.sleep(0.5)
            return bool(done())

        workers.append(_worker(env, run_dir / "worker-1.log"))
        if at == "refused":
            reached = tick_until(lambda: (notes.find_one({"_id": nid}) or {}).get("last_error"))
        else:
            reached = tick_until(sink.holding.is_set)
        state = (notes.find_one({"_id": nid}) or {}).get("state")
        _stop(workers[0])  # kill -9, mid-email
        killed = time.monotonic()
        sink.release.set()
        figures.update({"worker killed in state": state, "kill point reached": reached})
        figures["emails at the kill"] = len(sink.received)
        if lapse == "rewind":
            past = datetime.now(UTC) - timedelta(seconds=1)
            notes.update_one({"_id": nid}, {"$set": {"lease_until": past}})
        workers.append(_worker(env, run_dir / "worker-2.log"))
        settled = tick_until(lambda: (notes.find_one({"_id": nid}) or {}).get("state") == "idle")
        time.sleep(1.0)  # a late duplicate would land now
        note = notes.find_one({"_id": nid}) or {}
        figures.update(
            {
                "recovered (notification idle)": settled,
                "seconds from kill to settled": round(time.monotonic() - killed, 2),
                "outcome": note.get("outcome"),
                "emails received by the sink": len(sink.received),
                "email carries the message": any(TEXT.encode() in r for r in sink.received),
            }
        )
        ok = reached and settled and len(sink.received) == 1
        ok = ok and figures["email carries the message"]
        print(f"\n== drill celery-kill ({at}) ==")
        for key, value in figures.items():
            print(f"  {key:<32}  {value}")
        verdict = "PASS" if ok else "FAIL"
        print(f"{verdict} celery-kill {at}: {len(sink.received)} email(s), expected 1")
        code = 0 if ok else 1
        return code, figures
    finally:
        sink.release.set()
        for process in workers:
            _stop(process)
        if app is not None:
            app.close()
        if mongo is not None:
            mongo.close()
        with contextlib.suppress(Exception):  # it may not have started
            controller.stop()
        stop_all(redis, store)
        if code == 0:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            print(f"logs kept in {run_dir}")
