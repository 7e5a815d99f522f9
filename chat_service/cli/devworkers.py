"""The background parts of ``chat-service dev``: a mail sink that keeps every
email as a file, the notifier's Celery worker and its beat scheduler, and the
listener that takes replies to away emails.

They run as child processes started by command line (``python -m ...``), so
the core never imports the notifier; each gets the same ``CHAT_*`` settings
as the API process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from chat_service.config import Settings
from chat_service.embedded.servers import ChildServer, free_port, start_process

__all__ = ["Console", "NotifierParts", "settings_env", "start_console", "start_notifier"]

_DEMO_OFFICER = "officer@demo.test"


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that gives another process the same settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAT_")}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"CHAT_{name.upper()}"] = str(raw).lower() if isinstance(raw, bool) else str(raw)
    return env


@dataclass
class NotifierParts:
    children: list[ChildServer]
    mail_dir: Path
    sink_port: int
    inbound_port: int


def start_notifier(settings: Settings, data_dir: Path) -> NotifierParts:
    """Start the mail sink, the worker, beat and the inbound reply listener."""
    logs, mail_dir = data_dir / "logs", data_dir / "mail"
    started: list[ChildServer] = []
    try:
        sink_port = free_port()
        env = settings_env(settings)
        sink = ["-m", "notifier.devsink", "--dir", str(mail_dir), "--port", str(sink_port)]
        started.append(
            start_process(
                "mail-sink",
                [sys.executable, *sink],
                log_dir=logs,
                env=env,
                port=sink_port,
            )
        )
        env |= {"CHAT_SMTP_HOST": "127.0.0.1", "CHAT_SMTP_PORT": str(sink_port)}
        celery = [sys.executable, "-m", "celery", "-A", "notifier.worker"]
        started.append(
            start_process(
                "worker",
                [*celery, "worker", "--pool=solo", "--loglevel=INFO", "--without-mingle"],
                log_dir=logs,
                env=env,
            )
        )
        inbound_port, webhook_port = free_port(), free_port()
        started.append(
            start_process(
                "inbound",
                [
                    sys.executable,
                    "-m",
                    "notifier.inbound",
                    "--smtp-port",
                    str(inbound_port),
                    "--http-port",
                    str(webhook_port),
                ],
                log_dir=logs,
                env=env,
                port=inbound_port,
            )
        )
        schedule = data_dir / "celerybeat-schedule"
        started.append(
            start_process(
                "beat",
                [*celery, "beat", "--loglevel=INFO", "--schedule", str(schedule), "--pidfile="],
                log_dir=logs,
                env=env,
            )
        )
    except Exception:
        for child in started:
            child.stop()
        raise
    return NotifierParts(started, mail_dir, sink_port, inbound_port)


@dataclass
class Console:
    child: ChildServer
    url: str
    login: str
    password: str


def _demo_officer(env: dict[str, str], data_dir: Path, tenant_id: str) -> tuple[str, str]:
    """A compliance officer of the demo tenant, made once and kept in the data folder."""
    path = data_dir / "dev-staff.json"
    if path.exists():
        saved = json.loads(path.read_text())
        if saved.get("tenant") == tenant_id:
            return str(saved["login"]), str(saved["password"])
    argv = [sys.executable, "-m", "admin", "create-staff", "--tenant", tenant_id]
    argv += ["--login", _DEMO_OFFICER, "--role", "compliance_officer"]
    created = subprocess.run(  # noqa: S603 - fixed argv
        argv,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    password = created.stdout.rsplit("password (shown once):", 1)[1].strip()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"tenant": tenant_id, "login": _DEMO_OFFICER, "password": password}, handle)
    return _DEMO_OFFICER, password


def start_console(settings: Settings, data_dir: Path, tenant_id: str) -> Console:
    """The compliance console (``python -m admin serve``) with a demo officer."""
    env = settings_env(settings)
    login, password = _demo_officer(env, data_dir, tenant_id)
    port = free_port()
    child = start_process(
        "console",
        [sys.executable, "-m", "admin", "serve", "--host", "127.0.0.1", "--port", str(port)],
        log_dir=data_dir / "logs",
        env=env,
        port=port,
    )
    return Console(child, f"http://127.0.0.1:{port}", login, password)
