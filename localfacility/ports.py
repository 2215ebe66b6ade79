"""Free loopback ports for servers started beside the facility's own (by tests and benchmarks)."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free loopback ports, below the kernel's ephemeral range:
    a server restarted on them cannot find one taken by a client's outgoing connection (seen
    here: a Kafka node restarted after a fault failed to bind a port an outgoing socket held)."""
    ephemeral_start = int(EPHEMERAL.read_text().split()[0]) if EPHEMERAL.exists() else 32_768
    for _ in range(100):
        base = 10_000 + secrets.randbelow(ephemeral_start - 10_000 - count)
        probes = []
        try:
            for port in range(base, base + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        return base
    raise RuntimeError(f"no {count} consecutive free loopback ports found")
