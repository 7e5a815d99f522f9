"""Photos through the attachments service against the real store: upload,
claims by messages, deletion with the message, encryption at rest, links."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from bson import encode
from PIL import Image

from chat_service.attachments.schemas import AttachmentPublic
from chat_service.auth.principals import UserPrincipal
from chat_service.clock import Clock, ManualClock
from chat_service.conversations.schemas import ConversationPublic
from chat_service.errors import (
    BadRequest,
    Forbidden,
    Gone,
    IntegrityError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMedia,
)
from chat_service.services import Services
from tests.attachments.photos import HTML_AS_PNG, phone_jpeg, png_bytes
from tests.conversations.test_service import user
from tests.fixtures.app import TenantKit, order_conversation


@pytest.fixture
def clock() -> Clock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


async def body(data: bytes, piece: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), piece):
        yield data[i : i + piece]


async def upload(
    services: Services, who: UserPrincipal, conv_id: str, data: bytes, upload_id: str = "u1"
) -> AttachmentPublic:
    attachment, _ = await services.attachments.upload(
        who, conv_id, upload_id, body(data), declared_length=len(data)
    )
    return attachment


async def open_rendition(services: Services, link: str) -> bytes:
    from urllib.parse import parse_qs, urlsplit

    parts = urlsplit(link)
    _, _, _, attachment_id, rendition = parts.path.split("/")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    served = await services.attachments.open_link(
        attachment_id,
        rendition,
        expires=query["exp"],
        key_version=query["kv"],
        sig=query["sig"],
        viewer=query.get("viewer", ""),
    )
    return served.data


async def collection_count(services: Services, name: str) -> int:
    return await services.stores.db[name].count_documents({})


@pytest.fixture
async def conv(services: Services, tenant: TenantKit) -> ConversationPublic:
    opened, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    return opened


async def test_upload_strips_metadata_and_is_sealed_at_rest(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer = user(tenant, "buyer-1")
    original = phone_jpeg(orientation=6)
    attachment = await upload(services, buyer, conv.id, original)
    assert attachment.status == "ready"
    assert set(attachment.renditions) == {"thumb", "display", "full"}
    # Orientation 6 turns a 640x480 capture into a 480x640 picture.
    assert (attachment.width, attachment.height) == (480, 640)
    for name, link in attachment.links.items():
        data = await open_rendition(services, link)
        assert b"PhoneMaker" not in data and b"Secret Edition" not in data
        image = Image.open(__import__("io").BytesIO(data))
        assert not image.getexif()
        assert "exif" not in image.info
        rendition = attachment.renditions[name]
        assert image.size == (rendition.width, rendition.height)
    raw = b"".join(
        [encode(d) async for d in services.stores.db["attachment_chunks"].find({})]
        + [encode(d) async for d in services.stores.db["attachments"].find({})]
    )
    full = await open_rendition(services, attachment.links["full"])
    assert full[:64] not in raw  # the stored bytes are not the picture
    assert original[:64] not in raw
    assert b"PhoneMaker" not in raw


async def test_retried_upload_returns_the_first(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer = user(tenant, "buyer-1")
    first, created = await services.attachments.upload(
        buyer, conv.id, "same", body(png_bytes()), declared_length=None
    )
    again, created_again = await services.attachments.upload(
        buyer, conv.id, "same", body(b"not even read"), declared_length=None
    )
    assert created and not created_again
    assert again.id == first.id
    assert await collection_count(services, "attachments") == 1


@pytest.mark.parametrize(
    ("data", "error", "code"),
    [
        (HTML_AS_PNG, UnsupportedMedia, "unsupported_image_type"),
        (b"<?php system($_GET['c']); ?>", UnsupportedMedia, "unsupported_image_type"),
        (phone_jpeg()[:300], BadRequest, "image_corrupt"),
        (b"", BadRequest, "image_corrupt"),
    ],
)
async def test_bad_uploads_store_nothing(
    services: Services,
    tenant: TenantKit,
    conv: ConversationPublic,
    data: bytes,
    error: type[Exception],
    code: str,
) -> None:
    with pytest.raises(error) as caught:
        await upload(services, user(tenant, "buyer-1"), conv.id, data)
    assert getattr(caught.value, "code", None) == code
    assert await collection_count(services, "attachments") == 0
    assert await collection_count(services, "attachment_chunks") == 0


async def test_byte_cap_is_enforced_while_reading(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    cap = services.settings.attachment_max_bytes
    read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal read
        while True:
            read += 1 << 20
            yield b"\xff" * (1 << 20)

    buyer = user(tenant, "buyer-1")
    with pytest.raises(PayloadTooLarge):
        await services.attachments.upload(buyer, conv.id, "big", endless(), declared_length=None)
    assert read <= cap + (1 << 20)  # stopped at the cap, not after buffering everything
    with pytest.raises(PayloadTooLarge):
        await services.attachments.upload(
            buyer, conv.id, "big2", body(b"x"), declared_length=cap + 1
        )
    assert await collection_count(services, "attachments") == 0


async def test_only_participants_upload_and_see(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    outsider = user(tenant, "buyer-2")
    with pytest.raises(NotFound):
        await upload(services, outsider, conv.id, png_bytes())
    attachment = await upload(services, buyer, conv.id, png_bytes())
    with pytest.raises(NotFound):  # not sent yet: the uploader's own
        await services.attachments.describe(seller, conv.id, attachment.id)
    await services.conversations.send(
        buyer, conv.id, client_msg_id="m1", text=None, attachments=[attachment.id]
    )
    seen = await services.attachments.describe(seller, conv.id, attachment.id)
    assert seen.status == "attached"
    with pytest.raises(NotFound):
        await services.attachments.describe(outsider, conv.id, attachment.id)
    other, _ = await services.conversations.open_conversation(
        tenant.server, order_conversation("2000", ("buyer-2", "buyer"), ("seller-1", "seller"))
    )
    with pytest.raises(NotFound):  # a photo asked for through another conversation
        await services.attachments.describe(outsider, other.id, attachment.id)


async def test_message_carries_photos_once(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    photo = await upload(services, buyer, conv.id, png_bytes())
    sent = await services.conversations.send(
        buyer, conv.id, client_msg_id="m1", text="wrong colour", attachments=[photo.id]
    )
    assert [a.id for a in sent.message.attachments] == [photo.id]
    assert sent.message.attachments[0].renditions["thumb"].content_type.startswith("image/")
    resend = await services.conversations.send(
        buyer, conv.id, client_msg_id="m1", text="wrong colour", attachments=[photo.id]
    )
    assert not resend.created and resend.message.seq == sent.message.seq
    for who, client_id in ((buyer, "m2"), (seller, "s1")):
        with pytest.raises(BadRequest) as caught:
            await services.conversations.send(
                who, conv.id, client_msg_id=client_id, text=None, attachments=[photo.id]
            )
        assert caught.value.code == "attachment_unavailable"
    page = await services.conversations.history(seller, conv.id)
    assert [a.id for a in page.messages[0].attachments] == [photo.id]
    assert len(page.messages) == 1


async def test_failed_claim_gives_back_what_it_took(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer = user(tenant, "buyer-1")
    photo = await upload(services, buyer, conv.id, png_bytes())
    with pytest.raises(BadRequest):
        await services.conversations.send(
            buyer, conv.id, client_msg_id="m1", text=None, attachments=[photo.id, "a_" + "0" * 24]
        )
    sent = await services.conversations.send(
        buyer, conv.id, client_msg_id="m2", text=None, attachments=[photo.id]
    )
    assert [a.id for a in sent.message.attachments] == [photo.id]


async def test_deleting_the_message_deletes_its_photos(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    photo = await upload(services, buyer, conv.id, png_bytes())
    await services.conversations.send(
        buyer, conv.id, client_msg_id="m1", text="see", attachments=[photo.id]
    )
    link = (await services.attachments.describe(seller, conv.id, photo.id)).links["thumb"]
    await services.conversations.delete(buyer, conv.id, target_seq=1, client_msg_id="d1")
    assert await collection_count(services, "attachment_chunks") == 0
    with pytest.raises(NotFound):
        await services.attachments.describe(seller, conv.id, photo.id)
    with pytest.raises(NotFound):
        await open_rendition(services, link)
    page = await services.conversations.history(seller, conv.id)
    assert page.messages[0].deleted and page.messages[0].attachments == []


async def test_links_expire_and_resist_tampering(
    services: Services, tenant: TenantKit, conv: ConversationPublic, clock: ManualClock
) -> None:
    buyer = user(tenant, "buyer-1")
    photo = await upload(services, buyer, conv.id, png_bytes())
    link = photo.links["thumb"]
    assert await open_rendition(services, link)
    for tampered in (
        link.replace("/thumb?", "/full?"),
        link.replace("sig=", "sig=A"),
        link.replace("exp=", "exp=9"),
        link + "&viewer=staff%3Ax",
    ):
        with pytest.raises(Forbidden) as caught:
            await open_rendition(services, tampered)
        assert caught.value.code == "link_invalid"
    clock.advance(services.settings.attachment_link_ttl_seconds + 1)
    with pytest.raises(Gone) as expired:
        await open_rendition(services, link)
    assert expired.value.code == "link_expired"


async def test_ciphertext_moved_to_another_photo_fails(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    buyer = user(tenant, "buyer-1")
    first = await upload(services, buyer, conv.id, png_bytes(), "one")
    second = await upload(services, buyer, conv.id, png_bytes(32, 32), "two")
    chunks = services.stores.db["attachment_chunks"]
    donor = await chunks.find_one({"att": first.id, "rendition": "thumb"})
    assert donor is not None
    await chunks.update_one(
        {"att": second.id, "rendition": "thumb"},
        {"$set": {"data": donor["data"], "key_id": donor["key_id"]}},
    )
    with pytest.raises(IntegrityError):
        await open_rendition(services, second.links["thumb"])
    assert await open_rendition(services, first.links["thumb"])


async def test_staff_views_are_audited(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(
        tenant.server,
        order_conversation(
            "1042", ("buyer-1", "buyer"), ("seller-1", "seller"), ("ops-1", "staff")
        ),
    )
    buyer, staff = user(tenant, "buyer-1"), user(tenant, "ops-1", "staff")
    photo = await upload(services, buyer, conv.id, png_bytes())
    await services.conversations.send(
        buyer, conv.id, client_msg_id="m1", text=None, attachments=[photo.id]
    )
    await open_rendition(services, photo.links["thumb"])  # the buyer's own view: not audited
    staff_view = await services.attachments.describe(staff, conv.id, photo.id)
    await open_rendition(services, staff_view.links["display"])
    backend_view = await services.attachments.describe(tenant.server, conv.id, photo.id)
    await open_rendition(services, backend_view.links["full"])
    page = await services.audit.search(tenant.id)
    entries = sorted(page.entries, key=lambda e: e.seq)
    assert [(e.action, e.actor.type, e.actor.id, e.details["rendition"]) for e in entries] == [
        ("attachment.viewed_by_staff", "staff", "ops-1", "display"),
        ("attachment.viewed_by_staff", "server", tenant.id, "full"),
    ]
    assert all(e.target_id == photo.id for e in entries)


async def test_backend_cannot_send_photos(
    services: Services, tenant: TenantKit, conv: ConversationPublic
) -> None:
    photo = await upload(services, user(tenant, "buyer-1"), conv.id, png_bytes())
    with pytest.raises(BadRequest) as caught:
        await services.conversations.send(
            tenant.server,
            conv.id,
            client_msg_id="x",
            text=None,
            as_user="buyer-1",
            attachments=[photo.id],
        )
    assert caught.value.code == "user_required"
