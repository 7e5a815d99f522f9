"""Compliance chores on the command line.

``chat-service retention purge [--tenant T] [--batch N]``
    purge what is past retention; progress on stderr, a summary on stdout
``chat-service subject export --tenant T --user U --out FILE.zip [--by STAFF]``
    write everything held about a person to a new ZIP file (mode 0600)
``chat-service subject erase --tenant T --user U --yes [--by STAFF]``
    crypto-shred and pseudonymise a person
``chat-service hold set|release --tenant T --conversation C --reason CODE [--by STAFF]``
    place or lift a legal hold on a conversation

Exports, erasures and holds are audited under ``--by`` (the staff member's
id). Running processes keep data keys in memory: after an erasure or a purge,
they must drop their key cache to stop opening shredded data.

Exit status: 0 done, 1 refused (unknown person, legal hold, bad input),
2 could not run (configuration, store down).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chat_service.audit import AuditActor
    from chat_service.config import Settings
    from chat_service.services import Services

__all__ = ["add_compliance_commands", "run_compliance", "run_compliance_async"]

EXIT_OK, EXIT_REFUSED, EXIT_NOT_RUN = 0, 1, 2
COMMANDS = ("retention", "subject", "hold")
_BY_HELP = "id of the staff member doing this (recorded in the audit log)"


def add_compliance_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    retention = sub.add_parser("retention", help="retention of messages and photos")
    retention_sub = retention.add_subparsers(dest="retention_command", required=True)
    purge = retention_sub.add_parser("purge", help="purge what is past each tenant's retention")
    purge.add_argument("--tenant", help="only this tenant")
    purge.add_argument("--batch", type=int, default=500, help="records per batch (default 500)")

    subject = sub.add_parser("subject", help="data subject requests (export, erasure)")
    subject_sub = subject.add_subparsers(dest="subject_command", required=True)
    export = subject_sub.add_parser("export", help="export a person's data to a ZIP file")
    erase = subject_sub.add_parser("erase", help="erase a person (cannot be undone)")
    for parser in (export, erase):
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--user", required=True)
        parser.add_argument("--by", default="cli-operator", help=_BY_HELP)
    export.add_argument("--out", required=True, type=Path, help="a new .zip file")
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    hold = sub.add_parser("hold", help="legal holds on conversations")
    hold_sub = hold.add_subparsers(dest="hold_command", required=True)
    for name, text in (("set", "place a legal hold"), ("release", "lift a legal hold")):
        parser = hold_sub.add_parser(name, help=text)
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--conversation", required=True)
        parser.add_argument("--reason", required=True, help="a short code, e.g. a case number")
        parser.add_argument("--by", default="cli-operator", help=_BY_HELP)


def run_compliance(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    """Run a ``retention``, ``subject`` or ``hold`` subcommand; returns the exit status."""
    return asyncio.run(run_compliance_async(args, settings()))


async def run_compliance_async(args: argparse.Namespace, settings: Settings) -> int:
    from pymongo.errors import PyMongoError

    from chat_service.errors import ChatError
    from chat_service.services import build_services

    if args.command == "subject" and args.subject_command == "erase" and not args.yes:
        print("erasure cannot be undone; add --yes to confirm", file=sys.stderr)
        return EXIT_REFUSED
    try:
        services = await build_services(settings)
    except (ChatError, PyMongoError) as exc:
        print(f"cannot start: {type(exc).__name__}", file=sys.stderr)
        return EXIT_NOT_RUN
    try:
        if args.command == "retention":
            return await _purge(services, args.tenant, args.batch)
        if args.command == "subject":
            return await _subject(services, args)
        return await _hold(services, args)
    except ChatError as exc:
        print(f"\nrefused ({exc.status} {exc.code}): {exc.detail}", file=sys.stderr)
        return EXIT_REFUSED if exc.status < 500 else EXIT_NOT_RUN
    except PyMongoError as exc:
        print(f"\nthe store failed: {type(exc).__name__}; run the command again", file=sys.stderr)
        return EXIT_NOT_RUN
    finally:
        await services.close()


def _progress(tenant: str, stage: str, done: int) -> None:
    print(f"\r  {tenant}: {stage} {done}        ", end="", file=sys.stderr, flush=True)


async def _purge(services: Services, tenant: str | None, batch: int) -> int:
    from chat_service.compliance.retention import RetentionJob

    report = await RetentionJob.from_services(services).run(
        tenant=tenant, batch_size=batch, progress=_progress
    )
    print(file=sys.stderr)
    print(f"done: {report.summary()}")
    return EXIT_OK


def _actor(by: str) -> AuditActor:
    from chat_service.audit import AuditActor
    from chat_service.errors import BadRequest

    try:
        return AuditActor(type="staff", id=by, role="operator")
    except ValueError:
        raise BadRequest("--by must be a staff id without spaces") from None


async def _subject(services: Services, args: argparse.Namespace) -> int:
    from chat_service.compliance.subjects import SubjectRequests

    actor = _actor(args.by)
    requests = SubjectRequests.from_services(services)
    if args.subject_command == "export":
        out: Path = args.out
        if await asyncio.to_thread(out.exists):
            print(f"{out} exists; choose a new file", file=sys.stderr)
            return EXIT_REFUSED
        print(f"exporting {args.user} of {args.tenant}...", file=sys.stderr)
        data = await requests.export(args.tenant, args.user, actor)
        # Personal data: readable by the operator only, never overwriting a file.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        print(f"done: wrote {len(data)} bytes to {out}")
        return EXIT_OK
    report = await requests.erase(args.tenant, args.user, actor)
    print(
        f"done: {report.user_id} is now {report.pseudonym!r}; {report.keys_destroyed} data keys "
        f"destroyed, {report.messages_scrubbed} messages scrubbed, "
        f"{report.attachments_deleted} attachments deleted, {report.conversations} "
        f"conversations renamed, {report.records_deleted} records deleted"
    )
    print("other running processes must drop their data-key cache", file=sys.stderr)
    return EXIT_OK


async def _hold(services: Services, args: argparse.Namespace) -> int:
    from chat_service.compliance.holds import LegalHolds

    actor = _actor(args.by)
    holds = LegalHolds(services.stores.db, services.audit, services.clock)
    if args.hold_command == "set":
        changed = await holds.set(args.tenant, args.conversation, actor, args.reason)
        print(f"hold {'placed' if changed else 'was already in place'} on {args.conversation}")
    else:
        changed = await holds.release(args.tenant, args.conversation, actor, args.reason)
        print(f"hold {'released' if changed else 'was not in place'} on {args.conversation}")
    return EXIT_OK
