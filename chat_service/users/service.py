"""Remembering who users are, with their e-mail address sealed at rest."""

from __future__ import annotations

from bson import Binary

from chat_service.auth.principals import Role
from chat_service.clock import Clock
from chat_service.crypto import EncryptedField, FieldCipher
from chat_service.crypto.cipher import RecordRef
from chat_service.users.repository import UserRepository

__all__ = ["UserDirectory", "user_scope"]


def user_scope(user_id: str) -> str:
    """The data-key scope of what a person wrote or is; erasure shreds it."""
    return f"user:{user_id}"


def _email_ref(tenant: str, user_id: str) -> RecordRef:
    return RecordRef(tenant=tenant, collection="users", record_id=user_id, field="email")


class UserDirectory:
    def __init__(self, repository: UserRepository, cipher: FieldCipher, clock: Clock) -> None:
        self._repo = repository
        self._cipher = cipher
        self._clock = clock
        # (tenant, user) -> what was last written, so a reconnect writes nothing.
        self._seen: dict[tuple[str, str], tuple[str, str, str | None]] = {}

    async def remember(
        self, tenant: str, user_id: str, *, role: Role, display_name: str, email: str | None
    ) -> None:
        marker = (role, display_name, email)
        if self._seen.get((tenant, user_id)) == marker:
            return
        fields: dict[str, object] = {"role": role, "display_name": display_name}
        if email is not None:
            sealed = await self._cipher.encrypt(
                _email_ref(tenant, user_id),
                email,
                scope=user_scope(user_id),
                moment=self._clock.now(),
            )
            fields["email"] = {"key_id": sealed.key_id, "blob": Binary(sealed.blob)}
        await self._repo.upsert(tenant, user_id, fields)
        if len(self._seen) > 100_000:
            self._seen.clear()
        self._seen[(tenant, user_id)] = marker

    async def email_of(self, tenant: str, user_id: str) -> str | None:
        doc = await self._repo.get(tenant, user_id)
        if doc is None or not doc.get("email"):
            return None
        sealed = doc["email"]
        return await self._cipher.decrypt(
            _email_ref(tenant, user_id), EncryptedField(sealed["key_id"], bytes(sealed["blob"]))
        )
