"""Photos attached to an email reply go through the attachments pipeline and
are carried by the reply's chat message; files it refuses are skipped."""

from __future__ import annotations

import io

from PIL import Image

from chat_service.services import Services
from tests.attachments.photos import HTML_AS_PNG, phone_jpeg
from tests.attachments.test_attachment_service import open_rendition
from tests.notifier.conftest import Chat
from tests.notifier.inbound_kit import reply_email, running_inbound


async def test_reply_photos_are_posted_stripped_and_once(services: Services, chat: Chat) -> None:
    async with running_inbound(services, inbound_max_bytes=512 * 1024) as inbound:
        to = await inbound.address(chat.tenant.id, chat.conv_id)
        message = reply_email("Here is the damaged corner.")
        message.add_attachment(
            phone_jpeg(orientation=6), maintype="image", subtype="jpeg", filename="IMG_0001.jpg"
        )
        message.add_attachment(HTML_AS_PNG, maintype="image", subtype="png", filename="x.png")
        for _ in range(2):  # a redelivery posts nothing new
            code, _ = await inbound.deliver(message, to)
            assert code == 250
    page = await services.conversations.history(chat.tenant.server, chat.conv_id)
    assert len(page.messages) == 1
    posted = page.messages[0]
    assert (posted.sender_id, posted.text, posted.via) == (
        "seller-1",
        "Here is the damaged corner.",
        "email",
    )
    assert len(posted.attachments) == 1  # the HTML "image" was refused by the pipeline
    seen = await services.attachments.describe(
        chat.user("buyer-1", "buyer"), chat.conv_id, posted.attachments[0].id
    )
    thumb = Image.open(io.BytesIO(await open_rendition(services, seen.links["thumb"])))
    assert not thumb.getexif()
    assert thumb.width < thumb.height  # orientation applied
    assert await services.stores.db["attachments"].count_documents({}) == 1


async def test_a_reply_of_only_a_photo_is_posted(services: Services, chat: Chat) -> None:
    async with running_inbound(services, inbound_max_bytes=512 * 1024) as inbound:
        to = await inbound.address(chat.tenant.id, chat.conv_id)
        message = reply_email("")
        message.add_attachment(phone_jpeg(), maintype="image", subtype="jpeg", filename="a.jpg")
        code, _ = await inbound.deliver(message, to)
    assert code == 250
    page = await services.conversations.history(chat.tenant.server, chat.conv_id)
    assert [(m.text, len(m.attachments)) for m in page.messages] == [(None, 1)]
