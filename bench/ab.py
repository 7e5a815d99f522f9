"""A/B runs of the load benchmark: one switch, several interleaved rounds, medians.

Single runs at the edge of saturation differ by more than a 5 % or 10 % effect,
so a question like "what does encryption at rest cost?" takes several runs per
side, interleaved so that drift of the machine hits both sides alike::

    python -m bench.ab --rounds 3 --a "--encryption on" --b "--encryption off" -- \\
        --connections 400 --rate 600 --duration 15 --senders 100 --groups 1 --group-size 20

Each run is a whole ``python -m bench.load`` with the common arguments (after
``--``) plus the side's own; the order is A B B A A B … (each pair mirrors the
last). It prints every run, then per side the median and the range of each
figure and the ratio B/A of the medians, and writes it all to
``bench/results/ab-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/ab.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import machine

RESULTS = Path(__file__).resolve().parent / "results"
# The processes that serve a message; the load generators and the rest are not the product.
SERVER_SIDE = ("hub-A", "hub-B", "store", "redis")
RUN_TIMEOUT_S = 1800


def figures(result: dict[str, Any]) -> dict[str, float | None]:
    """The figures compared between the sides, from one run's JSON."""
    load = result.get("load") or {}
    per_message = load.get("cpu_ms_per_stored_message") or {}
    cpu = result.get("cpu_during_load") or {}

    def latency(section: str, pct: str) -> float | None:
        value = (load.get(section) or {}).get(pct)
        return None if value is None else float(value)

    return {
        "stored_delivered_per_s": load.get("stored_delivered_per_s"),
        "acked_per_s": load.get("stored_per_s"),
        "p50_ms": latency("latency_ms", "p50"),
        "p99_ms": latency("latency_ms", "p99"),
        "group_p99_ms": latency("group_latency_ms", "p99"),
        "refused_unavailable": float((load.get("errors") or {}).get("error:unavailable", 0)),
        "unanswered": load.get("unanswered"),
        "delivered_ratio": load.get("delivered_ratio"),
        "server_cpu_ms_per_msg": (
            sum(per_message.get(name, 0.0) for name in SERVER_SIDE) if per_message else None
        ),
        "store_cpu_ms_per_msg": per_message.get("store"),
        "hubs_cpu_ms_per_msg": (
            per_message.get("hub-A", 0.0) + per_message.get("hub-B", 0.0) if per_message else None
        ),
        "other_load_pct": cpu.get("everything else on the machine"),
    }


def schedule(rounds: int) -> list[str]:
    """A B, B A, A B, …: each side goes first as often as the other (± one)."""
    order: list[str] = []
    for index in range(rounds):
        order += ["A", "B"] if index % 2 == 0 else ["B", "A"]
    return order


def summary(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for side in ("A", "B"):
        rows = [r["figures"] for r in runs if r["side"] == side]
        out[side] = {}
        for name in rows[0] if rows else ():
            values = [float(row[name]) for row in rows if row[name] is not None]
            if values:
                out[side][name] = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                }
    ratios: dict[str, float] = {}
    for name, a in out.get("A", {}).items():
        b = out.get("B", {}).get(name)
        if b and a["median"]:
            ratios[name] = b["median"] / a["median"]
    out["B/A"] = ratios
    return out


def run_once(common: list[str], extra: list[str], log: Path) -> tuple[dict[str, Any], str]:
    argv = [sys.executable, "-m", "bench.load", *common, *extra]
    with log.open("w") as out:
        done = subprocess.run(
            argv, stdout=out, stderr=subprocess.STDOUT, timeout=RUN_TIMEOUT_S, check=False
        )
    lines = log.read_text().splitlines()
    written = [line.removeprefix("written to ") for line in lines if line.startswith("written to ")]
    if done.returncode != 0 or not written:
        sys.exit(f"run failed ({done.returncode}): {shlex.join(argv)}; see {log}")
    return dict(json.loads(Path(written[-1]).read_text())), written[-1]


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    own, common = (raw[: raw.index("--")], raw[raw.index("--") + 1 :]) if "--" in raw else (raw, [])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--a", default="", help="side A's own arguments to bench.load")
    p.add_argument("--b", required=True, help="side B's own arguments to bench.load")
    p.add_argument("--rounds", type=int, default=3, help="runs per side (1-10)")
    args = p.parse_args(own)
    if not 1 <= args.rounds <= 10:
        sys.exit("--rounds must be 1..10")
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    RESULTS.mkdir(exist_ok=True)
    sides = {"A": shlex.split(args.a), "B": shlex.split(args.b)}
    runs: list[dict[str, Any]] = []
    for index, side in enumerate(schedule(args.rounds)):
        print(f"[ab] run {index + 1}: side {side} {shlex.join(sides[side])}", flush=True)
        log = RESULTS / f"ab-{stamp}-{index + 1}{side}.log"
        result, written = run_once(common, sides[side], log)
        row = {
            "side": side,
            "json": written,
            "code": result["machine"]["code"],
            "loadavg_at_start": result["machine"]["loadavg_at_start"],
            "figures": figures(result),
        }
        runs.append(row)
        print(f"[ab]   {json.dumps(row['figures'])}", flush=True)
    report = {
        "command": shlex.join(["python -m bench.ab", *raw]),
        "sides": {side: shlex.join(extra) for side, extra in sides.items()},
        "machine": machine(),
        "runs": runs,
        "summary": summary(runs),
    }
    path = RESULTS / f"ab-{stamp}.json"
    path.write_text(json.dumps(report, indent=1))
    print(render(report))
    print(f"written to {path}")
    return 0


def render(report: dict[str, Any]) -> str:
    lines = [f"A: {report['sides']['A'] or '(defaults)'}    B: {report['sides']['B']}"]
    summ = report["summary"]
    lines.append(f"{'figure':28} {'A median (min-max)':30} {'B median (min-max)':30} B/A")
    for name, a in summ["A"].items():
        b = summ["B"].get(name)
        ratio = summ["B/A"].get(name)
        cell_a = f"{a['median']:.2f} ({a['min']:.2f}-{a['max']:.2f})"
        cell_b = f"{b['median']:.2f} ({b['min']:.2f}-{b['max']:.2f})" if b else "-"
        shown = f"{ratio:.3f}" if ratio is not None else "-"
        lines.append(f"{name:28} {cell_a:30} {cell_b:30} {shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
