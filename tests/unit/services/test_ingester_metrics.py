"""The ingester's figures, on its metrics port and in its metrics file, under the same names."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.archive_ingester.cli import ALERT_AGE_METRIC, IngestCollector, write_metrics
from services.archive_ingester.ingester import IngestStats


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_the_port_and_the_file_carry_the_same_figures(tmp_path: Path) -> None:
    stats = IngestStats(alerts=1200, dead_letters=3, schemas=15, batches=4, retries=2)
    collector = IngestCollector()
    collector.stats = stats
    registry = CollectorRegistry()
    registry.register(collector)
    served = {
        name: value
        for name, value in _samples(generate_latest(registry).decode()).items()
        if not name.startswith(ALERT_AGE_METRIC)  # served only: the file holds the counters
    }
    write_metrics(tmp_path / "ingester.prom", stats)
    written = _samples((tmp_path / "ingester.prom").read_text())
    assert served == written
    assert served["alertdist_archive_alerts_total"] == 1200
    assert served["alertdist_archive_retries_total"] == 2


def test_alert_ages_are_a_histogram_around_the_delivery_target() -> None:
    """What the delivery-latency rule reads (infra/alerting.py): each bucket counts the alerts at
    most that old, +Inf all of them, and the sum is their total age."""
    stats = IngestStats()
    for seconds in (0.4, 3.0, 59.0, 61.0, 4000.0):
        stats.ages.observe(seconds)
    collector = IngestCollector()
    collector.stats = stats
    registry = CollectorRegistry()
    registry.register(collector)
    (family,) = (
        f
        for f in text_string_to_metric_families(generate_latest(registry).decode())
        if f.name == ALERT_AGE_METRIC
    )
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert buckets["1.0"] == 1
    assert buckets["5.0"] == 2
    assert buckets["60.0"] == 3
    assert buckets["90.0"] == 4
    assert buckets["600.0"] == 4
    assert buckets["+Inf"] == 5
    totals = {s.name: s.value for s in family.samples}
    assert totals[f"{ALERT_AGE_METRIC}_count"] == 5
    assert totals[f"{ALERT_AGE_METRIC}_sum"] == 4123.4
