"""The SSRF guard: which URLs the service may call in each environment."""

from __future__ import annotations

import pytest

from chat_service.errors import BadRequest
from chat_service.webhooks.targets import check_addresses, check_url

REFUSED_IN_PRODUCTION = [
    "http://hooks.example.com/chat",
    "https://localhost/hook",
    "https://127.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://10.0.0.5/hook",
    "https://192.168.1.10/hook",
    "https://172.16.0.1/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://0.0.0.0/hook",
    "https://[fe80::1]/hook",
    "https://metadata.internal/hook",
    "https://user:pass@hooks.example.com/hook",
    "javascript:alert(1)",
    "ftp://hooks.example.com/file",
    "not a url",
    "https:///nohost",
    "https://hooks.example.com/a b",
]


@pytest.mark.parametrize("url", REFUSED_IN_PRODUCTION)
def test_production_refuses(url: str) -> None:
    with pytest.raises(BadRequest) as caught:
        check_url(url, "production")
    assert caught.value.code == "webhook_url_refused"


def test_production_allows_public_https() -> None:
    assert check_url("https://hooks.example.com/chat?x=1", "production")
    assert check_url("https://93.184.215.14:8443/chat", "production")


@pytest.mark.parametrize("environment", ["development", "test"])
def test_development_allows_local_http_only(environment: str) -> None:
    for url in ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]:9/x"]:
        assert check_url(url, environment)  # type: ignore[arg-type]
    for url in ["http://hooks.example.com/x", "https://10.0.0.5/x", "ftp://127.0.0.1/x"]:
        with pytest.raises(BadRequest):
            check_url(url, environment)  # type: ignore[arg-type]


def test_resolved_addresses_must_be_public_in_production() -> None:
    check_addresses(["93.184.215.14"], "production")
    for bad in (["127.0.0.1"], ["93.184.215.14", "10.1.2.3"], ["fe80::1%eth0"], []):
        with pytest.raises(BadRequest):
            check_addresses(bad, "production")
    check_addresses(["127.0.0.1"], "test")
