"""`alertdist-facility up|down|status|endpoints`: operate the local facility."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from pulumi import automation as auto

from alertdist_common.outputs import StackOutputs
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility, ServiceStatus
from localfacility.install import InstallError, install_all, install_engine, install_kubernetes, install_kwok
from localfacility.kubernetes import KubectlError, LocalKubernetes
from localfacility.process import ServiceError
from localfacility.render import render_stack
from localfacility.services import ArchiveServices
from localfacility.settings import FacilitySettings


def _print_status(services: list[ServiceStatus]) -> None:
    for service in services:
        state = "ready" if service.ready else ("running, not answering" if service.pid else "stopped")
        pid = service.pid if service.pid is not None else "-"
        print(f"  {service.name:<16} pid {pid!s:<8} {state}")


def _install(facility: LocalFacility, args: argparse.Namespace) -> int:
    try:
        installed = install_all(facility.settings, test_tools=args.test_tools)
    except InstallError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("installed: " + (", ".join(installed) if installed else "everything was up to date"))
    return 0


def _up(facility: LocalFacility, _args: argparse.Namespace) -> int:
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


def _down(facility: LocalFacility, args: argparse.Namespace) -> int:
    # The archive services first: stopped after Kafka, they could not leave their group.
    stopped = ArchiveServices(LocalDeployment(facility)).down() + facility.down(purge=args.purge)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(facility: LocalFacility, _args: argparse.Namespace) -> int:
    services = facility.status()
    _print_status(services)
    return 0 if all(service.ready for service in services) else 1


def _endpoints(facility: LocalFacility, _args: argparse.Namespace) -> int:
    print(facility.endpoints().model_dump_json(indent=2))
    return 0


def _pulumi(facility: LocalFacility, args: argparse.Namespace) -> int:
    return LocalDeployment(facility).pulumi(args.arguments)


def _render(facility: LocalFacility, args: argparse.Namespace) -> int:
    install_engine(facility.settings, kubernetes_provider=True)
    work_dir = facility.settings.run_dir.parent / "render" / args.stack
    try:
        folder = render_stack(args.stack, work_dir, facility.settings.bin_dir)
    except auto.CommandError as error:
        print(f"error: the {args.stack} stack did not render: {error}", file=sys.stderr)
        return 1
    print(f"{len(list(folder.rglob('*.yaml')))} manifests of the {args.stack} stack in {folder}")
    return 0


def _services(facility: LocalFacility, args: argparse.Namespace) -> int:
    archive = ArchiveServices(LocalDeployment(facility), args.archive)
    if args.action == "down":
        stopped = archive.down()
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    try:
        archive.up()
    except (ServiceError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"archive ingester and server up ({args.archive}); archive at {archive.archive_url()}")
    return 0


def _kubernetes(facility: LocalFacility, args: argparse.Namespace) -> int:
    cluster = LocalKubernetes(facility.settings)
    if args.action == "down":
        stopped = cluster.down(purge=args.purge)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.action == "status":
        up = cluster.is_up()
        print(f"local Kubernetes {'ready' if up else 'not running'}; KUBECONFIG={cluster.kubeconfig}")
        return 0 if up else 1
    try:
        install_kubernetes(facility.settings)
        install_kwok(facility.settings)
        cluster.up()
    except (InstallError, ServiceError, KubectlError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"local Kubernetes up at {cluster.server}, {cluster.nodes} KWOK nodes")
    print(f"  export KUBECONFIG={cluster.kubeconfig} PATH={facility.settings.bin_dir}:$PATH")
    return 0


def parser() -> argparse.ArgumentParser:
    """The command line: each subcommand names the function that runs it."""
    root = argparse.ArgumentParser(prog="alertdist-facility", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    install = commands.add_parser("install", help="install the pinned servers (Kafka, registry, S3, GCS)")
    install.add_argument(
        "--test-tools",
        action="store_true",
        help="also build what only the tests use: the Kubernetes provider and the local Kubernetes "
        "with KWOK (the facility stacks rendered and previewed), actionlint (the workflows), promtool "
        "(the alerting rules)",
    )
    install.set_defaults(run=_install)
    commands.add_parser(
        "up", help="install what is missing, start everything, wait until it answers"
    ).set_defaults(run=_up)
    down = commands.add_parser("down", help="stop the facility's own processes (archive services first)")
    down.add_argument("--purge", action="store_true", help="also delete data, config and credentials")
    down.set_defaults(run=_down)
    commands.add_parser("status", help="say what runs; exit 1 unless everything answers").set_defaults(
        run=_status
    )
    commands.add_parser("endpoints", help="print the endpoints as JSON (no secrets)").set_defaults(
        run=_endpoints
    )
    deploy = commands.add_parser(
        "deploy", help="deploy the local stack: topics, users, ACLs, schemas, buckets"
    )
    deploy.add_argument("--destroy", action="store_true", help="remove what the deploy made")
    deploy.set_defaults(run=lambda facility, args: _deploy(facility, args.destroy))
    engine = commands.add_parser(
        "pulumi",
        help="the Pulumi CLI on this facility's backend, in its project folder (e.g. preview --stack local)",
    )
    engine.add_argument("arguments", nargs=argparse.REMAINDER)
    engine.set_defaults(run=_pulumi)
    render = commands.add_parser(
        "render",
        help="`pulumi up` of a facility stack in render mode: its manifests as YAML, nothing applied",
    )
    render.add_argument("stack", choices=["idf", "usdf"])
    render.set_defaults(run=_render)
    archive = commands.add_parser("services", help="start or stop the archive ingester and server")
    archive.add_argument("action", choices=["up", "down"])
    archive.add_argument("--archive", choices=["s3", "gcs"], default="s3", help="the archive's object store")
    archive.set_defaults(run=_services)
    kubernetes = commands.add_parser(
        "kubernetes", help="a Kubernetes of the facility's own (control plane + KWOK) for the facility stacks"
    )
    kubernetes.add_argument("action", choices=["up", "down", "status"])
    kubernetes.add_argument("--purge", action="store_true", help="with down: also delete the cluster's state")
    kubernetes.set_defaults(run=_kubernetes)
    stream = commands.add_parser("stream", help="stream visits of alerts with the producer's own user")
    stream.add_argument("--alerts", type=int, default=1000, help="alerts per visit")
    stream.add_argument("--visits", type=int, default=1)
    stream.set_defaults(
        run=lambda facility, args: _stream(LocalDeployment(facility), args.alerts, args.visits)
    )
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.run(LocalFacility(FacilitySettings()), args))


def _stream(deployment: LocalDeployment, alerts: int, visits: int) -> int:
    """Run the producer's own entry point with the producer's credentials from the stack outputs."""
    if not deployment.outputs_file.exists():
        print("error: the local stack is not deployed: run `scripts/facility deploy`", file=sys.stderr)
        return 1
    outputs = StackOutputs.from_file(deployment.outputs_file)
    user = outputs.users_with_role("producer")[0]
    env = {
        **os.environ,
        "ALERTDIST_KAFKA_BOOTSTRAP": outputs.bootstrap_servers,
        "ALERTDIST_KAFKA_USERNAME": user,
        "ALERTDIST_KAFKA_PASSWORD": outputs.password(user),
    }
    argv = [sys.executable, "-m", "services.producer.cli", "--topic", outputs.alert_topics[0]]
    argv += ["--alerts-per-visit", str(alerts), "--visits", str(visits), "--visit-interval", "37"]
    print(f"streaming {visits} visit(s) of {alerts} alerts to {outputs.alert_topics[0]}", flush=True)
    return subprocess.run(argv, env=env, check=False).returncode


def _deploy(facility: LocalFacility, destroy: bool) -> int:
    """`pulumi up --refresh` (or `destroy`) of the local stack, through the real engine."""
    deployment = LocalDeployment(facility)
    started = time.monotonic()
    try:
        report = deployment.destroy() if destroy else deployment.up()
    except auto.CommandError as error:
        print(f"error: pulumi {'destroy' if destroy else 'up'} failed: {error}", file=sys.stderr)
        return 1
    verb = "destroyed" if destroy else "deployed"
    print(f"local stack {verb} by the Pulumi engine in {time.monotonic() - started:.1f} s: {report}")
    if not destroy:
        print(f"stack outputs (with passwords, mode 0600): {deployment.outputs_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
