"""Benchmark of the image pipeline on a 12-megapixel phone photo (not a test).

Run from the repository root with the venv active::

    python -m bench.attachments_pipeline                # 7 timed runs, 12 images on 2 workers
    python -m bench.attachments_pipeline --runs 15 --images 24 --workers 2

It makes one phone-style JPEG (4000x3000, gradients, shapes and sensor-like
noise so it compresses like a photo, EXIF with camera and GPS tags and
orientation 6, as a phone held upright writes it) and measures:

1. **time per image**: ``process_image`` in this process, one image at a time,
   after one warm-up run (median, min, max over ``--runs``), and the peak RSS
   it adds to this process (VmHWM, reset through ``/proc/self/clear_refs``);
2. **images/s with both cores busy**: ``--images`` copies through
   ``ImageProcessor(max_workers=--workers)``, the product's worker pool, all
   submitted at once after the workers were started; the workers' CPU use;
3. **peak memory of the workers**: each worker's RSS high-water mark (VmHWM
   from ``/proc/<pid>/status``) and its RSS once started, before any image;
4. **event-loop lag**: a task sleeping 10 ms in a loop, idle and then while the
   pool runs, as a stand-in for what chat traffic on the same loop sees (the
   end-to-end chat latency under uploads needs the server; not measured here).

Prints one table and writes the figures to
``bench/results/attachments-<UTC timestamp>.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/attachments_pipeline.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pillow_heif
import psutil
from PIL import Image, ImageDraw, features

from bench.report import machine as report_machine
from chat_service.attachments.images import ImageLimits, ImageProcessor, process_image

RESULTS = Path(__file__).resolve().parent / "results"
GPS_IFD = 0x8825


def phone_photo(width: int = 4000, height: int = 3000, quality: int = 92) -> bytes:
    """Smooth gradients, a few shapes and noise; EXIF as a phone writes it."""
    size = (width, height)
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.linear_gradient("L").rotate(90).resize(size),
        ),
    )
    draw = ImageDraw.Draw(base)
    for i in range(40):
        x, y = (i * 7919) % width, (i * 104729) % height
        box = (x, y, x + width // (4 + i % 5), y + height // (3 + i % 4))
        draw.ellipse(box, fill=((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
    noise = Image.effect_noise(size, 30).convert("RGB")
    photo = Image.blend(base, noise, 0.18)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x0110] = "Phone 15"
    exif[0x0112] = 6
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)}
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=quality, exif=exif, subsampling="4:2:0")
    return out.getvalue()


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's VmHWM (Linux >= 4.0); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_in_process(data: bytes, runs: int, limits: ImageLimits) -> dict[str, Any]:
    process_image(data, limits)  # warm-up: plugin loading, first allocations
    rss_before = _status_kib("self", "VmRSS") or 0
    reset = _reset_peak_rss()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        result = process_image(data, limits)
        seconds.append(time.perf_counter() - started)
    peak = _status_kib("self", "VmHWM") if reset else None
    return {
        "runs": runs,
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "peak_rss_added_mib": (peak - rss_before) / 1024 if peak else None,
        "renditions": {
            name: {"size": f"{r.width}x{r.height}", "bytes": len(r.data), "type": r.content_type}
            for name, r in result.renditions.items()
        },
        "upright_size": f"{result.width}x{result.height}",
    }


def _busy_seconds() -> float:
    """CPU seconds the whole machine spent busy (all cores)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _workers() -> list[psutil.Process]:
    """The pool's workers: our grandchildren (children of the forkserver)."""
    me = os.getpid()
    return [p for p in psutil.Process().children(recursive=True) if p.ppid() != me]


async def _ticker(stop: asyncio.Event, lags: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - started - 0.01) * 1000)


def _lag_summary(lags: list[float]) -> dict[str, float | None]:
    ordered = sorted(lags)
    if not ordered:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": ordered[len(ordered) // 2],
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max_ms": ordered[-1],
    }


async def measure_pool(
    data: bytes, images: int, workers: int, limits: ImageLimits
) -> dict[str, Any]:
    processor = ImageProcessor(limits, max_workers=workers)
    try:
        await processor.start()
        await asyncio.sleep(0.5)
        pool = _workers()
        rss_started = {p.pid: p.memory_info().rss / 2**20 for p in pool}
        idle_lags: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(_ticker(stop, idle_lags))
        await asyncio.sleep(2.0)
        stop.set()
        await tick

        cpu_before = {p.pid: sum(p.cpu_times()[:2]) for p in pool}
        machine_before, me_before = _busy_seconds(), sum(psutil.Process().cpu_times()[:2])
        busy_lags: list[float] = []
        stop = asyncio.Event()
        tick = asyncio.create_task(_ticker(stop, busy_lags))
        started = time.perf_counter()
        results = await asyncio.gather(*(processor.process(data) for _ in range(images)))
        wall = time.perf_counter() - started
        stop.set()
        await tick
        assert all(r.width == 3000 for r in results)
        cpu = {p.pid: sum(p.cpu_times()[:2]) - cpu_before[p.pid] for p in pool}
        me = sum(psutil.Process().cpu_times()[:2]) - me_before
        others = _busy_seconds() - machine_before - sum(cpu.values()) - me
        peaks = {p.pid: (_status_kib(p.pid, "VmHWM") or 0) / 1024 for p in pool}
    finally:
        processor.close()
    return {
        "workers": workers,
        "images": images,
        "wall_s": wall,
        "images_per_s": images / wall,
        "worker_cpu_share": {str(pid): cpu[pid] / wall for pid in cpu},
        "worker_cpu_s_per_image": sum(cpu.values()) / images,
        "bench_process_cpu_share": me / wall,
        "everything_else_cpu_share": max(0.0, others / wall),
        "worker_rss_started_mib": {str(pid): v for pid, v in rss_started.items()},
        "worker_peak_rss_mib": {str(pid): v for pid, v in peaks.items()},
        "worker_memory_cap_mib": processor.worker_memory_bytes / 2**20,
        "loop_lag_idle": _lag_summary(idle_lags),
        "loop_lag_during_pool": _lag_summary(busy_lags),
    }


def machine() -> dict[str, Any]:
    """The machine as every bench reports it, plus the image libraries."""
    return {
        **report_machine(),
        "pillow": Image.__version__,
        "libjpeg": features.version("jpg"),
        "pillow_heif": pillow_heif.__version__,
    }


def table(result: dict[str, Any]) -> str:
    local, pool = result["in_process"], result["pool"]
    photo = result["photo"]
    peaks = pool["worker_peak_rss_mib"].values()
    started = pool["worker_rss_started_mib"].values()
    rows = [
        (
            "machine",
            f"{result['machine']['nproc']} x {result['machine']['cpu_model']}, "
            f"load avg {result['machine']['loadavg_at_start'][0]:.1f} at start",
        ),
        (
            "photo",
            f"{photo['size']} JPEG q{photo['quality']}, {photo['bytes'] / 2**20:.2f} MiB, "
            "EXIF with GPS, orientation 6",
        ),
        (
            "renditions (upright)",
            ", ".join(
                f"{n} {r['size']} {r['bytes'] / 1024:,.0f} KiB"
                for n, r in local["renditions"].items()
            ),
        ),
        (
            "time per image, in process (median / min / max)",
            f"{local['median_s'] * 1000:,.0f} / {local['min_s'] * 1000:,.0f} / "
            f"{local['max_s'] * 1000:,.0f} ms over {local['runs']} runs",
        ),
        (
            "peak RSS added in process",
            f"{local['peak_rss_added_mib']:.0f} MiB"
            if local["peak_rss_added_mib"] is not None
            else "-",
        ),
        (
            f"images/s, pool of {pool['workers']} ({pool['images']} images)",
            f"{pool['images_per_s']:.2f} /s  ({pool['wall_s']:.1f} s wall; "
            f"{pool['worker_cpu_s_per_image'] * 1000:,.0f} ms of worker CPU per image)",
        ),
        (
            "CPU during the pool run: workers; other users",
            ", ".join(f"{v * 100:.0f} %" for v in pool["worker_cpu_share"].values())
            + f" of a core; {pool['everything_else_cpu_share'] * 100:.0f} % of a core",
        ),
        (
            "worker RSS: started / peak (VmHWM)",
            " / ".join(f"{v:.0f}" for v in started)
            + " MiB started, "
            + " / ".join(f"{v:.0f}" for v in peaks)
            + f" MiB peak "
            f"(cap {pool['worker_memory_cap_mib']:,.0f} MiB of address space)",
        ),
        ("event-loop lag idle p50 / p99 / max", _lags(pool["loop_lag_idle"])),
        ("event-loop lag during pool p50 / p99 / max", _lags(pool["loop_lag_during_pool"])),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label.ljust(width)}  {value}" for label, value in rows]
    rule = "-" * max(len(line) for line in lines)
    return "\n".join([rule, *lines, rule])


def _lags(lag: dict[str, float | None]) -> str:
    return " / ".join("-" if v is None else f"{v:.1f}" for v in lag.values()) + " ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.attachments_pipeline", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=7, help="timed in-process runs")
    parser.add_argument("--images", type=int, default=12, help="images through the pool")
    parser.add_argument("--workers", type=int, default=2, help="pool worker processes")
    parser.add_argument("--quality", type=int, default=92, help="JPEG quality of the photo")
    args = parser.parse_args(argv)

    result: dict[str, Any] = {"machine": machine()}
    print("[bench] making the photo", file=sys.stderr, flush=True)
    data = phone_photo(quality=args.quality)
    result["photo"] = {"size": "4000x3000", "quality": args.quality, "bytes": len(data)}
    limits = ImageLimits()
    print(f"[bench] {args.runs} runs in process", file=sys.stderr, flush=True)
    result["in_process"] = measure_in_process(data, args.runs, limits)
    print(f"[bench] {args.images} images on {args.workers} workers", file=sys.stderr, flush=True)
    result["pool"] = asyncio.run(measure_pool(data, args.images, args.workers, limits))

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"attachments-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(table(result))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
