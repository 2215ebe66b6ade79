"""Prometheus metrics served on their own port, apart from any public API."""

from __future__ import annotations

import argparse

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server


def add_metrics_arguments(parser: argparse.ArgumentParser) -> None:
    """--metrics-port and --metrics-host, the same for every service."""
    parser.add_argument("--metrics-port", type=int, default=0, help="serve Prometheus metrics here (0: off)")
    parser.add_argument(
        "--metrics-host", default="127.0.0.1", help="address for the metrics port (0.0.0.0 in a pod)"
    )


def serve_metrics(port: int, host: str = "127.0.0.1", registry: CollectorRegistry = REGISTRY) -> None:
    """Serve /metrics on host:port in a background thread (0.0.0.0 in a pod, for the scraper)."""
    start_http_server(port, addr=host, registry=registry)
