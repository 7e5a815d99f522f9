"""Turning the workers' raw counts into figures, the summary table and the JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil

__all__ = ["combine_phase", "machine", "percentile", "table", "write_json"]


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def combine_phase(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the workers' summaries of one phase into the figures of the run."""
    total: dict[str, Any] = {}
    for key in (
        "sent",
        "send_errors",
        "unanswered",
        "acked",
        "ack_duplicates",
        "expected",
        "delivered_peer",
        "delivered_echo",
        "unexpected",
        "repeats",
        "dropped",
    ):
        total[key] = sum(int(r.get(key, 0)) for r in replies)
    total["finished"] = all(r.get("finished", False) for r in replies)
    peer_ms = [v for r in replies for v in r["peer_ms"]]
    ack_ms = [v for r in replies for v in r["ack_ms"]]
    starts = [r["first_send"] for r in replies if r["first_send"]]
    first = min(starts) if starts else 0
    last_send = max((r["last_send"] for r in replies), default=0)
    last_ack = max((r["last_ack"] for r in replies), default=0)
    last_peer = max((r["last_peer"] for r in replies), default=0)
    delivered = total["delivered_peer"] + total["delivered_echo"]
    total["delivered_ratio"] = delivered / total["expected"] if total["expected"] else None
    total["send_window_s"] = (last_send - first) / 1e9 if first else 0.0
    total["sent_per_s"] = _rate(total["sent"], first, last_send)
    total["stored_per_s"] = _rate(total["acked"], first, last_ack)
    total["delivered_per_s"] = _rate(total["delivered_peer"], first, last_peer)
    for name, values in (("latency_ms", peer_ms), ("ack_ms", ack_ms)):
        total[name] = {
            "samples": len(values),
            "p50": percentile(values, 50),
            "p99": percentile(values, 99),
            "p99.9": percentile(values, 99.9),
            "max": max(values) if values else None,
        }
    errors: dict[str, int] = {}
    for reply in replies:
        for code, n in reply.get("errors", {}).items():
            errors[code] = errors.get(code, 0) + int(n)
    total["errors"] = errors
    return total


def _rate(count: int, first_ns: int, last_ns: int) -> float | None:
    if count <= 1 or not first_ns or last_ns <= first_ns:
        return None
    return count / ((last_ns - first_ns) / 1e9)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "code": _git_revision(),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _git_revision() -> str:
    """The commit the product code was at (read-only git calls), '+dirty' if changed."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "chat_service"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def _ops(ops: dict[str, float] | None) -> str:
    if not ops:
        return "-"
    return ", ".join(f"{k.removeprefix('store_')} {v:g}" for k, v in ops.items() if v)


def table(result: dict[str, Any]) -> str:
    """The one summary table of a run, as printed."""
    rows: list[tuple[str, str]] = []
    info = result["machine"]
    rows.append(
        (
            "code, date (UTC), machine",
            f"{info['code']}, {info['date_utc']}, {info['nproc']} x {info['cpu_model']}, "
            f"load avg {info['loadavg_at_start'][0]:.1f} at start",
        )
    )
    idle = result["idle"]
    rows.append(("connections held (authenticated + subscribed)", _fmt(idle["connected"])))
    rows.append(("connections failed", _fmt(idle["failed"])))
    rows.append(("connect time / rate", f"{idle['seconds']:.1f} s / {idle['per_s']:,.0f} per s"))
    for hub in idle["hubs"]:
        rows.append(
            (
                f"KiB per idle connection, {hub['name']} ({hub['connections']:,} conns)",
                f"{_fmt(hub['kib_per_connection'])} KiB  "
                f"(RSS {hub['rss_before_mib']:.1f} -> {hub['rss_after_mib']:.1f} MiB)",
            )
        )
    rows.append(("backend ops per connection opened", _ops(idle.get("backend_ops_per_connection"))))
    rows.append(
        ("store client connections open after connecting", _fmt(idle.get("store_connections_open")))
    )
    for key, when in (("store_ceiling", "empty store"), ("store_ceiling_before_load", "at load")):
        ceiling = result.get(key)
        if ceiling:
            rows.append(
                (
                    f"store ceiling ({when}): insert_one / send-path mix",
                    f"{ceiling['insert_per_s']:,.0f} /s  /  "
                    f"{ceiling['send_path_per_s']:,.0f} msg/s",
                )
            )
    load = result.get("load")
    if load:
        rows.append(("target rate x duration, senders", load["target"]))
        rows.append(("messages sent / per s", f"{load['sent']:,} / {_fmt(load['sent_per_s'])}"))
        rows.append(
            ("messages stored (acks) / per s", f"{load['acked']:,} / {_fmt(load['stored_per_s'])}")
        )
        rows.append(
            (
                "messages delivered cross-hub / per s",
                f"{load['delivered_peer']:,} / {_fmt(load['delivered_per_s'])}",
            )
        )
        lat = load["latency_ms"]
        rows.append(
            (
                "send->receive latency p50 / p99 / p99.9 / max",
                " / ".join(_fmt(lat[k], " ms") for k in ("p50", "p99", "p99.9", "max")),
            )
        )
        ack = load["ack_ms"]
        rows.append(
            (
                "send->ack latency p50 / p99 / p99.9",
                " / ".join(_fmt(ack[k], " ms") for k in ("p50", "p99", "p99.9")),
            )
        )
        ratio = load["delivered_ratio"]
        rows.append(
            (
                "delivered / expected (peer + echo)",
                f"{ratio:.4f}  ({load['delivered_peer'] + load['delivered_echo']:,} / "
                f"{load['expected']:,})"
                if ratio is not None
                else "-",
            )
        )
        rows.append(
            (
                "errors, unanswered, repeats, unexpected",
                f"{load['errors'] or 0}, {load['unanswered']}, {load['repeats']}, "
                f"{load['unexpected']}",
            )
        )
        rows.append(("backend ops per stored message", _ops(load.get("backend_ops_per_message"))))
        per_message = load.get("cpu_ms_per_stored_message", {})
        for name, share in result.get("cpu_during_load", {}).items():
            cost = per_message.get(name)
            rows.append(
                (
                    f"CPU during load: {name}",
                    f"{share:4.0f} % of one core"
                    + (f"  ({cost:.2f} ms per stored message)" if cost is not None else ""),
                )
            )
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join([rule, *lines, rule])


def write_json(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
