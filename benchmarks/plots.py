"""The benchmark's figures as one PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.figures import VisitResult


def plot(results: dict[str, Any], visits: dict[int, VisitResult], stem: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    sizes = list(results["producer"]["visits"])
    for offset, (key, label) in enumerate(
        [("ours", "alertdist-producer"), ("kafka_producer_perf_test", "kafka-producer-perf-test")]
    ):
        means = [results["producer"]["visits"][s][key]["alerts_per_s"]["mean"] for s in sizes]
        errors = [results["producer"]["visits"][s][key]["alerts_per_s"]["stdev"] for s in sizes]
        axes[0].bar([i + offset * 0.4 for i in range(len(sizes))], means, 0.4, yerr=errors, label=label)
    axes[0].set_xticks([i + 0.2 for i in range(len(sizes))], [f"{int(s):,} alerts" for s in sizes])
    axes[0].set_ylabel("alerts/s")
    axes[0].set_title("Producer throughput (mean ± sd)")
    axes[0].legend()
    for count, visit in visits.items():
        ordered = sorted(visit.latencies_ms)
        axes[1].plot(
            [ms / 1000 for ms in ordered],
            [i / len(ordered) for i in range(len(ordered))],
            label=f"{count:,} alerts",
        )
        axes[2].plot(
            [t for t, _ in visit.lag_series], [lag for _, lag in visit.lag_series], label=f"{count:,} alerts"
        )
    axes[1].set_xlabel("produce → consumed and decoded (s)")
    axes[1].set_ylabel("fraction of deliveries (7 brokers)")
    axes[1].set_title("End-to-end latency")
    axes[1].legend()
    axes[2].set_xlabel("seconds since the visit began")
    axes[2].set_ylabel("alerts not yet archived")
    axes[2].set_title("Archive ingest lag")
    axes[2].legend()
    figure.tight_layout()
    path = stem.with_suffix(".png")
    figure.savefig(path, dpi=110)
    return path
