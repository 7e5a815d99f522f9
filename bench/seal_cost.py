"""What encryption at rest adds to one message, measured directly.

    python -m bench.seal_cost [--text-chars 120] [--repeat 7]

The end-to-end A/B runs (``python -m bench.ab``, bench/README.md) compare whole
systems whose run-to-run spread is wider than a few per cent. This measures
only what a message pays for encryption, in the hub's process: binding the
message (associated data) and sealing its text with AES-256-GCM, opening it
again (what a history read or catch-up does), and how many bytes more the
stored document has. Data keys are cached in memory on the hot path, so no
store call is involved. Prints a table and writes JSON to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import timeit
from pathlib import Path
from typing import Any

import bson

if __package__ in (None, ""):  # `python bench/seal_cost.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import machine
from chat_service.conversations.sealing import text_ref
from chat_service.crypto.cipher import PLAINTEXT_KEY_ID
from chat_service.crypto.envelope import new_key, open_sealed, seal

RESULTS = Path(__file__).resolve().parent / "results"


def _document(key_id: str, text: bytes) -> dict[str, Any]:
    """A message document as the product stores it (conversations/sealing.py)."""
    return {
        "_id": "m_0123456789abcdefghij",
        "tenant": "t_bench",
        "conv": "c_0123456789abcdefghij",
        "seq": 12345,
        "kind": "text",
        "sender": "buyer-000001",
        "idem": "buyer-000001:0f8fad5b-d9cb-469f-a165-70867728950e",
        "client_msg_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "key_id": key_id,
        "text": bson.Binary(text),
        "target_seq": None,
        "created_at": 1_764_000_000_000,
        "edited_at": None,
        "deleted": False,
        "edit_seq": 0,
        "attachments": [],
        "via": "chat",
    }


def _per_call_us(call: Any, number: int, repeat: int) -> float:
    runs = timeit.repeat(call, number=number, repeat=repeat)
    return statistics.median(runs) / number * 1e6


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--text-chars", type=int, default=120)
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--number", type=int, default=20_000)
    args = p.parse_args(argv)
    key = new_key()
    ref = text_ref("t_bench", "c_0123456789abcdefghij", "m_0123456789abcdefghij")
    plain = ("bench " + "x" * args.text_chars)[: args.text_chars].encode()
    sealed = seal(key, plain, ref.aad())
    figures = {
        "seal_us": _per_call_us(lambda: seal(key, plain, ref.aad()), args.number, args.repeat),
        "open_us": _per_call_us(
            lambda: open_sealed(key, sealed, ref.aad()), args.number, args.repeat
        ),
        "document_bytes_sealed": len(bson.encode(_document("dk_" + "0" * 24, sealed))),
        "document_bytes_plain": len(bson.encode(_document(PLAINTEXT_KEY_ID, plain))),
    }
    result = {
        "command": "python -m bench.seal_cost " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "text_chars": args.text_chars,
        "figures": figures,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"seal-cost-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=1))
    print(f"text of {args.text_chars} characters, median of {args.repeat} x {args.number:,} calls")
    print(f"seal (associated data + AES-256-GCM) per message   {figures['seal_us']:.1f} us")
    print(f"open per read of one message                       {figures['open_us']:.1f} us")
    print(
        "stored document, sealed / plaintext                "
        f"{figures['document_bytes_sealed']} / {figures['document_bytes_plain']} bytes"
    )
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
