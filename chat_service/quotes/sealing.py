"""A quote's free text sealed at rest: the request note, each revision's note
and the decline/withdraw reason (the parties' own words).

Same envelope as order notes (:class:`chat_service.orders.sealing.NoteSealer`,
collection ``quotes``); the associated data names tenant, quote id and field
(``state.note``, ``state.revisions.2.note``, ``state.reason``). The stored
``state`` holds ``{key_id, blob}`` where the pure state has text; callers of
the repository only ever see plain text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from chat_service.orders.sealing import NoteSealer

__all__ = ["QuoteSealer"]

Doc = dict[str, Any]
# (tenant, quote id, field, value) -> the value sealed or opened
_FieldFn = Callable[[str, str, str, Any], Awaitable[Any]]


class QuoteSealer:
    def __init__(self, notes: NoteSealer) -> None:
        self._notes = notes

    async def seal_state(self, tenant: str, quote_id: str, state: Doc) -> Doc:
        return await self._each_text(tenant, quote_id, state, self._notes.seal)

    async def open_state(self, tenant: str, quote_id: str, state: Doc) -> Doc:
        return await self._each_text(tenant, quote_id, state, self._notes.open)

    @staticmethod
    async def _each_text(tenant: str, quote_id: str, state: Doc, apply: _FieldFn) -> Doc:
        """``state`` with ``apply`` run over its free-text fields (note, reason, revision notes)."""
        return {
            **state,
            "note": await apply(tenant, quote_id, "state.note", state.get("note")),
            "reason": await apply(tenant, quote_id, "state.reason", state.get("reason")),
            "revisions": [
                {
                    **r,
                    "note": await apply(
                        tenant, quote_id, f"state.revisions.{r['number']}.note", r.get("note")
                    ),
                }
                for r in state["revisions"]
            ],
        }

    async def open_quote(self, doc: Doc | None) -> Doc | None:
        if doc is None:
            return None
        state = await self.open_state(doc["tenant"], doc["quote_id"], doc["state"])
        return {**doc, "state": state}
