"""What the console needs from data-subject requests (GDPR Art. 15/17/20).

The service side (``chat_service.compliance.subjects``) is wired in through
this Protocol and :func:`service_subjects`, so the console's forms do not
depend on its internals and tests can supply another implementation.
Implementations audit what they do (``subject.exported``/``subject.erased``)
and raise ``ChatError`` subclasses for refusals (unknown subject, legal hold),
which the forms show as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from chat_service.audit import AuditActor
from chat_service.services import Services

__all__ = [
    "ErasureReport",
    "ExportArchive",
    "SubjectRequests",
    "SubjectsFactory",
    "service_subjects",
]


@dataclass(frozen=True)
class ExportArchive:
    filename: str
    content: bytes


@dataclass(frozen=True)
class ErasureReport:
    user_id: str
    pseudonym: str
    messages_erased: int
    attachments_erased: int
    conversations: int


class SubjectRequests(Protocol):
    async def export(self, tenant: str, user_id: str, actor: AuditActor) -> ExportArchive: ...

    async def erase(self, tenant: str, user_id: str, actor: AuditActor) -> ErasureReport: ...


# Builds the implementation from the console's services (in the app's lifespan).
SubjectsFactory = Callable[[Services], SubjectRequests]


class _ServiceSubjects:
    """The chat service's export and erasure, as the console's Protocol."""

    def __init__(self, services: Services) -> None:
        from chat_service.compliance.subjects import SubjectRequests as Requests

        self._requests = Requests.from_services(services)
        self._clock = services.clock

    async def export(self, tenant: str, user_id: str, actor: AuditActor) -> ExportArchive:
        content = await self._requests.export(tenant, user_id, actor)
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%SZ")
        return ExportArchive(filename=f"export-{user_id}-{stamp}.zip", content=content)

    async def erase(self, tenant: str, user_id: str, actor: AuditActor) -> ErasureReport:
        report = await self._requests.erase(tenant, user_id, actor)
        return ErasureReport(
            user_id=report.user_id,
            pseudonym=report.pseudonym,
            messages_erased=report.messages_scrubbed,
            attachments_erased=report.attachments_deleted,
            conversations=report.conversations,
        )


def service_subjects(services: Services) -> SubjectRequests:
    return _ServiceSubjects(services)
