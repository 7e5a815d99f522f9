"""Creating tenants and answering "is this secret / key / origin theirs?".

Tenant lookups are cached for a few seconds so a WebSocket handshake does not
cost a store round trip, while origin changes still take effect quickly.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from bson import Binary

from chat_service.clock import Clock
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.errors import Unauthenticated
from chat_service.tenants.repository import TenantRepository
from chat_service.tenants.schemas import (
    Tenant,
    TenantCreate,
    TenantCredentials,
    validate_origins,
)

__all__ = ["TenantSecrets", "TenantService"]

_SERVER_KEY = re.compile(r"^sk_(t_[0-9a-f]{16})_([A-Za-z0-9_-]{32,64})$")
_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class TenantSecrets:
    tenant: Tenant
    signing_secret: str
    server_key_hashes: tuple[str, ...]


def _hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _secret_ref(tenant_id: str, field: str = "signing_secret") -> RecordRef:
    return RecordRef(tenant=tenant_id, collection="tenants", record_id=tenant_id, field=field)


class TenantService:
    def __init__(self, repository: TenantRepository, cipher: FieldCipher, clock: Clock) -> None:
        self._repo = repository
        self._cipher = cipher
        self._clock = clock
        self._cache: dict[str, tuple[float, TenantSecrets | None]] = {}

    async def create(self, request: TenantCreate) -> TenantCredentials:
        tenant_id = "t_" + secrets.token_hex(8)
        signing_secret = secrets.token_urlsafe(48)
        server_key = f"sk_{tenant_id}_{secrets.token_urlsafe(36)}"
        now = self._clock.now()
        sealed = await self._cipher.encrypt(
            _secret_ref(tenant_id), signing_secret, scope="tenant", moment=now
        )
        await self._repo.insert(
            {
                "_id": tenant_id,
                "name": request.name,
                "origins": request.origins,
                "signing_secret": {"key_id": sealed.key_id, "blob": Binary(sealed.blob)},
                "server_key_hashes": [_hash_key(server_key)],
                "created_at": now,
            }
        )
        return TenantCredentials(
            tenant_id=tenant_id, signing_secret=signing_secret, server_key=server_key
        )

    async def secrets_of(self, tenant_id: str) -> TenantSecrets | None:
        cached = self._cache.get(tenant_id)
        if cached is not None and cached[0] > self._clock.monotonic():
            return cached[1]
        found = await self._load(tenant_id)
        self._cache[tenant_id] = (self._clock.monotonic() + _CACHE_SECONDS, found)
        if len(self._cache) > 10_000:
            self._cache.clear()
        return found

    async def get(self, tenant_id: str) -> Tenant | None:
        found = await self.secrets_of(tenant_id)
        return found.tenant if found else None

    async def all_tenants(self) -> list[Tenant]:
        return [
            Tenant(id=d["_id"], name=d["name"], origins=d["origins"], created_at=d["created_at"])
            for d in await self._repo.all()
        ]

    async def set_origins(self, tenant_id: str, origins: list[str]) -> bool:
        validated = validate_origins(origins)
        self._cache.pop(tenant_id, None)
        return await self._repo.set_origins(tenant_id, validated)

    async def set_staff_email(self, tenant_id: str, address: str | None) -> bool:
        """Set (or clear, with ``None``) the address that gets an email for each
        quote request; sealed like the signing secret. ``False``: no such tenant."""
        sealed = None
        if address is not None:
            field = await self._cipher.encrypt(
                _secret_ref(tenant_id, "staff_email"),
                address,
                scope="tenant",
                moment=self._clock.now(),
            )
            sealed = {"key_id": field.key_id, "blob": Binary(field.blob)}
        return await self._repo.set_staff_email(tenant_id, sealed)

    async def staff_email(self, tenant_id: str) -> str | None:
        """The tenant's staff address, read fresh (not cached), or ``None``."""
        doc = await self._repo.get(tenant_id)
        sealed = None if doc is None else doc.get("staff_email")
        if sealed is None:
            return None
        return await self._cipher.decrypt(
            _secret_ref(tenant_id, "staff_email"),
            EncryptedField(sealed["key_id"], bytes(sealed["blob"])),
        )

    async def authenticate_server_key(self, key: str) -> Tenant:
        """The tenant whose server key this is; compared in constant time."""
        match = _SERVER_KEY.fullmatch(key)
        found = await self.secrets_of(match.group(1)) if match else None
        digest = _hash_key(key)
        ok = False
        for stored in found.server_key_hashes if found else ("0" * 64,):
            ok |= hmac.compare_digest(stored, digest)
        if not ok or found is None:
            raise Unauthenticated("server credential is not valid", code="credential_invalid")
        return found.tenant

    async def origin_allowed(self, tenant_id: str, origin: str | None) -> bool:
        found = await self.secrets_of(tenant_id)
        if found is None or origin is None:
            return False
        return origin.lower() in found.tenant.origins

    async def _load(self, tenant_id: str) -> TenantSecrets | None:
        doc = await self._repo.get(tenant_id)
        if doc is None:
            return None
        sealed = doc["signing_secret"]
        secret = await self._cipher.decrypt(
            _secret_ref(tenant_id), EncryptedField(sealed["key_id"], bytes(sealed["blob"]))
        )
        tenant = Tenant(
            id=doc["_id"], name=doc["name"], origins=doc["origins"], created_at=doc["created_at"]
        )
        return TenantSecrets(tenant, secret, tuple(doc.get("server_key_hashes", ())))
