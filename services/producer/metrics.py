"""Prometheus metrics of the producer."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Histogram

from services.common.metrics import serve_metrics
from services.producer.producer import VisitReport


@dataclass
class ProducerMetrics:
    alerts: Counter
    bytes: Counter
    visit_seconds: Histogram

    @classmethod
    def serve(cls, port: int, host: str = "127.0.0.1") -> ProducerMetrics:
        serve_metrics(port, host)
        return cls(
            Counter("alertdist_producer_alerts", "Alerts acknowledged by Kafka"),
            Counter("alertdist_producer_bytes", "Bytes of alerts acknowledged by Kafka"),
            Histogram(
                "alertdist_producer_visit_seconds",
                "Time to produce and flush one visit",
                buckets=(1, 2, 5, 10, 20, 37, 60, 120),
            ),
        )

    def record(self, report: VisitReport) -> None:
        self.alerts.inc(report.alerts)
        self.bytes.inc(report.bytes)
        self.visit_seconds.observe(report.seconds)
