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

__all__ = ["combine_phase", "compare", "machine", "percentile", "table", "write_json"]


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile; None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


_SUMMED = (
    "sent",
    "group_sent",
    "send_errors",
    "unanswered",
    "acked",
    "group_acked",
    "ack_duplicates",
    "expected",
    "delivered",
    "delivered_peer",
    "complete",
    "unexpected",
    "repeats",
    "dropped",
    "typing_sent",
    "typing_received",
    "reads_sent",
    "read_acks",
    "read_events",
)


def combine_phase(replies: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum the workers' summaries of one phase into the figures of the run."""
    total: dict[str, Any] = {key: sum(int(r.get(key, 0)) for r in replies) for key in _SUMMED}
    total["finished"] = all(r.get("finished", False) for r in replies)
    starts = [r["first_send"] for r in replies if r["first_send"]]
    first = min(starts) if starts else 0
    last = {
        key: max((r.get(key, 0) for r in replies), default=0)
        for key in ("last_send", "last_ack", "last_peer", "last_complete")
    }
    total["delivered_ratio"] = total["delivered"] / total["expected"] if total["expected"] else None
    total["send_window_s"] = (last["last_send"] - first) / 1e9 if first else 0.0
    total["sent_per_s"] = _rate(total["sent"], first, last["last_send"])
    total["stored_per_s"] = _rate(total["acked"], first, last["last_ack"])
    total["delivered_per_s"] = _rate(total["delivered_peer"], first, last["last_peer"])
    total["stored_delivered_per_s"] = _rate(total["complete"], first, last["last_complete"])
    for name, key in (("latency_ms", "peer_ms"), ("group_latency_ms", "group_ms"), ("ack_ms",) * 2):
        values = [v for r in replies for v in r.get(key, [])]
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


def compare(ours: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """This project / the peer, on the same workload in the same run. Throughput: higher
    is better (ratio > 1 favours this project); latency: lower is better (ratio < 1)."""

    def pair(a: float | None, b: float | None) -> dict[str, float | None]:
        return {"ours": a, "peer": b, "ratio": a / b if a is not None and b else None}

    return {
        "stored_delivered_per_s": pair(
            ours["stored_delivered_per_s"], peer["stored_delivered_per_s"]
        ),
        "stored_per_s": pair(ours["stored_per_s"], peer["stored_per_s"]),
        "latency_p50_ms": pair(ours["latency_ms"]["p50"], peer["latency_ms"]["p50"]),
        "latency_p99_ms": pair(ours["latency_ms"]["p99"], peer["latency_ms"]["p99"]),
        "group_latency_p99_ms": pair(
            ours["group_latency_ms"]["p99"], peer["group_latency_ms"]["p99"]
        ),
        "delivered_ratio": {"ours": ours["delivered_ratio"], "peer": peer["delivered_ratio"]},
    }


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
    """The one summary table of a run, as printed (the peer's rows and the ratios too)."""
    info = result["machine"]
    rows: list[tuple[str, str]] = [
        (
            "code, date (UTC), machine",
            f"{info['code']}, {info['date_utc']}, {info['nproc']} x {info['cpu_model']}, "
            f"load avg {info['loadavg_at_start'][0]:.1f} at start",
        )
    ]
    if "idle" in result:
        rows += _side_rows(result, "")
    peer = result.get("peer")
    if peer and "idle" in peer:
        rows.append(("== peer", peer.get("name", "")))
        rows += _side_rows(peer, "peer: ")
    comparison = result.get("comparison")
    if comparison:
        rows.append(("== this project / peer (same workload, same run)", ""))
        for key, label, unit in (
            ("stored_delivered_per_s", "stored and delivered to all, msg/s", ""),
            ("stored_per_s", "stored (acks), msg/s", ""),
            ("latency_p50_ms", "1:1 send->receive p50", " ms"),
            ("latency_p99_ms", "1:1 send->receive p99", " ms"),
            ("group_latency_p99_ms", "group send->receive p99", " ms"),
        ):
            c = comparison[key]
            rows.append(
                (
                    label,
                    f"{_fmt(c['ours'], unit)} / {_fmt(c['peer'], unit)} = "
                    f"{_fmt(c['ratio'], 'x', 2)}",
                )
            )
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join([rule, *lines, rule])


def _side_rows(side: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    idle = side["idle"]
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
    if hold := idle.get("hold"):
        last = hold["rss_mib_every_30s"][-1] if hold["rss_mib_every_30s"] else {}
        rows.append(
            (
                f"held idle for {hold['seconds']:.0f} s: still open / dropped",
                f"{hold['still_open']:,} / {hold['dropped']:,}  (RSS at the end: "
                + ", ".join(f"{k} {v:.1f} MiB" for k, v in last.items())
                + ")",
            )
        )
    rows.append(("backend ops per connection opened", _ops(idle.get("backend_ops_per_connection"))))
    rows.append(
        ("store client connections open after connecting", _fmt(idle.get("store_connections_open")))
    )
    for key, when in (("store_ceiling", "empty store"), ("store_ceiling_before_load", "at load")):
        ceiling = side.get(key)
        if ceiling:
            rows.append(
                (
                    f"store ceiling ({when}): insert_one / send-path mix",
                    f"{ceiling['insert_per_s']:,.0f} /s  /  "
                    f"{ceiling['send_path_per_s']:,.0f} msg/s",
                )
            )
    load = side.get("load")
    if load:
        rows += _load_rows(load)
        per_message = load.get("cpu_ms_per_stored_message", {})
        for name, share in side.get("cpu_during_load", {}).items():
            cost = per_message.get(name)
            rows.append(
                (
                    f"CPU during load: {name}",
                    f"{share:4.0f} % of one core"
                    + (f"  ({cost:.2f} ms per stored message)" if cost is not None else ""),
                )
            )
    return [(prefix + label, value) for label, value in rows]


def _load_rows(load: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [("target", load["target"])]
    rows.append(("messages sent / per s", f"{load['sent']:,} / {_fmt(load['sent_per_s'])}"))
    rows.append(("  of them to groups", _fmt(load.get("group_sent"))))
    rows.append(
        ("messages stored (acks) / per s", f"{load['acked']:,} / {_fmt(load['stored_per_s'])}")
    )
    rows.append(
        (
            "messages stored and delivered to all / per s",
            f"{load['complete']:,} / {_fmt(load['stored_delivered_per_s'])}",
        )
    )
    rows.append(
        (
            "1:1 messages delivered cross-hub / per s",
            f"{load['delivered_peer']:,} / {_fmt(load['delivered_per_s'])}",
        )
    )
    for key, label in (("latency_ms", "1:1 send->receive"), ("group_latency_ms", "group")):
        lat = load[key]
        rows.append(
            (
                f"{label} latency p50 / p99 / p99.9 / max",
                " / ".join(_fmt(lat[k], " ms") for k in ("p50", "p99", "p99.9", "max"))
                + f"  ({lat['samples']:,} samples)",
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
            "delivered / expected (every member's socket, echo included)",
            f"{ratio:.4f}  ({load['delivered']:,} / {load['expected']:,})"
            if ratio is not None
            else "-",
        )
    )
    rows.append(
        (
            "typing sent / received; reads sent / acked / events",
            f"{load['typing_sent']:,} / {load['typing_received']:,}; {load['reads_sent']:,} / "
            f"{load['read_acks']:,} / {load['read_events']:,}",
        )
    )
    rows.append(
        (
            "errors, unanswered, repeats, unexpected, dropped",
            f"{load['errors'] or 0}, {load['unanswered']}, {load['repeats']}, "
            f"{load['unexpected']}, {load['dropped']}",
        )
    )
    rows.append(("backend ops per stored message", _ops(load.get("backend_ops_per_message"))))
    return rows


def write_json(result: dict[str, Any], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
