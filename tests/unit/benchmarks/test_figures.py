"""The benchmark's arithmetic on known inputs (its timings are reported, never asserted)."""

from __future__ import annotations

import pytest

from benchmarks.figures import VisitResult, run_stats, visit_stats


def test_visit_summary_percentiles_and_rates() -> None:
    visit = VisitResult(
        alerts=100,
        first_id=1,
        produce_seconds=2.0,
        delivered_seconds=4.0,
        archived_seconds=5.0,
        latencies_ms=[float(ms) for ms in range(1, 701)],  # 7 brokers x 100 alerts
        lag_series=[(0.5, 80), (1.0, 30), (1.5, 0)],
        resources={},
        mean_alert_bytes=80_000,
    )
    summary = visit.summary()
    assert summary["latency_ms"] == {"p50": 351.0, "p98": 687.0, "p99": 694.0, "max": 700.0}
    assert summary["producer_alerts_per_s"] == 50
    assert summary["fan_out_mb_per_s"] == pytest.approx(7 * 100 * 0.08 / 4.0)
    assert summary["archive_max_lag_alerts"] == 80
    assert summary["visit_done_seconds"] == 5.0


def test_stats_over_repeated_runs() -> None:
    stats = run_stats([{"alerts_per_s": 10.0}, {"alerts_per_s": 14.0}])
    assert stats["alerts_per_s"]["mean"] == 12.0
    assert stats["alerts_per_s"]["stdev"] == pytest.approx(2.828, abs=1e-3)
    assert run_stats([{"x": 3.0}])["x"]["stdev"] == 0.0


def test_visit_stats_over_repeats_flatten_the_latency_percentiles() -> None:
    runs = [
        {"alerts": 10, "visit_done_seconds": 20.0, "latency_ms": {"p50": 1.0, "p98": 4.0}, "resources": {}},
        {"alerts": 10, "visit_done_seconds": 30.0, "latency_ms": {"p50": 3.0, "p98": 6.0}, "resources": {}},
    ]
    stats = visit_stats(runs)
    assert set(stats) == {"alerts", "visit_done_seconds", "latency_p50_ms", "latency_p98_ms"}
    assert stats["visit_done_seconds"]["mean"] == 25.0
    assert stats["latency_p98_ms"] == {
        "mean": 5.0,
        "stdev": pytest.approx(1.4142, abs=1e-4),
        "runs": [4.0, 6.0],
    }
