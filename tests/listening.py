"""What a process of ours listens on."""

from __future__ import annotations

import ipaddress

import psutil


def listening(pid: int) -> set[tuple[str, int]]:
    """The TCP addresses a process listens on (Java's IPv4-mapped IPv6 addresses as IPv4)."""
    found = set()
    for conn in psutil.Process(pid).net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN:
            address = ipaddress.ip_address(conn.laddr.ip)
            mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
            found.add((str(mapped or address), conn.laddr.port))
    return found
