"""``python -m admin``: create staff accounts and serve the console.

    python -m admin create-staff --tenant T --login L --role R
    python -m admin serve [--host H] [--port P]

Settings come from ``CHAT_*`` like the service's (``CHAT_ADMIN_PORT``,
default 8001). ``create-staff`` prints the generated password once; it is
stored only as an argon2 hash.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from admin.config import AdminSettings
from admin.staff.repository import StaffRepository
from admin.staff.schemas import STAFF_ROLES
from admin.staff.service import StaffService
from chat_service.errors import ChatError
from chat_service.services import build_services

__all__ = ["main"]


async def _create_staff(settings: AdminSettings, tenant: str, login: str, role: str) -> int:
    services = await build_services(settings)
    try:
        if await services.tenants.get(tenant) is None:
            print(f"error: no marketplace {tenant!r}", file=sys.stderr)
            return 2
        repo = StaffRepository(services.stores.db)
        await repo.ensure_indexes()
        staff = StaffService(
            repo,
            audit=services.audit,
            policies=services.policies,
            clock=services.clock,
            settings=settings,
        )
        account, password = await staff.create(tenant, login, role)
    except ChatError as error:
        print(f"error: {error.detail}", file=sys.stderr)
        return 2
    finally:
        await services.close()
    print(f"created {account.role} {account.login} ({account.id}) for {account.tenant}")
    print(f"password (shown once): {password}")
    return 0


def _serve(settings: AdminSettings, host: str | None, port: int | None) -> int:
    from admin.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=host or settings.admin_host,
        port=port if port is not None else settings.admin_port,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        access_log=False,
        log_level="info",
    )
    uvicorn.Server(config).run()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chat-admin", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-staff", help="create a staff account")
    create.add_argument("--tenant", required=True)
    create.add_argument("--login", required=True)
    create.add_argument("--role", required=True, choices=STAFF_ROLES)
    serve = commands.add_parser("serve", help="serve the console")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    settings = AdminSettings()
    if args.command == "create-staff":
        return asyncio.run(_create_staff(settings, args.tenant, args.login, args.role))
    return _serve(settings, args.host, args.port)
