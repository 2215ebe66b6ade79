"""The ingester's figures, on its metrics port and in its metrics file, under the same names."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.archive_ingester.cli import IngestCollector, write_metrics
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
    served = _samples(generate_latest(registry).decode())
    write_metrics(tmp_path / "ingester.prom", stats)
    written = _samples((tmp_path / "ingester.prom").read_text())
    assert served == written
    assert served["alertdist_archive_alerts_total"] == 1200
    assert served["alertdist_archive_retries_total"] == 2
