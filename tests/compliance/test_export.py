"""Export of one person: a ZIP with export.json and their photos, decrypted,
nothing of other people's texts or of another marketplace; audited."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from chat_service.audit import AuditActor, AuditQuery
from chat_service.cli.compliance import run_compliance_async
from chat_service.clock import Clock, ManualClock
from chat_service.compliance.export import EXPORT_FORMAT
from chat_service.compliance.subjects import SubjectNotFound, SubjectRequests
from chat_service.services import Services
from tests.attachments.photos import phone_jpeg
from tests.attachments.test_attachment_service import body
from tests.compliance.test_holds import cli_args
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, create_tenant, order_conversation
from tests.quotes.conftest import create_body

OFFICER = AuditActor(type="staff", id="officer-1", role="compliance_officer")


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


async def seed(services: Services, tenant: TenantKit) -> str:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    photo, _ = await services.attachments.upload(
        buyer, conv.id, "p1", body(phone_jpeg()), declared_length=None
    )
    await services.conversations.send(
        buyer,
        conv.id,
        client_msg_id="a",
        text="the chair is the wrong colour",
        attachments=[photo.id],
    )
    await services.conversations.send(
        seller, conv.id, client_msg_id="b", text="seller private reply"
    )
    await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="the chair is blue, not oak", client_msg_id="e"
    )
    await services.conversations.mark_read(buyer, conv.id, 2)
    await services.preferences.unsubscribe(tenant.id, "buyer-1")
    await services.quotes.request(buyer, create_body())
    return conv.id


def read_archive(data: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    return json.loads(files.pop("export.json")), files


async def test_export_holds_the_persons_data(services: Services, tenant: TenantKit) -> None:
    conv_id = await seed(services, tenant)
    other = await create_tenant(services, "Other shop")
    other_conv, _ = await services.conversations.open_conversation(
        other.server, order_conversation("77")
    )
    await services.conversations.send(
        user(other, "buyer-1"), other_conv.id, client_msg_id="x", text="other marketplace text"
    )

    data = await SubjectRequests.from_services(services).export(tenant.id, "buyer-1", OFFICER)
    document, files = read_archive(data)

    assert document["format"] == EXPORT_FORMAT and document["tenant"] == tenant.id
    assert set(document) >= {
        "subject",
        "conversations",
        "messages",
        "attachments",
        "read_marks",
        "notifications",
        "email_preferences",
        "quotes",
        "orders",
    }
    assert document["subject"]["email"] == "buyer-1@mail.test"
    # The name the latest token carried (the quote request's principal).
    assert document["subject"]["display_name"] == "buyer-1"
    order_conv = next(c for c in document["conversations"] if c["id"] == conv_id)
    assert {p["user_id"] for p in order_conv["participants"]} == {"buyer-1", "seller-1"}
    assert order_conv["read_seq"] == 2 and order_conv["entries_by_others"] >= 1
    texts = [m["text"] for m in document["messages"] if m["conversation_id"] == conv_id]
    assert texts == ["the chair is blue, not oak", "the chair is blue, not oak"]  # text, edit
    assert {"conversation_id": conv_id, "seq": 2} in document["read_marks"]
    assert document["email_preferences"]["away_emails"] is False
    assert [q["side"] for q in document["quotes"]] == ["buyer"]

    (photo,) = document["attachments"]
    paths = [r["file"] for r in photo["renditions"].values()]
    assert paths and sorted(paths) == sorted(files)
    for path in paths:
        with Image.open(io.BytesIO(files[path])) as image:
            image.verify()

    raw = data + b"".join(files.values())
    assert b"seller private reply" not in raw  # the other party's text stays theirs
    assert "other marketplace text" not in json.dumps(document)
    assert other_conv.id not in json.dumps(document)

    entries = await services.audit.search(tenant.id, AuditQuery(action="subject.exported"))
    (entry,) = entries.entries
    assert entry.target_id == "buyer-1" and entry.actor == OFFICER
    assert entry.details["attachments"] == 1


async def test_unknown_subject_is_refused(services: Services, tenant: TenantKit) -> None:
    with pytest.raises(SubjectNotFound) as refused:
        await SubjectRequests.from_services(services).export(tenant.id, "nobody", OFFICER)
    assert (refused.value.status, refused.value.code) == (404, "subject_not_found")
    with pytest.raises(SubjectNotFound):
        await SubjectRequests.from_services(services).export(tenant.id, "$where", OFFICER)
    assert not (
        await services.audit.search(tenant.id, AuditQuery(action="subject.exported"))
    ).entries


async def test_cli_export_writes_a_private_new_file(
    services: Services, tenant: TenantKit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(services, tenant)
    out = tmp_path / "buyer.zip"
    argv = ["subject", "export", "--tenant", tenant.id, "--user", "buyer-1", "--out", str(out)]
    assert await run_compliance_async(cli_args(*argv), services.settings) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document, files = read_archive(out.read_bytes())
    assert document["subject"]["user_id"] == "buyer-1" and files
    assert "done: wrote" in capsys.readouterr().out
    assert await run_compliance_async(cli_args(*argv), services.settings) == 1  # never overwrites
    missing = [*argv[:-4], "--user", "nobody", "--out", str(tmp_path / "x.zip")]
    assert await run_compliance_async(cli_args(*missing), services.settings) == 1
    assert "404 subject_not_found" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
