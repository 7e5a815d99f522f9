"""Envelope encryption at rest.

AES-256-GCM data keys, one per (tenant, scope, month), wrapped by a versioned
key-encryption key (KEK) from configuration. Every ciphertext is bound by its
associated data to the record it belongs to. Destroying a data key makes every
copy of what it sealed unreadable, backups included; that is how retention and
erasure shred data.
"""

from chat_service.crypto.cipher import EncryptedField, FieldCipher
from chat_service.crypto.datakeys import DataKeyRepository, KeyDestroyed, RewrapReport
from chat_service.crypto.envelope import associated_data, open_sealed, seal

__all__ = [
    "DataKeyRepository",
    "EncryptedField",
    "FieldCipher",
    "KeyDestroyed",
    "RewrapReport",
    "associated_data",
    "open_sealed",
    "seal",
]
