"""The archive benchmark's CPU budget: what each process costs an alert served."""

from __future__ import annotations

import os

import pytest

from benchmarks.archive_load import cpu_budget


def test_each_process_cost_per_alert_and_the_most_the_cores_could_serve() -> None:
    figures = cpu_budget(
        {
            "alerts_per_s": 1000.0,
            "server_cpu_percent": {"archive-server": 110.0, "s3": 40.0},
            "wrk_cpu_percent": 5.0,
        }
    )
    assert figures["cpu_ms_per_alert"] == {"archive-server": 1.1, "s3": 0.4, "wrk": 0.05, "total": 1.55}
    assert figures["alerts_per_s_if_every_core_served"] == round((os.cpu_count() or 1) * 1000 / 1.55)


def test_twice_the_rate_at_the_same_cpu_halves_the_cost() -> None:
    slow = cpu_budget({"alerts_per_s": 500.0, "server_cpu_percent": {"gcs": 50.0}, "wrk_cpu_percent": 0.0})
    fast = cpu_budget({"alerts_per_s": 1000.0, "server_cpu_percent": {"gcs": 50.0}, "wrk_cpu_percent": 0.0})
    assert fast["cpu_ms_per_alert"]["total"] == pytest.approx(slow["cpu_ms_per_alert"]["total"] / 2)
