"""``python -m notifier.inbound``: the SMTP listener and the webhook, one process.

    python -m notifier.inbound --smtp-port 2525 --http-port 8025

Settings come from ``CHAT_*`` variables (``chat_service.config.Settings``,
``notifier.config.NotifierSettings``, ``notifier.inbound.config.InboundSettings``);
the flags override the ports. The webhook is served only when
``CHAT_INBOUND_WEBHOOK_SECRET`` is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging

import uvicorn

from chat_service.config import Settings
from chat_service.services import build_services
from notifier.config import NotifierSettings
from notifier.inbound.config import InboundSettings
from notifier.inbound.listener import InboundSmtpServer
from notifier.inbound.webhook import create_webhook_app
from notifier.inbound.wiring import build_inbound, reply_addresses

__all__ = ["main", "serve"]


async def serve(settings: Settings, outbound: NotifierSettings, inbound: InboundSettings) -> None:
    services = await build_services(settings)
    try:
        await services.ensure_indexes()
        await reply_addresses(services, inbound).ensure_indexes()
        replies = build_inbound(services, inbound, outbound)
        smtp = InboundSmtpServer(
            replies,
            host=inbound.inbound_smtp_host,
            port=inbound.inbound_smtp_port,
            max_bytes=inbound.inbound_max_bytes,
            hostname=inbound.reply_domain,
        )
        await smtp.start()
        print(f"inbound SMTP on {inbound.inbound_smtp_host}:{smtp.port}", flush=True)
        try:
            secret = inbound.inbound_webhook_secret
            if secret is None:
                await asyncio.Event().wait()
            app = create_webhook_app(
                replies,
                secret=secret.get_secret_value(),  # type: ignore[union-attr]
                max_bytes=inbound.inbound_max_bytes,
                max_skew_seconds=inbound.inbound_webhook_max_skew_seconds,
            )
            config = uvicorn.Config(
                app,
                host=inbound.inbound_http_host,
                port=inbound.inbound_http_port,
                loop="none",
                lifespan="off",
                log_level="warning",
            )
            print(f"inbound webhook on {inbound.inbound_http_host}:{config.port}", flush=True)
            await uvicorn.Server(config).serve()
        finally:
            await smtp.stop()
    finally:
        await services.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m notifier.inbound")
    parser.add_argument("--smtp-port", type=int, default=None)
    parser.add_argument("--http-port", type=int, default=None)
    args = parser.parse_args(argv)
    # aiosmtpd logs envelope addresses (which carry reply tokens) at INFO.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbound = InboundSettings()
    updates = {
        name: value
        for name, value in (
            ("inbound_smtp_port", args.smtp_port),
            ("inbound_http_port", args.http_port),
        )
        if value is not None
    }
    inbound = inbound.model_copy(update=updates)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(Settings(), NotifierSettings(), inbound))


if __name__ == "__main__":
    main()
