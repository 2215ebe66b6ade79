"""The benchmark's arithmetic: percentiles, mean and sd over repeated runs, a visit's summary."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any


def run_stats(runs: list[dict[str, float]]) -> dict[str, Any]:
    return {
        key: {
            "mean": statistics.mean(r[key] for r in runs),
            "stdev": statistics.stdev(r[key] for r in runs) if len(runs) > 1 else 0.0,
            "runs": [r[key] for r in runs],
        }
        for key in runs[0]
    }


def visit_stats(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and sd over repeated visits of each figure (latency percentiles flattened)."""
    flat = [
        {
            **{k: v for k, v in summary.items() if isinstance(v, int | float)},
            **{f"latency_{q}_ms": ms for q, ms in summary["latency_ms"].items()},
        }
        for summary in summaries
    ]
    return run_stats(flat)


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class VisitResult:
    alerts: int
    first_id: int
    produce_seconds: float
    delivered_seconds: float
    archived_seconds: float
    latencies_ms: list[float] = field(repr=False)
    lag_series: list[tuple[float, int]] = field(repr=False)
    resources: dict[str, dict[str, float]]
    mean_alert_bytes: float

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        megabytes = self.alerts * self.mean_alert_bytes / 1e6
        return {
            "alerts": self.alerts,
            "deliveries": len(ordered),
            "produce_seconds": self.produce_seconds,
            "producer_alerts_per_s": self.alerts / self.produce_seconds,
            "delivered_to_all_seven_seconds": self.delivered_seconds,
            "fan_out_mb_per_s": 7 * megabytes / self.delivered_seconds,
            "latency_ms": {
                "p50": percentile(ordered, 0.5),
                "p98": percentile(ordered, 0.98),
                "p99": percentile(ordered, 0.99),
                "max": ordered[-1],
            },
            "archived_seconds": self.archived_seconds,
            "archive_alerts_per_s": self.alerts / self.archived_seconds,
            "archive_max_lag_alerts": max(lag for _, lag in self.lag_series),
            "visit_done_seconds": max(self.delivered_seconds, self.archived_seconds),
            "resources": self.resources,
        }
