"""``chat-service audit verify [--tenant T]``: check the audit log's hash chains.

Walks each chain from its first entry in batches, prints progress on stderr
and, on stdout, one line per chain and a summary. Each intact chain's head
(last seq and hash) is printed so it can be kept outside the store; a later
run that ends below a recorded head shows that the tail was cut.

Exit status: 0 every chain holds, 1 a chain is broken, 2 the check could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chat_service.audit.schemas import ChainReport
    from chat_service.config import Settings

__all__ = ["add_audit_commands", "run_audit"]

EXIT_OK, EXIT_BROKEN, EXIT_NOT_CHECKED = 0, 1, 2


def add_audit_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit log").add_subparsers(
        dest="audit_command", required=True
    )
    verify = audit.add_parser(
        "verify", help="check the audit hash chains; exit status 1 if one is broken"
    )
    verify.add_argument(
        "--tenant", help="check only this tenant's chain ('_system' for global actions)"
    )


def run_audit(args: argparse.Namespace, settings: Callable[[], Settings]) -> int:
    """Run an ``audit`` subcommand; returns the exit status."""
    return asyncio.run(verify_chains(settings(), args.tenant))


def _progress(tenant: str, checked: int) -> None:
    print(f"\r  {tenant}: {checked} entries checked", end="", file=sys.stderr, flush=True)


def describe(report: ChainReport) -> str:
    """One line about one chain; ids, numbers and hashes only."""
    if report.broken is None:
        if report.last_seq == 0:
            return f"{report.tenant}: ok, no entries"
        return (
            f"{report.tenant}: ok, {report.entries_checked} entries, "
            f"head {report.last_seq} sha256:{report.head_hash}"
        )
    broken = report.broken
    return (
        f"{report.tenant}: BROKEN at entry {broken.seq} ({broken.reason}): {broken.detail}; "
        f"{report.entries_checked} entries intact before it"
    )


async def verify_chains(settings: Settings, tenant: str | None) -> int:
    from pymongo.errors import PyMongoError

    from chat_service.audit.repository import AuditRepository
    from chat_service.audit.service import AuditLog
    from chat_service.clock import SystemClock
    from chat_service.errors import ChatError
    from chat_service.stores import open_stores

    stores = await open_stores(settings)
    audit = AuditLog(AuditRepository(stores.db), SystemClock())
    try:
        if tenant is not None:
            reports = [await audit.verify(tenant, progress=_progress)]
        else:
            reports = await audit.verify_all(progress=_progress)
    except ChatError as exc:
        print(f"\ncannot check the audit log: {exc.detail}", file=sys.stderr)
        return EXIT_NOT_CHECKED
    except PyMongoError as exc:
        print(f"\ncannot read the audit log: {type(exc).__name__}", file=sys.stderr)
        return EXIT_NOT_CHECKED
    finally:
        await stores.close()
    print(file=sys.stderr)
    if not reports:
        print("no audit entries in the store")
    for report in reports:
        print(describe(report))
    broken = sum(not r.ok for r in reports)
    checked = sum(r.entries_checked for r in reports)
    chains = f"{len(reports)} chain{'' if len(reports) == 1 else 's'}"
    print(f"done: {chains}, {checked} entries checked, {broken} broken")
    return EXIT_BROKEN if broken else EXIT_OK
