"""Settings refuse unsafe production configurations and malformed keys."""

import base64
import os

import pytest
from pydantic import SecretStr, ValidationError

from chat_service.config import Settings, parse_keks


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_production_requires_keks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAT_KEKS", raising=False)
    with pytest.raises(ValidationError, match="CHAT_KEKS is required"):
        Settings(environment="production")


def test_production_refuses_a_development_key() -> None:
    with pytest.raises(ValidationError, match="development key"):
        Settings(environment="production", keks=SecretStr(f"1:dev-{key()}"))


def test_production_refuses_bench_plaintext() -> None:
    with pytest.raises(ValidationError, match="benchmarks only"):
        Settings(
            environment="production", keks=SecretStr(f"1:{key()}"), bench_disable_encryption=True
        )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1:" + base64.b64encode(b"short").decode(), "32 bytes"),
        ("1:not base64!!", "base64"),
        ("one:" + base64.b64encode(os.urandom(32)).decode(), "<version>:<base64>"),
        (
            f"1:{base64.b64encode(os.urandom(32)).decode()},1:"
            f"{base64.b64encode(os.urandom(32)).decode()}",
            "twice",
        ),
    ],
)
def test_malformed_keys(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_keks(raw)


def test_primary_must_exist() -> None:
    with pytest.raises(ValidationError, match="PRIMARY_KEK_VERSION"):
        Settings(environment="production", keks=SecretStr(f"1:{key()}"), primary_kek_version=2)


def test_primary_defaults_to_newest() -> None:
    settings = Settings(environment="production", keks=SecretStr(f"1:{key()},3:{key()}"))
    assert settings.primary_version() == 3
    assert "CHAT" not in repr(settings.keks)  # secret never printed


def test_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_ENVIRONMENT", "production")
    monkeypatch.setenv("CHAT_KEKS", f"7:{key()}")
    monkeypatch.setenv("CHAT_WS_MAX_FRAME_BYTES", "2048")
    settings = Settings()
    assert settings.primary_version() == 7
    assert settings.ws_max_frame_bytes == 2048


def test_limits_are_bounded() -> None:
    with pytest.raises(ValidationError):
        Settings(environment="development", ws_max_frame_bytes=10)
