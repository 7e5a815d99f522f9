"""Data keys against the real store: creation, caching, rotation, shredding."""

import base64
import os

import pytest
from pydantic import SecretStr

from chat_service.clock import SystemClock
from chat_service.config import Settings
from chat_service.crypto import DataKeyRepository, FieldCipher, KeyDestroyed
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import IntegrityError
from chat_service.services import Services, build_services

REF = RecordRef(
    tenant="t_1", collection="messages", record_id="m_1", field="text", conversation="c_1"
)
NOW = SystemClock().now()


def _key() -> bytes:
    return os.urandom(32)


def _keys_setting(keks: dict[int, bytes]) -> SecretStr:
    return SecretStr(",".join(f"{v}:{base64.b64encode(k).decode()}" for v, k in keks.items()))


async def test_one_key_per_scope_and_period(services: Services) -> None:
    a = await services.cipher.encrypt(REF, "hello", scope="user:u1", moment=NOW)
    b = await services.cipher.encrypt(REF, "hello", scope="user:u1", moment=NOW)
    c = await services.cipher.encrypt(REF, "hello", scope="user:u2", moment=NOW)
    assert a.key_id == b.key_id != c.key_id
    assert await services.stores.db["data_keys"].count_documents({}) == 2


async def test_rotation_rewraps_and_old_data_stays_readable(settings: Settings) -> None:
    old, new = _key(), _key()
    first = await build_services(
        settings.model_copy(update={"keks": _keys_setting({1: old}), "primary_kek_version": 1})
    )
    try:
        await first.ensure_indexes()
        sealed = await first.cipher.encrypt(REF, "blue chair", scope="user:u1", moment=NOW)
    finally:
        await first.close()

    rotated = await build_services(
        settings.model_copy(
            update={"keks": _keys_setting({1: old, 2: new}), "primary_kek_version": 2}
        )
    )
    try:
        progress: list[tuple[int, int]] = []
        report = await rotated.keys.rewrap_all(progress=lambda d, t: progress.append((d, t)))
        assert (report.examined, report.rewrapped) == (1, 1)
        assert progress == [(1, 1)]
        again = await rotated.keys.rewrap_all()
        assert again.examined == 0  # resumable: nothing left to do
    finally:
        await rotated.close()

    only_new = await build_services(
        settings.model_copy(update={"keks": _keys_setting({2: new}), "primary_kek_version": 2})
    )
    try:
        assert await only_new.cipher.decrypt(REF, sealed) == "blue chair"
    finally:
        await only_new.close()


async def test_unknown_kek_version_fails_closed(settings: Settings) -> None:
    first = await build_services(
        settings.model_copy(update={"keks": _keys_setting({1: _key()}), "primary_kek_version": 1})
    )
    try:
        sealed = await first.cipher.encrypt(REF, "x", scope="user:u1", moment=NOW)
    finally:
        await first.close()
    other = await build_services(
        settings.model_copy(update={"keks": _keys_setting({2: _key()}), "primary_kek_version": 2})
    )
    try:
        with pytest.raises(IntegrityError, match="unknown key-encryption key version"):
            await other.cipher.decrypt(REF, sealed)
    finally:
        await other.close()


async def test_wrong_kek_with_same_version_is_an_integrity_error(settings: Settings) -> None:
    first = await build_services(settings.model_copy(update={"keks": _keys_setting({1: _key()})}))
    try:
        sealed = await first.cipher.encrypt(REF, "x", scope="user:u1", moment=NOW)
    finally:
        await first.close()
    impostor = await build_services(
        settings.model_copy(update={"keks": _keys_setting({1: _key()})})
    )
    try:
        with pytest.raises(IntegrityError):
            await impostor.cipher.decrypt(REF, sealed)
    finally:
        await impostor.close()


async def test_destroying_a_scope_shreds_its_data(services: Services) -> None:
    mine = await services.cipher.encrypt(REF, "mine", scope="user:u1", moment=NOW)
    theirs = await services.cipher.encrypt(REF, "theirs", scope="user:u2", moment=NOW)
    assert await services.keys.destroy_scope("t_1", "user:u1") == 1
    with pytest.raises(KeyDestroyed):
        await services.cipher.decrypt(REF, mine)
    assert await services.cipher.decrypt(REF, theirs) == "theirs"


async def test_keys_are_unreadable_without_the_kek(services: Services) -> None:
    await services.cipher.encrypt(REF, "x", scope="user:u1", moment=NOW)
    doc = await services.stores.db["data_keys"].find_one({})
    assert doc is not None
    assert len(doc["wrapped"]) == 1 + 12 + 32 + 16  # version, nonce, key, tag
    assert doc["kek_version"] == 1


def test_cache_is_bounded() -> None:
    repo = DataKeyRepository(None, {1: _key()}, 1, now=SystemClock().now, cache_size=2)  # type: ignore[arg-type]
    for i in range(5):
        repo._remember(f"k{i}", b"x", ("t", f"s{i}", "p"))
    assert list(repo._by_id) == ["k3", "k4"]
    assert set(repo._by_scope.values()) == {"k3", "k4"}


async def test_bench_plaintext_records_are_refused_when_encryption_is_on(
    services: Services,
) -> None:
    off = FieldCipher(services.keys, disabled_for_bench=True)
    sealed = await off.encrypt(REF, "plain", scope="user:u1", moment=NOW)
    with pytest.raises(IntegrityError, match="unencrypted"):
        await services.cipher.decrypt(REF, sealed)


async def test_keys_destroyed_elsewhere_stop_being_used_within_the_cache_window(
    services: Services,
) -> None:
    """Another process erased a person: this process's cache must not keep
    sealing new data under the destroyed key for longer than the window."""
    ticks = [0.0]
    collection = services.stores.db["data_keys"]
    kek = services.settings.kek_map()
    version = services.settings.primary_version()
    this = DataKeyRepository(
        collection, kek, version, now=SystemClock().now, monotonic=lambda: ticks[0]
    )
    other = DataKeyRepository(collection, kek, version, now=SystemClock().now)
    first_id, _ = await this.current_key("t_1", "user:u1", "2026-11")
    assert await other.destroy_scope("t_1", "user:u1") == 1
    ticks[0] += 30.0
    assert (await this.current_key("t_1", "user:u1", "2026-11"))[0] == first_id  # still cached
    ticks[0] += 31.0
    fresh_id, _ = await this.current_key("t_1", "user:u1", "2026-11")
    assert fresh_id != first_id
    with pytest.raises(KeyDestroyed):
        await this.key_by_id("t_1", first_id)
