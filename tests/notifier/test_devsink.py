"""The development mail sink keeps each away email as a readable .eml file."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from pathlib import Path

from chat_service.embedded.servers import free_port
from chat_service.services import Services
from notifier.devsink import DevMailSink
from notifier.wiring import build_notifier
from tests.notifier.conftest import Chat, advance, notifier_settings, run_due
from tests.notifier.smtp_sink import Sink


async def test_away_emails_land_as_files(
    services: Services, chat: Chat, sink: Sink, tmp_path: Path
) -> None:
    dev = DevMailSink(tmp_path / "mail", port=free_port())
    dev.start()
    try:
        notifier = build_notifier(services, notifier_settings(sink, smtp_port=dev.port))
        await chat.send("buyer-1", "buyer", "read me from a file")
        advance(services, 121)
        assert [o.status for o in await run_due(notifier)] == ["sent"]
    finally:
        dev.stop()
    [path] = dev.emails()
    email = message_from_bytes(path.read_bytes(), policy=default)
    assert "read me from a file" in email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert not list((tmp_path / "mail").glob(".*.part"))
