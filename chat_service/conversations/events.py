"""Events the conversations domain emits after a write has been stored.

Named ``domain.past_verb`` in metrics and logs; on the wire their ``type`` is
what the WebSocket protocol documents (``message``, ``read``, ...).
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["EventPublisher"]


class EventPublisher(Protocol):
    async def publish(self, tenant: str, conversation_id: str, event: dict[str, Any]) -> None:
        """Deliver ``event`` to every live subscriber of the conversation (at most once)."""
        ...
