"""What lies in the store: no plaintext text or e-mail, ciphertexts bound to records."""

import pytest
from pymongo import AsyncMongoClient

from chat_service.errors import IntegrityError
from chat_service.services import Services
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, order_conversation

SECRET_TEXT = "the blue chair arrived scratched, call me"


async def raw_dump(services: Services) -> bytes:
    """Every document of the test database, as the raw BSON bytes on the wire."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        services.settings.mongo_url, document_class=dict
    )
    try:
        db = client[services.settings.mongo_db]
        dump = b""
        from bson import encode

        for name in await db.list_collection_names():
            async for doc in db[name].find({}):
                dump += encode(doc)
        return dump
    finally:
        await client.close()


async def test_no_plaintext_text_or_email_in_the_store(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text=SECRET_TEXT)
    await services.conversations.edit(
        buyer, conv.id, target_seq=1, text=SECRET_TEXT + "!", client_msg_id="e"
    )
    await services.users.remember(
        tenant.id, "buyer-1", role="buyer", display_name="Ada", email="ada.private@mail.test"
    )
    dump = await raw_dump(services)
    assert b"buyer-1" in dump  # the dump is real: ids are there
    for needle in (
        SECRET_TEXT,
        "blue chair",
        "ada.private@mail.test",
        "seller-1@mail.test",
        tenant.creds.signing_secret,
    ):
        assert needle.encode() not in dump, needle
    assert await services.users.email_of(tenant.id, "buyer-1") == "ada.private@mail.test"


async def test_ciphertext_moved_to_another_message_fails(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text=SECRET_TEXT)
    await services.conversations.send(buyer, conv.id, client_msg_id="b", text="harmless")
    messages = services.stores.db["messages"]
    first = await messages.find_one({"conv": conv.id, "seq": 1})
    assert first is not None
    await messages.update_one(
        {"conv": conv.id, "seq": 2}, {"$set": {"text": first["text"], "key_id": first["key_id"]}}
    )
    page = await services.conversations.history(buyer, conv.id)
    assert page.messages[0].text == SECRET_TEXT
    moved = page.messages[1]
    assert moved.text is None and moved.text_error == "integrity_error"


async def test_ciphertext_moved_to_another_tenant_fails(
    services: Services, tenant: TenantKit
) -> None:
    from chat_service.crypto import EncryptedField
    from chat_service.crypto.cipher import RecordRef

    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    sent = await services.conversations.send(
        user(tenant, "buyer-1"), conv.id, client_msg_id="a", text=SECRET_TEXT
    )
    doc = await services.stores.db["messages"].find_one({"_id": sent.message.id})
    assert doc is not None
    field = EncryptedField(doc["key_id"], bytes(doc["text"]))
    right = RecordRef(tenant.id, "messages", sent.message.id, "text", conv.id)
    assert await services.cipher.decrypt(right, field) == SECRET_TEXT
    for wrong in (
        RecordRef(tenant.id, "messages", sent.message.id, "text", "c_" + "0" * 24),
        RecordRef(tenant.id, "messages", sent.message.id, "subject", conv.id),
    ):
        with pytest.raises(IntegrityError):
            await services.cipher.decrypt(wrong, field)


async def test_tampered_ciphertext_is_detected(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    for i in range(5):
        await services.conversations.send(buyer, conv.id, client_msg_id=f"m{i}", text=f"t{i}")
    messages = services.stores.db["messages"]
    async for doc in messages.find({"conv": conv.id}):
        blob = bytearray(doc["text"])
        blob[-1 - doc["seq"]] ^= 0x80
        await messages.update_one({"_id": doc["_id"]}, {"$set": {"text": bytes(blob)}})
    page = await services.conversations.history(buyer, conv.id)
    assert [m.text_error for m in page.messages] == ["integrity_error"] * 5
    assert all(m.text is None for m in page.messages)
