"""The background parts of ``chat-service dev``: a mail sink that keeps every
email as a file, the notifier's Celery worker and its beat scheduler, and the
listener that takes replies to away emails.

They run as child processes started by command line (``python -m ...``), so
the core never imports the notifier; each gets the same ``CHAT_*`` settings
as the API process.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from chat_service.config import Settings
from chat_service.embedded.servers import ChildServer, free_port, start_process

__all__ = ["NotifierParts", "settings_env", "start_notifier"]


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
