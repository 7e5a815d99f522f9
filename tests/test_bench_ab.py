"""The arithmetic of ``bench.ab``: interleaving order, medians and ratios.

The runs themselves are whole benchmarks (bench/README.md); only what turns
their JSON into the comparison is checked here.
"""

from __future__ import annotations

from typing import Any

from bench.ab import figures, schedule, summary


def _result(stored: float, p99: float, cpu: dict[str, float]) -> dict[str, Any]:
    return {
        "load": {
            "stored_delivered_per_s": stored,
            "stored_per_s": stored,
            "latency_ms": {"p50": p99 / 2, "p99": p99},
            "errors": {"error:unavailable": 3},
            "unanswered": 0,
            "delivered_ratio": 1.0,
            "cpu_ms_per_stored_message": cpu,
        },
        "cpu_during_load": {"everything else on the machine": 4.0},
    }


def test_each_side_goes_first_equally_often() -> None:
    assert schedule(1) == ["A", "B"]
    assert schedule(3) == ["A", "B", "B", "A", "A", "B"]
    order = schedule(4)
    firsts = [order[i] for i in range(0, len(order), 2)]
    assert firsts.count("A") == firsts.count("B") == 2


def test_server_cpu_sums_hubs_store_and_redis_but_not_the_load_generators() -> None:
    row = figures(
        _result(
            400.0,
            900.0,
            {"hub-A": 0.75, "hub-B": 0.25, "store": 1.5, "redis": 0.5, "loadgen-0": 9.0},
        )
    )
    assert row["server_cpu_ms_per_msg"] == 3.0
    assert row["hubs_cpu_ms_per_msg"] == 1.0
    assert row["refused_unavailable"] == 3.0
    assert row["group_p99_ms"] is None


def test_summary_takes_medians_ranges_and_the_ratio_of_medians() -> None:
    cpu = {"hub-A": 1.0, "hub-B": 1.0, "store": 2.0, "redis": 0.0}
    runs = [
        {"side": side, "figures": figures(_result(stored, p99, cpu))}
        for side, stored, p99 in [
            ("A", 400.0, 100.0),
            ("B", 500.0, 90.0),
            ("B", 300.0, 70.0),
            ("A", 480.0, 300.0),
            ("A", 440.0, 200.0),
            ("B", 450.0, 80.0),
        ]
    ]
    out = summary(runs)
    assert out["A"]["stored_delivered_per_s"] == {"median": 440.0, "min": 400.0, "max": 480.0}
    assert out["B"]["p99_ms"] == {"median": 80.0, "min": 70.0, "max": 90.0}
    assert out["B/A"]["stored_delivered_per_s"] == 450.0 / 440.0
    assert out["B/A"]["p99_ms"] == 80.0 / 200.0
    assert "group_p99_ms" not in out["A"]  # no samples on either side: no figure, no ratio
    assert "group_p99_ms" not in out["B/A"]
