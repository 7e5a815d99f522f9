"""Running the python-socketio peer in a bench run: its own fresh store and Redis
(the same binaries the product's run used, started the same way), the membership
of the same seeded conversations, and two peer processes."""

from __future__ import annotations

import sys
from typing import Any

from pymongo import MongoClient

from bench.cluster import ORIGIN, Cluster, Hub
from bench.seed import Seeded, buyer_id, member_id, seller_id

__all__ = ["PEER_DB", "seed_peer", "start_peers"]

PEER_DB = "peer"


def seed_peer(url: str, seeded: Seeded) -> None:
    """The peer's ``conversations``: ids and member user ids of the product's seed."""
    docs: list[dict[str, Any]] = [
        {"_id": conv, "members": [buyer_id(p), seller_id(p)]}
        for p, conv in enumerate(seeded.conversation_ids)
    ]
    docs += [
        {"_id": conv, "members": [member_id(g, m) for m in range(seeded.group_size)]}
        for g, conv in enumerate(seeded.group_ids)
    ]
    client: MongoClient[dict[str, Any]] = MongoClient(url)
    try:
        convs = client[PEER_DB]["conversations"]
        convs.create_index("members")
        for start in range(0, len(docs), 1000):
            convs.insert_many(docs[start : start + 1000])
    finally:
        client.close()


def start_peers(cluster: Cluster, seeded: Seeded) -> list[Hub]:
    """Two peer processes on one Redis, like the product's two hubs."""
    assert cluster.store is not None
    assert cluster.redis is not None
    values = {
        "PEER_MONGO_URL": cluster.store.url,
        "PEER_MONGO_DB": PEER_DB,
        "PEER_REDIS_URL": cluster.redis.url,
        "PEER_TENANT": seeded.tenant_id,
        "PEER_JWT_SECRET": seeded.signing_secret,
        "PEER_JWT_AUDIENCE": seeded.audience,
        "PEER_ORIGIN": ORIGIN,
    }
    argv = [sys.executable, "-m", "bench.peers.sioserver"]
    peers = [
        cluster.start_hub(name, values, argv, ws_path="/socket.io/")
        for name in ("peer-A", "peer-B")
    ]
    for peer in peers:
        cluster.wait_ready(peer)
    return peers
