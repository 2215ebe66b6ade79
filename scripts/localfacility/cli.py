"""`alertdist-facility up|down|status|endpoints`: operate the local facility."""

from __future__ import annotations

import argparse
import sys
import time

from localfacility.facility import LocalFacility, ServiceStatus
from localfacility.install import InstallError, install_all
from localfacility.process import ServiceError
from localfacility.settings import FacilitySettings


def _print_status(services: list[ServiceStatus]) -> None:
    for service in services:
        state = "ready" if service.ready else ("running, not answering" if service.pid else "stopped")
        pid = service.pid if service.pid is not None else "-"
        print(f"  {service.name:<16} pid {pid!s:<8} {state}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alertdist-facility", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("install", help="install the pinned servers (Kafka, registry, S3, GCS)")
    commands.add_parser("up", help="install what is missing, start everything, wait until it answers")
    down = commands.add_parser("down", help="stop the facility's own processes")
    down.add_argument("--purge", action="store_true", help="also delete data, config and credentials")
    commands.add_parser("status", help="say what runs; exit 1 unless everything answers")
    commands.add_parser("endpoints", help="print the endpoints as JSON (no secrets)")
    args = parser.parse_args(argv)

    facility = LocalFacility(FacilitySettings())
    if args.command == "install":
        try:
            installed = install_all(facility.settings)
        except InstallError as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print("installed: " + (", ".join(installed) if installed else "everything was up to date"))
        return 0
    if args.command == "up":
        started = time.monotonic()
        try:
            services = facility.up()
        except (InstallError, ServiceError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(f"local facility up in {time.monotonic() - started:.1f} s")
        _print_status(services)
        print(facility.endpoints().model_dump_json(indent=2))
        return 0
    if args.command == "down":
        stopped = facility.down(purge=args.purge)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.command == "status":
        services = facility.status()
        _print_status(services)
        return 0 if all(service.ready for service in services) else 1
    print(facility.endpoints().model_dump_json(indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
