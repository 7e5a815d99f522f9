"""One-click unsubscribe: the signed link turns away emails off for that user."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from chat_service.api.problems import install_problem_handlers
from chat_service.notifications.endpoints import router
from chat_service.services import Services
from notifier.delivery import AwayNotifier
from tests.notifier.conftest import Chat, advance, run_due
from tests.notifier.smtp_sink import Sink


def client_for(services: Services) -> httpx.AsyncClient:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    app.state.services = services
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")


async def test_unsubscribe_stops_away_emails(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "first")
    advance(services, 121)
    await run_due(notifier)
    [email] = sink.messages()
    url = email["List-Unsubscribe"].strip("<>")
    token = parse_qs(urlsplit(url).query)["token"][0]
    async with client_for(services) as http:
        # A link scanner's GET changes nothing.
        page = await http.get("/v1/unsubscribe", params={"token": token})
        assert page.status_code == 200
        assert 'method="post"' in page.text
        await chat.send("buyer-1", "buyer", "second")
        advance(services, 121)
        assert [o.status for o in await run_due(notifier)] == ["sent"]
        # The mail client's one-click POST (RFC 8058).
        done = await http.post(
            "/v1/unsubscribe",
            params={"token": token},
            content="List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert done.status_code == 200
    await chat.send("buyer-1", "buyer", "third")
    advance(services, 121)
    outcomes = await run_due(notifier)
    assert [(o.status, o.reason) for o in outcomes] == [("skipped", "unsubscribed")]
    assert len(sink.received) == 2
    # The buyer did not unsubscribe.
    await chat.send("seller-1", "seller", "to the buyer")
    advance(services, 121)
    assert [o.status for o in await run_due(notifier)] == ["sent"]


async def test_forged_and_mismatched_tokens_are_refused(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "hello")
    advance(services, 121)
    await run_due(notifier)
    [email] = sink.messages()
    body = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    open_token = body.split("/v1/open?token=")[1].split()[0]
    async with client_for(services) as http:
        for token in ("1.AAAA", "garbage", open_token, open_token[:-2] + "xx"):
            response = await http.post("/v1/unsubscribe", params={"token": token})
            assert response.status_code == 403, token
            assert response.json()["code"] == "link_invalid"
    await chat.send("buyer-1", "buyer", "still subscribed")
    advance(services, 121)
    assert [o.status for o in await run_due(notifier)] == ["sent"]


async def test_the_open_link_redirects_to_the_marketplace_without_leaking_ids(
    services: Services, chat: Chat, notifier: AwayNotifier, sink: Sink
) -> None:
    await chat.send("buyer-1", "buyer", "hello")
    advance(services, 121)
    await run_due(notifier)
    [email] = sink.messages()
    body = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    open_token = body.split("/v1/open?token=")[1].split()[0]
    async with client_for(services) as http:
        response = await http.get("/v1/open", params={"token": open_token})
        assert response.status_code == 303
        assert response.headers["location"] == f"http://shop.test/#chat-conversation={chat.conv_id}"
        unsubscribe = email["List-Unsubscribe"].strip("<>").split("token=")[1]
        refused = await http.get("/v1/open", params={"token": unsubscribe})
        assert refused.status_code == 403
