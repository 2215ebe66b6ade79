"""The archive's per-alert gzip cost: zlib level 1 against ISA-L igzip (what the ingester uses).

uv run python -m benchmarks.compression    # prints and writes benchmarks/results/compression.json
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable

from benchmarks.harness import publish
from services.common.storage import compress_alert
from services.producer.alerts import AlertFactory


def cost(alerts: list[bytes], compress: Callable[[bytes], bytes], rounds: int = 5) -> dict[str, float]:
    """Best-of-rounds milliseconds per alert, and the compressed/original size ratio."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        compressed = [compress(alert) for alert in alerts]
        best = min(best, time.perf_counter() - started)
    return {
        "ms_per_alert": best / len(alerts) * 1000,
        "size_ratio": sum(map(len, compressed)) / sum(map(len, alerts)),
    }


def main() -> int:
    factory = AlertFactory.from_package()
    alerts = [factory.encoded(10**12 + i) for i in range(200)]
    publish(
        "compression",
        {
            "alerts": len(alerts),
            "mean_alert_bytes": sum(map(len, alerts)) / len(alerts),
            "zlib_gzip_level_1": cost(alerts, lambda a: gzip.compress(a, compresslevel=1, mtime=0)),
            "isal_igzip_level_1 (compress_alert)": cost(alerts, compress_alert),
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
