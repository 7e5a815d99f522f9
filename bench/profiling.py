"""Reading what ``bench.hubrun`` wrote: cProfile stats and tracemalloc snapshots."""

from __future__ import annotations

import io
import pstats
import time
import tracemalloc
from pathlib import Path

__all__ = ["profile_summary", "tracemalloc_summary", "wait_for_file"]


def wait_for_file(path: Path, timeout: float = 60.0) -> bool:
    """True once ``path`` exists and its size stopped changing for half a second."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else -1
        if size > 0 and size == last:
            return True
        last = size
        time.sleep(0.5)
    return False


def profile_summary(path: Path, *, top: int = 30) -> str:
    """Top functions by own time, then by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def tracemalloc_summary(before: Path, after: Path, connections: int, *, top: int = 25) -> str:
    """Where the memory held by the new connections was allocated, per connection."""
    old = tracemalloc.Snapshot.load(str(before))
    new = tracemalloc.Snapshot.load(str(after))
    lines = []
    total = sum(s.size_diff for s in new.compare_to(old, "filename"))
    lines.append(
        f"traced growth: {total / 1024:,.0f} KiB = {total / 1024 / max(1, connections):.2f} KiB "
        f"per connection ({connections} connections)"
    )
    lines.append("\nby file:")
    for stat in new.compare_to(old, "filename")[:top]:
        frame = stat.traceback[0]
        lines.append(
            f"  {stat.size_diff / max(1, connections):8.0f} B/conn  "
            f"{stat.count_diff / max(1, connections):6.1f} blocks/conn  {frame.filename}"
        )
    lines.append("\nby line:")
    for stat in new.compare_to(old, "lineno")[:top]:
        frame = stat.traceback[0]
        lines.append(
            f"  {stat.size_diff / max(1, connections):8.0f} B/conn  "
            f"{stat.count_diff / max(1, connections):6.1f} blocks/conn  "
            f"{frame.filename}:{frame.lineno}"
        )
    return "\n".join(lines)
