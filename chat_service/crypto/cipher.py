"""Encrypting one field of one record: picks the data key, binds the record.

The associated data of a field is ``(schema version, tenant, collection,
record id, field name, conversation)``, so a ciphertext copied to another
record, another field or another tenant fails to open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chat_service.crypto.datakeys import DataKeyRepository
from chat_service.crypto.envelope import associated_data, open_sealed, seal
from chat_service.errors import IntegrityError

__all__ = ["PLAINTEXT_KEY_ID", "SCHEMA_VERSION", "EncryptedField", "FieldCipher", "RecordRef"]

SCHEMA_VERSION = 1
# Bench-only marker: the field was stored without encryption.
PLAINTEXT_KEY_ID = "plaintext-bench-only"


@dataclass(frozen=True)
class RecordRef:
    """Which record and field a ciphertext belongs to."""

    tenant: str
    collection: str
    record_id: str
    field: str
    conversation: str = ""

    def aad(self) -> bytes:
        return associated_data(
            SCHEMA_VERSION,
            self.tenant,
            self.collection,
            self.record_id,
            self.field,
            self.conversation,
        )


@dataclass(frozen=True)
class EncryptedField:
    key_id: str
    blob: bytes


def period_of(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


class FieldCipher:
    def __init__(self, keys: DataKeyRepository, *, disabled_for_bench: bool = False) -> None:
        self._keys = keys
        self._disabled = disabled_for_bench

    @property
    def keys(self) -> DataKeyRepository:
        return self._keys

    async def encrypt(
        self, ref: RecordRef, plaintext: str, *, scope: str, moment: datetime
    ) -> EncryptedField:
        return await self.encrypt_bytes(ref, plaintext.encode("utf-8"), scope=scope, moment=moment)

    async def decrypt(self, ref: RecordRef, field: EncryptedField) -> str:
        return (await self.decrypt_bytes(ref, field)).decode("utf-8")

    async def encrypt_bytes(
        self, ref: RecordRef, plaintext: bytes, *, scope: str, moment: datetime
    ) -> EncryptedField:
        if self._disabled:
            return EncryptedField(PLAINTEXT_KEY_ID, plaintext)
        key_id, key = await self._keys.current_key(ref.tenant, scope, period_of(moment))
        return EncryptedField(key_id, seal(key, plaintext, ref.aad()))

    async def decrypt_bytes(self, ref: RecordRef, field: EncryptedField) -> bytes:
        if field.key_id == PLAINTEXT_KEY_ID:
            if not self._disabled:
                raise IntegrityError("record is marked unencrypted; refusing to read it")
            return field.blob
        key = await self._keys.key_by_id(ref.tenant, field.key_id)
        return open_sealed(key, field.blob, ref.aad())
