"""``chat-service dev``: everything on this machine, data kept under one folder.

Starts the embedded store and Redis as child processes, creates a development
tenant, a demo order conversation and quote on first run, prints how to try it
(the demo pages switch between the order and the quote), and
serves the API until interrupted.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import signal
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from pydantic import SecretStr

from chat_service.auth.principals import ServerPrincipal
from chat_service.auth.tokens import mint_user_token
from chat_service.cli.devdemo import DEMO_QUOTE, seed_demo_records
from chat_service.cli.devworkers import start_console, start_notifier
from chat_service.cli.server import run_server
from chat_service.config import DEV_KEK_MARKER, Settings
from chat_service.conversations.schemas import ConversationCreate, ParticipantIn
from chat_service.embedded.servers import ChildServer, start_redis, start_store, stop_all
from chat_service.services import build_services
from chat_service.tenants.schemas import TenantCreate
from chat_service.widget.demo import DemoConfig

__all__ = ["DevState", "run_dev"]

DEMO_BUYER = ParticipantIn(
    user_id="buyer-ada", role="buyer", display_name="Ada Buyer", email="ada@buyer.example"
)
DEMO_SELLER = ParticipantIn(
    user_id="seller-sam", role="seller", display_name="Sam Seller", email="sam@seller.example"
)


@dataclass
class DevState:
    tenant_id: str
    signing_secret: str
    server_key: str
    conversation_id: str


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def dev_kek(data_dir: Path) -> str:
    """A development key-encryption key, made once and kept in the data folder."""
    path = data_dir / "dev-kek"
    if not path.exists():
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        _write_private(path, f"1:{DEV_KEK_MARKER}{key}")
    return path.read_text().strip()


async def seed(settings: Settings, data_dir: Path) -> DevState:
    state_path = data_dir / "dev-tenant.json"
    services = await build_services(settings)
    try:
        await services.ensure_indexes()
        if state_path.exists():
            state = DevState(**json.loads(state_path.read_text()))
            if await services.tenants.get(state.tenant_id) is not None:
                return state
        origins = [f"http://127.0.0.1:{settings.port}", f"http://localhost:{settings.port}"]
        creds = await services.tenants.create(
            TenantCreate(name="Demo marketplace", origins=origins)
        )
        conversation, _ = await services.conversations.open_conversation(
            ServerPrincipal(tenant=creds.tenant_id),
            ConversationCreate(
                subject_type="order",
                subject_id="1042",
                title="Order #1042: 2 blue oak chairs",
                participants=[DEMO_BUYER, DEMO_SELLER],
            ),
        )
        await seed_demo_records(services, creds.tenant_id, DEMO_BUYER, DEMO_SELLER)
        state = DevState(creds.tenant_id, creds.signing_secret, creds.server_key, conversation.id)
        _write_private(state_path, json.dumps(state.__dict__, indent=2))
        return state
    finally:
        await services.close()


def banner(
    settings: Settings,
    state: DevState,
    store_url: str,
    redis_url: str,
    data_dir: Path,
    mail: str = "",
) -> str:
    def token(p: ParticipantIn) -> str:
        return mint_user_token(
            tenant_id=state.tenant_id,
            signing_secret=state.signing_secret,
            audience=settings.jwt_audience,
            user_id=p.user_id,
            name=p.display_name,
            role=p.role,
            email=p.email,
            lifetime=timedelta(hours=8),
        )

    base = settings.public_base_url
    ws = base.replace("http", "ws", 1)
    return f"""
Marketplace chat — development mode (embedded default)
  API + WebSocket   {base}   (OpenAPI: {base}/docs)
  WebSocket         {ws}/v1/ws?tenant={state.tenant_id}   (Origin must be {base})
  store (MongoDB)   {store_url}
  Redis             {redis_url}
  data folder       {data_dir}   (kept across restarts; delete it to start over)
  demo pages        {base}/demo   (buyer {base}/demo/buyer, seller {base}/demo/seller)
  demo quote        {base}/demo/buyer?subject=quote, {base}/demo/seller?subject=quote
                    (quote {DEMO_QUOTE}: the seller revises the offer, the buyer accepts it)
{mail}
Demo tenant {state.tenant_id}
  server key        {state.server_key}
  demo conversation {state.conversation_id} (order 1042, buyer-ada and seller-sam)
  demo records      order 1042 (one line shipped, one back-ordered);
                    quote {DEMO_QUOTE} (priced by the seller, open)

Try it:
  curl -s -H 'Authorization: Bearer {state.server_key}' \\
       -H 'Content-Type: application/json' \\
       -d '{{"client_msg_id":"hello-1","text":"Your chairs ship Monday."}}' \\
       {base}/v1/conversations/{state.conversation_id}/messages
  curl -s -H 'Authorization: Bearer {token(DEMO_BUYER)}' {base}/v1/conversations

  buyer token (8 h):  {token(DEMO_BUYER)}
  seller token (8 h): {token(DEMO_SELLER)}
  more tokens:        chat-service token --data-dir {data_dir} --user ID --name NAME --role buyer
"""


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_dev(*, data_dir: Path, host: str, port: int) -> None:
    data_dir = data_dir.resolve()
    kek = dev_kek(data_dir)
    # uvicorn re-raises SIGTERM after its graceful shutdown; make that an exit
    # that runs the ``finally`` below, so the child servers are stopped too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    store = redis = None
    children: list[ChildServer] = []
    try:
        print(f"starting the embedded store and Redis under {data_dir} ...", flush=True)
        store = start_store(data_dir=data_dir / "store", log_dir=data_dir / "logs")
        redis = start_redis(data_dir=data_dir / "redis", log_dir=data_dir / "logs")
        settings = Settings(
            environment="development",
            host=host,
            port=port,
            public_base_url=f"http://{host}:{port}",
            mongo_url=store.url,
            redis_url=redis.url,
            keks=SecretStr(kek),
        )
        state = asyncio.run(seed(settings, data_dir))
        parts = start_notifier(settings, data_dir)
        children = parts.children
        console = start_console(settings, data_dir, state.tenant_id)
        children.append(console.child)
        mail = (
            f"  away emails       worker + beat running; mail sink on 127.0.0.1:{parts.sink_port}"
            f" writes every email to {parts.mail_dir}/*.eml\n"
            f"  email replies     SMTP listener on 127.0.0.1:{parts.inbound_port}"
            " (send a reply to the Reply-To address there)\n"
            f"  compliance console {console.url}"
            f"   (sign in: {console.login} / {console.password})\n"
        )
        print(banner(settings, state, store.url, redis.url, data_dir, mail), flush=True)
        demo = DemoConfig.from_dev_state(
            data_dir / "dev-tenant.json", settings, quote_id=DEMO_QUOTE
        )
        run_server(settings, demo=demo)
    finally:
        stop_all(*reversed(children), redis, store)
