"""``chat-service``: run the service and do operators' chores.

Subcommands: ``dev``, ``serve``, ``migrate``, ``tenant create|list|set-origins``,
``token``, ``keys generate|rotate``, ``audit verify``, ``retention purge``,
``subject export|erase``, ``hold set|release``. Every production URL and
secret comes from ``CHAT_*`` environment variables (see README).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from chat_service.audit import SYSTEM_TENANT, AuditActor
from chat_service.auth.tokens import mint_user_token
from chat_service.cli.audit import add_audit_commands, run_audit
from chat_service.cli.compliance import add_compliance_commands, run_compliance
from chat_service.config import Settings
from chat_service.logs import configure_logging

if TYPE_CHECKING:
    from chat_service.tenants.schemas import TenantCreate

__all__ = ["main"]


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        sys.exit(f"configuration error:\n{exc}")


def _dev_settings_if_present(data_dir: Path) -> dict[str, str] | None:
    path = data_dir / "dev-tenant.json"
    if path.exists():
        state: dict[str, str] = json.loads(path.read_text())
        return state
    return None


def _tenant_request(name: str, origins: list[str]) -> TenantCreate:
    """Validated before anything connects, so bad input is a message, not a traceback."""
    from chat_service.tenants.schemas import TenantCreate

    try:
        return TenantCreate(name=name, origins=origins)
    except ValidationError as exc:
        sys.exit(f"invalid tenant:\n{exc}")


async def _tenant_create(name: str, origins: list[str]) -> None:
    from chat_service.services import build_services

    request = _tenant_request(name, origins)
    services = await build_services(_settings())
    try:
        await services.ensure_indexes()
        creds = await services.tenants.create(request)
    finally:
        await services.close()
    print(f"tenant id:      {creds.tenant_id}")
    print(f"signing secret: {creds.signing_secret}")
    print(f"server key:     {creds.server_key}")
    print("Store the secret and the key now; they are not shown again.")


async def _tenant_list() -> None:
    from chat_service.services import build_services

    services = await build_services(_settings())
    try:
        for tenant in await services.tenants.all_tenants():
            print(f"{tenant.id}  {tenant.name}  origins={','.join(tenant.origins) or '-'}")
    finally:
        await services.close()


async def _tenant_set_origins(tenant_id: str, origins: list[str]) -> None:
    from chat_service.services import build_services
    from chat_service.tenants.schemas import validate_origins

    try:
        origins = validate_origins(origins)
    except ValueError as exc:
        sys.exit(f"invalid origins: {exc}")
    services = await build_services(_settings())
    try:
        if not await services.tenants.set_origins(tenant_id, origins):
            sys.exit(f"no tenant {tenant_id}")
    finally:
        await services.close()
    print(f"origins of {tenant_id}: {', '.join(origins) or '(none)'}")


async def _secret_from_store(tenant_id: str) -> str:
    from chat_service.services import build_services

    services = await build_services(_settings())
    try:
        found = await services.tenants.secrets_of(tenant_id)
    finally:
        await services.close()
    if found is None:
        sys.exit(f"no tenant {tenant_id}")
    return found.signing_secret


def _token(args: argparse.Namespace) -> None:
    tenant, secret = args.tenant, args.secret
    dev = _dev_settings_if_present(Path(args.data_dir)) if args.data_dir else None
    if dev is not None and (tenant is None or tenant == dev["tenant_id"]):
        tenant, secret = dev["tenant_id"], secret or dev["signing_secret"]
    if tenant is None:
        sys.exit("give --tenant (or --data-dir of a dev setup)")
    if secret is None:
        secret = asyncio.run(_secret_from_store(tenant))
    print(
        mint_user_token(
            tenant_id=tenant,
            signing_secret=secret,
            audience=args.audience,
            user_id=args.user,
            name=args.name or args.user,
            role=args.role,
            email=args.email,
            lifetime=timedelta(minutes=args.minutes),
        )
    )


async def _keys_rotate() -> None:
    from chat_service.services import build_services

    services = await build_services(_settings())

    def progress(done: int, total: int) -> None:
        print(f"\r  re-wrapped {done}/{total} data keys", end="", file=sys.stderr, flush=True)

    try:
        report = await services.keys.rewrap_all(progress=progress)
        await services.audit.record(
            SYSTEM_TENANT,
            AuditActor.system("keys-rotate"),
            "keys.rotated",
            target_type="keys",
            target_id=f"v{services.settings.primary_version()}",
            details={"examined": report.examined, "rewrapped": report.rewrapped},
        )
    finally:
        await services.close()
    print(
        f"\ndone: {report.examined} data keys examined, {report.rewrapped} re-wrapped under "
        f"key-encryption key version {services.settings.primary_version()}"
    )


async def _migrate() -> None:
    from chat_service.services import build_services

    services = await build_services(_settings())
    try:
        await services.ensure_indexes()
    finally:
        await services.close()
    print("indexes are in place")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chat-service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run everything locally on the embedded default")
    dev.add_argument("--data-dir", default=".chat-data")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)

    sub.add_parser("serve", help="run the API/WebSocket server (production; CHAT_* env)")
    sub.add_parser("migrate", help="create the store's indexes")

    tenant = sub.add_parser("tenant", help="manage marketplaces").add_subparsers(
        dest="tenant_command", required=True
    )
    create = tenant.add_parser("create", help="create a marketplace; prints its secrets once")
    create.add_argument("--name", required=True)
    create.add_argument(
        "--origin",
        action="append",
        default=[],
        help="an allowed widget origin, e.g. https://shop.example (repeatable)",
    )
    tenant.add_parser("list", help="list marketplaces")
    origins = tenant.add_parser("set-origins", help="replace a marketplace's allowed origins")
    origins.add_argument("tenant_id")
    origins.add_argument("--origin", action="append", default=[])

    token = sub.add_parser("token", help="mint a short-lived user token for trying the API")
    token.add_argument("--tenant")
    token.add_argument("--secret", help="the tenant's signing secret (else read from the store)")
    token.add_argument(
        "--data-dir", default=".chat-data", help="use the dev tenant kept in this folder"
    )
    token.add_argument("--user", required=True)
    token.add_argument("--name")
    token.add_argument("--email")
    token.add_argument("--role", choices=["buyer", "seller", "staff"], required=True)
    token.add_argument("--minutes", type=int, default=15)
    token.add_argument(
        "--audience", default=os.environ.get("CHAT_JWT_AUDIENCE", "marketplace-chat")
    )

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("generate", help="print a new random key-encryption key (base64)")
    keys.add_parser("rotate", help="re-wrap all data keys under the primary key-encryption key")
    add_audit_commands(sub)
    add_compliance_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    configure_logging()
    match args.command:
        case "dev":
            from chat_service.cli.devmode import run_dev

            run_dev(data_dir=Path(args.data_dir), host=args.host, port=args.port)
        case "serve":
            from chat_service.cli.server import run_server

            run_server(_settings())
        case "migrate":
            asyncio.run(_migrate())
        case "tenant":
            if args.tenant_command == "create":
                asyncio.run(_tenant_create(args.name, args.origin))
            elif args.tenant_command == "list":
                asyncio.run(_tenant_list())
            else:
                asyncio.run(_tenant_set_origins(args.tenant_id, args.origin))
        case "token":
            _token(args)
        case "keys":
            if args.keys_command == "generate":
                print(base64.b64encode(secrets.token_bytes(32)).decode())
            else:
                asyncio.run(_keys_rotate())
        case "audit":
            sys.exit(run_audit(args, _settings))
        case "retention" | "subject" | "hold":
            sys.exit(run_compliance(args, _settings))


if __name__ == "__main__":
    main()
