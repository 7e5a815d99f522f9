"""Erasure of one person: their keys shredded, texts and photos gone, identity
pseudonymised; the other party's messages still open; audited with ids only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chat_service.audit import AuditActor, AuditQuery
from chat_service.clock import Clock, ManualClock
from chat_service.compliance.subjects import SubjectNotFound, SubjectRequests
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.conversations.sealing import text_ref
from chat_service.crypto import EncryptedField, KeyDestroyed
from chat_service.services import Services
from tests.attachments.photos import png_bytes
from tests.attachments.test_attachment_service import body
from tests.conversations.test_encryption_at_rest import raw_dump
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, create_tenant, order_conversation
from tests.quotes.conftest import create_body
from tests.quotes.conftest import user as named_user

OFFICER = AuditActor(type="staff", id="officer-1", role="compliance_officer")


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=UTC))


async def seed(services: Services, tenant: TenantKit) -> str:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    photo, _ = await services.attachments.upload(
        buyer, conv.id, "p1", body(png_bytes()), declared_length=None
    )
    await services.conversations.send(
        buyer, conv.id, client_msg_id="a", text="call me on my mobile", attachments=[photo.id]
    )
    await services.conversations.send(seller, conv.id, client_msg_id="b", text="seller reply")
    await services.conversations.send(buyer, conv.id, client_msg_id="c", text="second note")
    # The quote request names the buyer "Buyer-1" on the quote and in the directory.
    await services.quotes.request(named_user(tenant, "buyer-1"), create_body())
    return conv.id


async def docs_of(services: Services, sender: str) -> list[dict[str, Any]]:
    cursor = services.stores.db["messages"].find({"sender": sender, "text": {"$ne": None}})
    return await cursor.to_list(None)


async def test_erasure_leaves_nothing_readable(services: Services, tenant: TenantKit) -> None:
    conv_id = await seed(services, tenant)
    before = await docs_of(services, "buyer-1")
    assert len(before) == 2
    # The same user id in another marketplace is another person.
    other = await create_tenant(services, "Other shop")
    namesake = ConversationCreate(
        subject_type="order",
        subject_id="77",
        title="Order #77",
        participants=[
            ParticipantIn(user_id="buyer-1", role="buyer", display_name="Else", email="e@x.test"),
            ParticipantIn(user_id="seller-9", role="seller", display_name="Nine"),
        ],
    )
    other_conv, _ = await services.conversations.open_conversation(other.server, namesake)
    other_buyer = user(other, "buyer-1")
    await services.conversations.send(other_buyer, other_conv.id, client_msg_id="x", text="kept")
    assert await services.stores.db["notifications"].count_documents({"user": "buyer-1"}) >= 1
    assert b"Buyer-1" in await raw_dump(services)

    requests = SubjectRequests.from_services(services)
    await requests.ensure_indexes()
    report = await requests.erase(tenant.id, "buyer-1", OFFICER)

    assert report.keys_destroyed == 1 and report.messages_scrubbed == 2
    assert report.attachments_deleted == 1 and report.conversations == 2
    assert report.pseudonym.startswith("Former user ")
    services.keys.forget_cache()
    dump = await raw_dump(services)
    assert dump.count(b"buyer-1@mail.test") == 0
    assert b"Buyer-1" not in dump
    for doc in before:
        assert bytes(doc["text"]) not in dump
        # A copy kept elsewhere (a backup) no longer opens.
        with pytest.raises(KeyDestroyed):
            await services.cipher.decrypt(
                text_ref(tenant.id, conv_id, doc["_id"]),
                EncryptedField(doc["key_id"], bytes(doc["text"])),
            )
    data_keys = services.stores.db["data_keys"]
    assert await data_keys.count_documents({"tenant": tenant.id, "scope": "user:buyer-1"}) == 0
    assert await data_keys.count_documents({"tenant": other.id, "scope": "user:buyer-1"}) == 1
    assert await services.stores.db["attachment_chunks"].count_documents({}) == 0
    mine = {"tenant": tenant.id, "user": "buyer-1"}
    for name in ("notifications", "reads", "email_preferences"):
        assert await services.stores.db[name].count_documents(mine) == 0

    seller = user(tenant, "seller-1", "seller")
    history = (await services.conversations.history(seller, conv_id)).messages
    assert [(m.sender_id, m.text, m.deleted) for m in history] == [
        ("buyer-1", None, True),
        ("seller-1", "seller reply", False),
        ("buyer-1", None, True),
    ]
    conv = await services.conversations.get_conversation(seller, conv_id)
    names = {p.user_id: p.display_name for p in conv.participants}
    assert names == {"buyer-1": report.pseudonym, "seller-1": "Seller-1"}
    assert await services.users.email_of(tenant.id, "buyer-1") is None
    assert await services.users.email_of(tenant.id, "seller-1") == "seller-1@mail.test"
    quote = await services.stores.db["quotes"].find_one({"tenant": tenant.id})
    assert quote is not None and quote["buyer"]["display_name"] == report.pseudonym

    other_history = (await services.conversations.history(other_buyer, other_conv.id)).messages
    assert [m.text for m in other_history] == ["kept"]
    assert await services.users.email_of(other.id, "buyer-1") == "e@x.test"

    entries = (await services.audit.search(tenant.id, AuditQuery(action="subject.erased"))).entries
    assert [(e.target_id, e.actor, e.details["messages"]) for e in entries] == [
        ("buyer-1", OFFICER, 2)
    ]

    again = await SubjectRequests.from_services(services).erase(tenant.id, "buyer-1", OFFICER)
    assert again.pseudonym == report.pseudonym
    assert (again.keys_destroyed, again.messages_scrubbed, again.attachments_deleted) == (0, 0, 0)


async def test_unknown_subject_changes_nothing(services: Services, tenant: TenantKit) -> None:
    await seed(services, tenant)
    before = await raw_dump(services)
    for who in ("nobody", "buyer-1 ", "{'$ne': 1}"):
        with pytest.raises(SubjectNotFound) as refused:
            await SubjectRequests.from_services(services).erase(tenant.id, who, OFFICER)
        assert (refused.value.status, refused.value.code) == (404, "subject_not_found")
    assert await raw_dump(services) == before
