"""The archive server under concurrent GETs."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from benchmarks.figures import percentile
from benchmarks.harness import Local


async def _load(url: str, paths: list[str], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while not queue.empty():
                path = queue.get_nowait()
                started = time.perf_counter()
                response = await client.get(path, headers={"Accept-Encoding": "gzip"})
                response.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def archive_server(local: Local, ids: list[int], concurrency: int, requests: int) -> dict[str, Any]:
    paths = [f"/v1/alerts/{ids[i % len(ids)]}" for i in range(requests)]
    began = time.perf_counter()
    latencies = sorted(asyncio.run(_load(local.outputs.archive_url, paths, concurrency)))
    seconds = time.perf_counter() - began
    return {
        "requests": requests,
        "concurrency": concurrency,
        "requests_per_s": requests / seconds,
        "latency_ms": {
            "p50": percentile(latencies, 0.5),
            "p99": percentile(latencies, 0.99),
            "max": latencies[-1],
        },
    }
