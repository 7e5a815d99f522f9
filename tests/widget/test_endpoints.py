"""The widget's static files and the development demo pages, over real HTTP."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi import FastAPI

from chat_service.config import Settings
from chat_service.widget.demo import DemoConfig, install_demo
from tests.widget.conftest import WidgetServer


@pytest.mark.parametrize(
    ("name", "media"),
    [
        ("widget.js", "text/javascript; charset=utf-8"),
        ("widget-extras.js", "text/javascript; charset=utf-8"),
        ("widget-seller.js", "text/javascript; charset=utf-8"),
        ("widget.css", "text/css; charset=utf-8"),
    ],
)
async def test_static_files_have_type_cache_and_nosniff(
    widget_server: WidgetServer, name: str, media: str
) -> None:
    async with httpx.AsyncClient(base_url=widget_server.base_url) as http:
        response = await http.get(f"/widget/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == media
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "innerHTML" not in response.text and "eval(" not in response.text


@pytest.mark.parametrize(
    "path",
    ["/widget/endpoints.py", "/widget/..%2Fendpoints.py", "/widget/static", "/widget/x.js"],
)
async def test_only_listed_files_are_served(widget_server: WidgetServer, path: str) -> None:
    async with httpx.AsyncClient(base_url=widget_server.base_url) as http:
        response = await http.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_demo_pages_carry_a_strict_csp_and_no_token_in_urls(
    widget_server: WidgetServer,
) -> None:
    async with httpx.AsyncClient(base_url=widget_server.base_url) as http:
        index = await http.get("/demo")
        buyer = await http.get("/demo/buyer")
        unknown = await http.get("/demo/staff")
        fresh = await http.post("/demo/seller/token")
    assert index.status_code == 200 and 'href="/demo/seller"' in index.text
    assert unknown.status_code == 404
    csp = buyer.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp
    assert f"connect-src 'self' ws://{widget_server.base_url.split('//')[1]};" in csp
    assert buyer.headers["cache-control"] == "no-store"
    config = re.search(
        r'<script type="application/json" id="chat-config">(.*?)</script>', buyer.text
    )
    assert config is not None
    assert widget_server.demo.conversation_id in config.group(1)
    token = widget_server.demo.token("buyer").split(".")[0]  # the header part is stable
    urls = re.findall(r'(?:src|href)="([^"]*)"', buyer.text)
    assert urls and not any(token in url for url in urls)
    assert "<script>" not in buyer.text  # no inline script: works under script-src 'self'
    assert fresh.status_code == 200 and fresh.json()["token"].count(".") == 2


async def test_demo_answers_not_found_until_configured(widget_server: WidgetServer) -> None:
    widget_server.app.state.widget_demo = None
    async with httpx.AsyncClient(base_url=widget_server.base_url) as http:
        assert (await http.get("/demo/buyer")).status_code == 404
        assert (await http.post("/demo/buyer/token")).status_code == 404


async def test_demo_pages_switch_between_the_order_and_the_quote(
    widget_server: WidgetServer,
) -> None:
    async with httpx.AsyncClient(base_url=widget_server.base_url) as http:
        # Without a demo quote there is no tab and no quote page.
        plain = await http.get("/demo/seller")
        assert plain.status_code == 200 and "demo-tabs" not in plain.text
        assert (await http.get("/demo/seller?subject=quote")).status_code == 404
        created = await http.post(
            "/v1/quotes",
            headers={"Authorization": f"Bearer {widget_server.server_key}"},
            json={
                "quote_id": "Q-2001",
                "buyer": {"user_id": "buyer-ada", "display_name": "Ada Buyer"},
                "seller": {"user_id": "seller-sam", "display_name": "Sam Seller"},
                "currency": "USD",
                "lines": [{"line_id": "1", "sku": "CHAIR", "name": "Oak chair", "quantity": 4}],
            },
        )
        assert created.status_code == 201, created.text
        widget_server.app.state.widget_demo = widget_server.demo.with_quote("Q-2001")
        index = await http.get("/demo")
        order = await http.get("/demo/buyer")
        quote = await http.get("/demo/buyer?subject=quote")
        unknown = await http.get("/demo/buyer?subject=invoice")
    assert 'href="/demo/seller?subject=quote"' in index.text and "Q-2001" in index.text
    assert unknown.status_code == 404
    assert '<a href="/demo/buyer" aria-current="page">Order</a>' in order.text
    assert '<a href="/demo/buyer?subject=quote" aria-current="page">Quote Q-2001</a>' in quote.text
    assert created.json()["conversation_id"] in quote.text
    assert widget_server.demo.conversation_id in order.text
    assert '<script src="/widget/widget-seller.js"></script>' in quote.text


async def test_install_demo_refuses_production(
    settings: Settings, widget_server: WidgetServer
) -> None:
    production = settings.model_copy(update={"environment": "production"})
    with pytest.raises(RuntimeError, match="development only"):
        install_demo(FastAPI(), production, widget_server.demo)
    app = FastAPI()
    install_demo(app, settings, widget_server.demo)
    assert app.state.widget_demo is widget_server.demo
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as http:
        page = await http.get("/demo/seller")
    assert page.status_code == 200 and "Seller dashboard" in page.text
    assert "connect-src 'self' ws://shop.test;" in page.headers["content-security-policy"]
    assert not any(path.startswith("/demo") for path in app.openapi()["paths"])


def test_demo_config_reads_the_dev_state_file(settings: Settings, tmp_path: Path) -> None:
    state = {
        "tenant_id": "t_0123456789abcdef",
        "signing_secret": "s3cret-s3cret-s3cret-s3cret-s3cret",
        "server_key": "sk_t_0123456789abcdef_x",
        "conversation_id": "c_0123456789abcdef01234567",
    }
    path = tmp_path / "dev-tenant.json"
    path.write_text(json.dumps(state))
    config = DemoConfig.from_dev_state(path, settings, quote_id="Q-2001")
    assert config.quote_id == "Q-2001"
    assert (config.tenant_id, config.conversation_id) == (
        state["tenant_id"],
        state["conversation_id"],
    )
    assert config.audience == settings.jwt_audience
    assert "s3cret" not in repr(config)
    claims = jwt.decode(
        config.token("buyer"), state["signing_secret"], ["HS256"], audience=config.audience
    )
    assert (claims["sub"], claims["role"], claims["iss"]) == (
        "buyer-ada",
        "buyer",
        state["tenant_id"],
    )
