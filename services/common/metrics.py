"""Prometheus metrics served on their own port, apart from any public API."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server


def serve_metrics(port: int, host: str = "127.0.0.1", registry: CollectorRegistry = REGISTRY) -> None:
    """Serve /metrics on host:port in a background thread (0.0.0.0 in a pod, for the scraper)."""
    start_http_server(port, addr=host, registry=registry)
