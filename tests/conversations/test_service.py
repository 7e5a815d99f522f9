"""The conversations service against the real store: access, seq, idempotency, reads."""

import asyncio
from datetime import UTC, datetime

import pytest

from chat_service.auth.principals import UserPrincipal
from chat_service.conversations.repository import MessageRepository
from chat_service.errors import BadRequest, Forbidden, NotFound
from chat_service.services import Services, build_services
from tests.fixtures.app import TenantKit, create_tenant, order_conversation


def user(kit: TenantKit, user_id: str, role: str = "buyer") -> UserPrincipal:
    from datetime import UTC, datetime, timedelta

    return UserPrincipal(
        tenant=kit.id,
        user_id=user_id,
        name=user_id,
        role=role,  # type: ignore[arg-type]
        expires_at=datetime.now(UTC) + timedelta(minutes=5),
    )


async def test_conversation_is_found_by_subject(services: Services, tenant: TenantKit) -> None:
    first, created = await services.conversations.open_conversation(
        tenant.server, order_conversation("1042")
    )
    again, created_again = await services.conversations.open_conversation(
        tenant.server, order_conversation("1042", ("buyer-1", "buyer"), ("staff-9", "staff"))
    )
    assert created and not created_again
    assert again.id == first.id
    assert [p.user_id for p in again.participants] == ["buyer-1", "seller-1", "staff-9"]


async def test_duplicate_participants_are_refused(services: Services, tenant: TenantKit) -> None:
    with pytest.raises(BadRequest, match="twice"):
        await services.conversations.open_conversation(
            tenant.server, order_conversation("1", ("a", "buyer"), ("a", "seller"))
        )


async def test_seq_is_dense_and_resend_is_idempotent(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    sent = [
        await services.conversations.send(buyer, conv.id, client_msg_id=f"m{i}", text=f"#{i}")
        for i in range(5)
    ]
    assert [s.message.seq for s in sent] == [1, 2, 3, 4, 5]
    again = await services.conversations.send(buyer, conv.id, client_msg_id="m2", text="#2")
    assert not again.created
    assert again.message.seq == 3 and again.message.id == sent[2].message.id
    assert await services.stores.db["messages"].count_documents({"conv": conv.id}) == 5


async def test_same_client_id_from_two_users_are_two_messages(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    a = await services.conversations.send(
        user(tenant, "buyer-1"), conv.id, client_msg_id="x", text="a"
    )
    b = await services.conversations.send(
        user(tenant, "seller-1", "seller"), conv.id, client_msg_id="x", text="b"
    )
    assert a.created and b.created and a.message.seq != b.message.seq


async def test_concurrent_writers_in_two_processes_get_dense_unique_seqs(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    other = await build_services(services.settings)  # a second process: its own seq cache
    try:
        buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
        sends = [
            svc.conversations.send(who, conv.id, client_msg_id=f"{who.user_id}-{i}", text="x")
            for i in range(20)
            for svc, who in ((services, buyer), (other, seller))
        ]
        results = await asyncio.gather(*sends)
    finally:
        await other.close()
    seqs = sorted(r.message.seq for r in results)
    assert seqs == list(range(1, 41))


async def test_concurrent_resends_store_one_message(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    results = await asyncio.gather(
        *[
            services.conversations.send(buyer, conv.id, client_msg_id="same", text="hello")
            for _ in range(8)
        ]
    )
    assert sum(r.created for r in results) == 1
    assert {r.message.seq for r in results} == {1}
    assert await services.stores.db["messages"].count_documents({"conv": conv.id}) == 1


async def test_stale_seq_cache_recovers(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    await services.conversations.send(user(tenant, "buyer-1"), conv.id, client_msg_id="a", text="x")
    stale = MessageRepository(services.stores.db)
    stale.seqs.observe(conv.id, 0, force=True)  # believes the log is empty
    doc, created = await stale.append(
        {"_id": "m_" + "0" * 24, "conv": conv.id, "idem": "s|b", "created_at": datetime.now(UTC)}
    )
    assert created and doc["seq"] == 2


async def test_strangers_see_not_found(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    stranger = user(tenant, "someone-else")
    other_tenant = await create_tenant(services, "Other shop")
    outsider = user(other_tenant, "buyer-1")  # same user id, other marketplace
    for actor in (stranger, outsider):
        with pytest.raises(NotFound):
            await services.conversations.get_conversation(actor, conv.id)
        with pytest.raises(NotFound):
            await services.conversations.send(actor, conv.id, client_msg_id="a", text="x")
        with pytest.raises(NotFound):
            await services.conversations.history(actor, conv.id)
        with pytest.raises(NotFound):
            await services.conversations.mark_read(actor, conv.id, 1)
    with pytest.raises(NotFound):
        await services.conversations.get_conversation(other_tenant.server, conv.id)
    with pytest.raises(NotFound):  # looks like an id but does not exist
        await services.conversations.get_conversation(stranger, "c_" + "f" * 24)
    with pytest.raises(NotFound):  # not even an id
        await services.conversations.get_conversation(stranger, "{'$ne': None}")


async def test_edit_and_delete_are_logged_entries(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text="blue chair")
    with pytest.raises(Forbidden):
        await services.conversations.edit(
            seller, conv.id, target_seq=1, text="x", client_msg_id="e"
        )
    edit = await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="red chair", client_msg_id="e1"
    )
    assert (edit.message.kind, edit.message.target_seq, edit.message.text) == (
        "edit",
        1,
        "red chair",
    )
    delete = await services.conversations.delete(buyer, conv.id, target_seq=1, client_msg_id="d1")
    assert (delete.message.kind, delete.message.seq) == ("delete", 3)
    page = await services.conversations.history(buyer, conv.id)
    original = page.messages[0]
    assert original.deleted and original.text is None and original.edited_at is not None
    with pytest.raises(BadRequest):
        await services.conversations.edit(
            buyer, conv.id, target_seq=1, text="again", client_msg_id="e2"
        )
    with pytest.raises(NotFound):
        await services.conversations.edit(
            buyer, conv.id, target_seq=99, text="x", client_msg_id="e3"
        )


async def test_text_rules(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    limit = services.settings.max_message_chars
    for text, code in (
        ("   ", "invalid_text"),
        ("a\x00b", "invalid_text"),
        ("x" * (limit + 1), "message_too_long"),
    ):
        with pytest.raises(BadRequest) as info:
            await services.conversations.send(buyer, conv.id, client_msg_id="a", text=text)
        assert info.value.code == code
    assert (
        await services.conversations.send(buyer, conv.id, client_msg_id="a", text="x" * limit)
    ).created
    assert await services.stores.db["messages"].count_documents({"conv": conv.id}) == 1


async def test_history_paging(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    for i in range(7):
        await services.conversations.send(buyer, conv.id, client_msg_id=f"m{i}", text=str(i))
    first = await services.conversations.history(buyer, conv.id, after_seq=0, limit=3)
    assert [m.seq for m in first.messages] == [1, 2, 3] and first.has_more
    last = await services.conversations.history(buyer, conv.id, after_seq=6, limit=3)
    assert [m.seq for m in last.messages] == [7] and not last.has_more
    back = await services.conversations.history(buyer, conv.id, before_seq=7, limit=3)
    assert [m.seq for m in back.messages] == [4, 5, 6] and back.has_more
    start = await services.conversations.history(buyer, conv.id, before_seq=3, limit=3)
    assert [m.seq for m in start.messages] == [1, 2] and not start.has_more


async def test_unread_counts_and_previews(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer, seller = user(tenant, "buyer-1"), user(tenant, "seller-1", "seller")
    for i in range(3):
        await services.conversations.send(buyer, conv.id, client_msg_id=f"b{i}", text=f"q{i}")
    await services.conversations.send(seller, conv.id, client_msg_id="s0", text="answer")
    (summary,) = await services.conversations.list_conversations(seller)
    assert summary.unread_count == 3  # own message not counted
    assert summary.last_message is not None and summary.last_message.text == "answer"
    assert await services.conversations.mark_read(seller, conv.id, 2) == 2
    assert await services.conversations.mark_read(seller, conv.id, 1) == 2  # never goes back
    assert await services.conversations.mark_read(seller, conv.id, 999) == 4  # clamped
    (summary,) = await services.conversations.list_conversations(seller)
    assert summary.unread_count == 0
    (buyer_view,) = await services.conversations.list_conversations(buyer)
    assert buyer_view.unread_count == 1
    reads = {p.user_id: p.last_read_seq for p in buyer_view.participants}
    assert reads == {"buyer-1": 0, "seller-1": 4}


async def test_server_sends_system_and_on_behalf(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    system = await services.conversations.send(
        tenant.server, conv.id, client_msg_id="s1", text="Order shipped"
    )
    assert (system.message.kind, system.message.sender_id) == ("system", "system")
    proxy = await services.conversations.send(
        tenant.server, conv.id, client_msg_id="s2", text="hello", as_user="seller-1"
    )
    assert (proxy.message.kind, proxy.message.sender_id) == ("text", "seller-1")
    with pytest.raises(BadRequest):
        await services.conversations.send(
            tenant.server, conv.id, client_msg_id="s3", text="x", as_user="intruder"
        )


async def test_edit_resend_never_rewrites_the_log(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text="blue")
    first = await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="red", client_msg_id="e1"
    )
    again = await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="green", client_msg_id="e1"
    )
    assert first.created and not again.created
    assert again.message.text == "red"
    reused = await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="pink", client_msg_id="a"
    )  # the send's id
    assert not reused.created and reused.message.kind == "text"
    page = await services.conversations.history(buyer, conv.id)
    assert [(m.kind, m.text) for m in page.messages] == [("text", "red"), ("edit", "red")]


async def test_a_later_edit_is_not_undone_by_an_earlier_resend(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text="v0")
    await services.conversations.edit(buyer, conv.id, target_seq=1, text="v1", client_msg_id="e1")
    await services.conversations.edit(buyer, conv.id, target_seq=1, text="v2", client_msg_id="e2")
    await services.conversations.edit(buyer, conv.id, target_seq=1, text="v1", client_msg_id="e1")
    page = await services.conversations.history(buyer, conv.id, limit=1)
    assert page.messages[0].text == "v2"


async def test_delete_scrubs_the_edits_too(services: Services, tenant: TenantKit) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text="my phone 555")
    await services.conversations.edit(
        buyer, conv.id, target_seq=1, text="my phone 556", client_msg_id="e1"
    )
    await services.conversations.delete(buyer, conv.id, target_seq=1, client_msg_id="d1")
    page = await services.conversations.history(buyer, conv.id)
    assert [(m.kind, m.text, m.deleted) for m in page.messages] == [
        ("text", None, True),
        ("edit", None, True),
        ("delete", None, False),
    ]
    raw = await services.stores.db["messages"].count_documents(
        {"conv": conv.id, "text": {"$ne": None}}
    )
    assert raw == 0
    (summary,) = await services.conversations.list_conversations(buyer)
    assert summary.last_message is None  # a tombstone is no preview


async def test_participant_added_by_another_process_gets_in_at_once(
    services: Services, tenant: TenantKit
) -> None:
    conv, _ = await services.conversations.open_conversation(tenant.server, order_conversation())
    buyer = user(tenant, "buyer-1")
    await services.conversations.send(buyer, conv.id, client_msg_id="a", text="x")  # now cached
    other = await build_services(services.settings)
    try:
        await other.conversations.open_conversation(
            tenant.server, order_conversation("1042", ("staff-7", "staff"))
        )
    finally:
        await other.close()
    staff = user(tenant, "staff-7", "staff")
    sent = await services.conversations.send(staff, conv.id, client_msg_id="s", text="hello")
    assert sent.created
