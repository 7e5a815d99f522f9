"""Chat latency while photos are uploaded to the same hub.

A benchmark, not a test. Starts its own store, Redis and ONE ``chat-service
serve`` hub, seeds buyer/seller pairs, and measures send-to-receive latency of
chat messages (buyer sends over WebSocket, seller receives) in two phases of
equal length: without uploads, then while ``--uploaders`` clients PUT a
12-megapixel phone-style JPEG to the same hub back to back. The issue's bar:
p99 with uploads within 2x of p99 without.

    python -m bench.attachments_load [--pairs 20 --rate 100 --seconds 15 --uploaders 2]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets

from bench.attachments_pipeline import phone_photo
from bench.cluster import ORIGIN, Cluster, cpu_seconds
from bench.report import machine, percentile, write_json
from bench.seed import buyer_id, seed, seller_id
from chat_service.auth.tokens import mint_user_token
from chat_service.config import Settings

RESULTS = Path(__file__).parent / "results"


class Pair:
    def __init__(self, conv_id: str, buyer_token: str, seller_token: str) -> None:
        self.conv_id = conv_id
        self.buyer_token = buyer_token
        self.seller_token = seller_token
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []


async def _authed(url: str, tenant: str, token: str) -> Any:
    ws = await websockets.connect(f"{url}?tenant={tenant}", origin=ORIGIN, max_size=2**20)  # type: ignore[arg-type]
    await ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
    while orjson.loads(await ws.recv())["type"] != "ready":
        pass
    return ws


async def _receive(ws: Any, pair: Pair) -> None:
    async for raw in ws:
        frame = orjson.loads(raw)
        if frame.get("type") == "message":
            sent = pair.sent.pop(frame["message"]["client_msg_id"], None)
            if sent is not None:
                pair.latencies.append(time.perf_counter() - sent)


async def _chat_phase(
    url: str, tenant: str, pairs: list[Pair], rate: float, seconds: float, tag: str
) -> dict[str, Any]:
    sockets = []
    readers = []
    for pair in pairs:
        pair.latencies.clear()
        buyer = await _authed(url, tenant, pair.buyer_token)
        seller = await _authed(url, tenant, pair.seller_token)
        await seller.send(
            orjson.dumps({"type": "subscribe", "conversation_id": pair.conv_id}).decode()
        )
        sockets += [buyer, seller]
        readers.append(asyncio.create_task(_receive(seller, pair)))
        pair.buyer = buyer  # type: ignore[attr-defined]
    await asyncio.sleep(0.5)
    interval = len(pairs) / rate
    sent = 0

    async def sender(index: int, pair: Pair) -> None:
        nonlocal sent
        await asyncio.sleep(interval * index / len(pairs))
        deadline = time.perf_counter() + seconds
        n = 0
        while time.perf_counter() < deadline:
            client_id = f"{tag}-{index}-{n}"
            pair.sent[client_id] = time.perf_counter()
            frame = {
                "type": "send",
                "conversation_id": pair.conv_id,
                "client_msg_id": client_id,
                "text": "Can you do 40 units with freight to Denver?",
            }
            await pair.buyer.send(orjson.dumps(frame).decode())  # type: ignore[attr-defined]
            n += 1
            sent += 1
            await asyncio.sleep(interval)

    await asyncio.gather(*(sender(i, p) for i, p in enumerate(pairs)))
    await asyncio.sleep(2.0)  # stragglers
    for task in readers:
        task.cancel()
    for ws in sockets:
        await ws.close()
    latencies = sorted(v * 1000 for p in pairs for v in p.latencies)
    return {
        "sent": sent,
        "received": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else None,
    }


async def _uploader(
    base: str, conv_id: str, token: str, photo: bytes, stop: asyncio.Event, counts: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            response = await http.put(
                f"/v1/conversations/{conv_id}/attachments/bench-{n}-{secrets.token_hex(4)}",
                content=photo,
                headers={"Authorization": f"Bearer {token}"},
            )
            n += 1
            if response.status_code == 201:
                counts["ok"] += 1
                counts["seconds"].append(time.perf_counter() - started)
            else:
                counts["failed"] += 1
                counts["last_error"] = response.text[:200]


async def run(args: argparse.Namespace, cluster: Cluster, result: dict[str, Any]) -> None:
    cluster.start_backends()
    values = cluster.settings_values(encryption=True, send_rate=100_000)
    values["CHAT_UPLOAD_RATE_PER_MINUTE"] = "100000"
    settings = Settings(
        **{k.removeprefix("CHAT_").lower(): v for k, v in values.items()}  # type: ignore[arg-type]
    )
    seeded = await seed(settings, args.pairs + 1, origin=ORIGIN)
    hub = cluster.start_hub("hub-a", values, [])
    cluster.wait_ready(hub)
    base = f"http://127.0.0.1:{hub.port}"

    def token(user: str, role: str) -> str:
        return mint_user_token(
            tenant_id=seeded.tenant_id,
            signing_secret=seeded.signing_secret,
            audience=seeded.audience,
            user_id=user,
            name=user,
            role=role,  # type: ignore[arg-type]
        )

    pairs = [
        Pair(seeded.conversation_ids[i], token(buyer_id(i), "buyer"), token(seller_id(i), "seller"))
        for i in range(args.pairs)
    ]
    photo = phone_photo()
    result["photo_bytes"] = len(photo)
    print(
        f"photo: {len(photo) / 2**20:.1f} MiB, 4000x3000 (bench.attachments_pipeline)",
        file=sys.stderr,
    )
    result["without_uploads"] = await _chat_phase(
        hub.ws_url, seeded.tenant_id, pairs, args.rate, args.seconds, "a"
    )
    print(f"without uploads: {result['without_uploads']}", file=sys.stderr)
    upload_conv = seeded.conversation_ids[args.pairs]
    uploader_token = token(buyer_id(args.pairs), "buyer")
    stop = asyncio.Event()
    counts: dict[str, Any] = {"ok": 0, "failed": 0, "seconds": []}
    cpu_before = cpu_seconds(hub.pid)
    started = time.perf_counter()
    uploads = [
        asyncio.create_task(_uploader(base, upload_conv, uploader_token, photo, stop, counts))
        for _ in range(args.uploaders)
    ]
    await asyncio.sleep(3.0)  # uploads under way (the image workers have started)
    result["with_uploads"] = await _chat_phase(
        hub.ws_url, seeded.tenant_id, pairs, args.rate, args.seconds, "b"
    )
    stop.set()
    await asyncio.gather(*uploads)
    elapsed = time.perf_counter() - started
    result["uploads"] = {
        "uploaders": args.uploaders,
        "stored": counts["ok"],
        "failed": counts["failed"],
        "last_error": counts.get("last_error"),
        "per_second": counts["ok"] / elapsed,
        "median_upload_s": percentile(sorted(counts["seconds"]), 50),
        "hub_cpu_s": cpu_seconds(hub.pid) - cpu_before,
    }
    base_p99 = result["without_uploads"]["p99_ms"]
    with_p99 = result["with_uploads"]["p99_ms"]
    result["p99_ratio"] = (with_p99 / base_p99) if base_p99 and with_p99 else None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.attachments_load", description=__doc__)
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--rate", type=float, default=100.0, help="chat messages/s in total")
    p.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    p.add_argument("--uploaders", type=int, default=2, help="clients uploading back to back")
    args = p.parse_args(argv)
    run_dir = Path(tempfile.mkdtemp(prefix="chat-bench-uploads-"))
    cluster = Cluster(run_dir)
    result: dict[str, Any] = {
        "command": "python -m bench.attachments_load",
        "args": vars(args),
        "machine": machine(),
    }
    try:
        asyncio.run(run(args, cluster, result))
    finally:
        cluster.stop()
        shutil.rmtree(run_dir, ignore_errors=True)
    path = write_json(result, RESULTS)
    a, b, u = result["without_uploads"], result["with_uploads"], result["uploads"]
    print(f"{'phase':<18}{'sent':>7}{'recv':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, phase in (("without uploads", a), ("with uploads", b)):
        print(
            f"{name:<18}{phase['sent']:>7}{phase['received']:>7}"
            f"{phase['p50_ms'] or 0:>9.1f}{phase['p99_ms'] or 0:>9.1f}{phase['max_ms'] or 0:>9.1f}"
        )
    print(
        f"uploads: {u['stored']} stored ({u['failed']} failed), {u['per_second']:.2f}/s, "
        f"median {u['median_upload_s'] or 0:.2f} s each; hub CPU {u['hub_cpu_s']:.1f} s"
    )
    ratio = result["p99_ratio"]
    print(f"p99 with/without uploads: {ratio:.2f}x (bar: <= 2x)" if ratio else "p99 ratio: n/a")
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
