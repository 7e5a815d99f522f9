"""The quote expiry job: what the Celery beat task calls.

:func:`expire_overdue_quotes` walks every tenant's open quotes whose seller
offer lapsed (``expires_at <= now``) in ``_id`` order, a batch at a time,
marks each ``expired`` and posts "Quote #Q-7 expired." in its conversation.
It is idempotent and resumable: an expired quote leaves the query, a quote
someone acted on meanwhile is skipped (its action won, or was refused as
``quote_expired`` and expired it then), and a run cut short is finished by
the next one. A second pass posts the system messages a crash left unposted
(their client message ids are deterministic, so nothing is posted twice), and
a third finishes the hand-offs of converted quotes a crash cut short (the
order id is the conversion's document id, so no order is made twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chat_service.errors import ChatError
from chat_service.quotes.service import QuoteService

__all__ = ["ExpiryReport", "expire_overdue_quotes"]

log = logging.getLogger(__name__)


@dataclass
class ExpiryReport:
    """What one run did."""

    scanned: int = 0
    expired: int = 0
    skipped: int = 0
    messages_repaired: int = 0
    handoffs_repaired: int = 0
    batches: int = 0
    complete: bool = True


# Called after each batch with the report so far.
Progress = Callable[[ExpiryReport], None]


async def expire_overdue_quotes(
    quotes: QuoteService,
    *,
    batch_size: int = 200,
    max_batches: int | None = None,
    progress: Progress | None = None,
) -> ExpiryReport:
    """Expire every overdue quote of every tenant as of the service clock's
    ``now``; ``max_batches`` bounds one run (``complete`` is then ``False``
    if work may remain)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = ExpiryReport()
    now = quotes.now()
    after: str | None = None
    while True:
        if max_batches is not None and report.batches >= max_batches:
            report.complete = False
            return report
        docs = await quotes.repository.due(now, after, batch_size)
        if not docs:
            break
        report.batches += 1
        for doc in docs:
            report.scanned += 1
            if await quotes.expire(doc, now):
                report.expired += 1
            else:
                report.skipped += 1
        after = docs[-1]["_id"]
        if progress is not None:
            progress(report)
    report.messages_repaired = await _repair_messages(quotes, batch_size)
    report.handoffs_repaired = await _repair_handoffs(quotes, batch_size)
    log.info(
        "quote expiry: %d expired, %d skipped in %d batches; %d messages repaired",
        report.expired,
        report.skipped,
        report.batches,
        report.messages_repaired,
    )
    return report


async def _repair_messages(quotes: QuoteService, batch_size: int) -> int:
    repaired = 0
    after: str | None = None
    while docs := await quotes.repository.unposted(after, batch_size):
        for doc in docs:
            try:
                repaired += await quotes.flush(doc)
            except ChatError as error:  # one broken quote must not stop the others
                log.warning("quote %s: message repair failed (%s)", doc["_id"], error.code)
        after = docs[-1]["_id"]
    return repaired


async def _repair_handoffs(quotes: QuoteService, batch_size: int) -> int:
    repaired = 0
    after: str | None = None
    while docs := await quotes.repository.not_handed_off(after, batch_size):
        for doc in docs:
            repaired += int(await quotes.hand_off_quietly(doc))
        after = docs[-1]["_id"]
    return repaired
