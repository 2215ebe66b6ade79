"""The archive server under load from wrk (a C load generator: it costs the box little, and its
own CPU is reported): single alerts at 64 connections, and the bulk route."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import psutil

from alertdist_common.bulk import read_frames

# wrk calls request() for each request and done() once; done() prints one JSON line. Requests are
# formatted in request(), once wrk has set the Host header, not at load time.
WRK_SCRIPT = """
local requests = {%(requests)s}
local i = 0
request = function()
  i = i %% #requests + 1
  return wrk.format(unpack(requests[i]))  -- wrk runs LuaJIT (Lua 5.1)
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRK {"requests": %%d, "seconds": %%.3f, "bytes": %%d, "non_2xx": %%d, "socket_errors": %%d, '
      .. '"p50_ms": %%.2f, "p99_ms": %%.2f, "max_ms": %%.2f}\\n',
    summary.requests, summary.duration / 1e6, summary.bytes, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def _cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each process and its children."""
    seconds = {}
    for name, pid in pids.items():
        try:
            tree = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
            seconds[name] = sum(p.cpu_times().user + p.cpu_times().system for p in tree)
        except psutil.Error:
            continue
    return seconds


def _lua_request(path: str, body: dict[str, Any] | None) -> str:
    """wrk.format's arguments, as a Lua table."""
    if body is None:
        return f'{{"GET", {json.dumps(path)}}}'
    headers = '{["Content-Type"] = "application/json"}'
    return f'{{"POST", {json.dumps(path)}, {headers}, {json.dumps(json.dumps(body))}}}'


def wrk(
    url: str,
    requests: list[tuple[str, dict[str, Any] | None]],
    connections: int,
    seconds: int,
    servers: dict[str, int],
) -> dict[str, Any]:
    """wrk sending `requests` (path, JSON body or None for a GET) round-robin for `seconds`; its
    figures, its own CPU and the servers' CPU over the run."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"requests": ", ".join(_lua_request(p, b) for p, b in requests)})
    try:
        before = _cpu_seconds(servers)
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, url]
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        output = process.stdout.read() if process.stdout else ""
        process.returncode = os.waitstatus_to_exitcode(status)
        after = _cpu_seconds(servers)
    finally:
        Path(script.name).unlink()
    if process.returncode != 0 or "WRK " not in output:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output[-2000:]}")
    figures: dict[str, Any] = json.loads(output.split("WRK ", 1)[1].splitlines()[0])
    figures["requests_per_s"] = round(figures["requests"] / figures["seconds"], 1)
    figures["connections"] = connections
    figures["wrk_cpu_percent"] = round((usage.ru_utime + usage.ru_stime) / figures["seconds"] * 100, 1)
    figures["server_cpu_percent"] = {
        name: round((after[name] - before[name]) / figures["seconds"] * 100, 1)
        for name in before
        if name in after
    }
    return figures


def archive_server(url: str, ids: list[int], servers: dict[str, int], seconds: int) -> dict[str, Any]:
    """Single alerts at 64 connections, then bulk requests of 100 ids at 8, after checking that
    a bulk answer is byte-identical to the single route."""
    assert_bulk_matches_single(url, ids[:200])
    single = wrk(url, [(f"/v1/alerts/{i}", None) for i in ids], 64, seconds, servers)
    single["alerts_per_s"] = single["requests_per_s"]
    per_request = 100
    chunks = [ids[i : i + per_request] for i in range(0, len(ids) - per_request + 1, per_request)]
    bulk = wrk(url, [("/v1/bulk/alerts", {"ids": chunk}) for chunk in chunks], 8, seconds, servers)
    bulk["ids_per_request"] = per_request
    bulk["alerts_per_s"] = round(bulk["requests_per_s"] * per_request, 1)
    bulk["megabytes_per_s"] = round(bulk["bytes"] / bulk["seconds"] / 1e6, 1)
    return {"single": cpu_budget(single), "bulk": cpu_budget(bulk)}


def cpu_budget(figures: dict[str, Any]) -> dict[str, Any]:
    """Each process's CPU milliseconds per alert served (server, store and wrk), and the most
    alerts/s this box's cores could serve at that cost, were every core busy with nothing else."""
    percents = {**figures["server_cpu_percent"], "wrk": figures["wrk_cpu_percent"]}
    per_alert = {name: percent * 10 / figures["alerts_per_s"] for name, percent in percents.items()}
    total = sum(per_alert.values())
    figures["cpu_ms_per_alert"] = {name: round(ms, 3) for name, ms in per_alert.items()} | {
        "total": round(total, 3)
    }
    figures["alerts_per_s_if_every_core_served"] = round((os.cpu_count() or 1) * 1000 / total)
    return figures


def assert_bulk_matches_single(url: str, ids: list[int]) -> None:
    """Every alert of a bulk answer byte for byte as GET /v1/alerts/{id} returns it."""
    with httpx.Client(base_url=url, timeout=60) as client:
        answer = client.post("/v1/bulk/alerts", json={"ids": ids})
        answer.raise_for_status()
        for dia_source_id, alert in read_frames(answer.content):
            single = client.get(f"/v1/alerts/{dia_source_id}")
            if alert is None or single.content != alert:
                raise RuntimeError(f"bulk answer for {dia_source_id} differs from the single route")
