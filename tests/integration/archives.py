"""An archive of its own beside the stack's: for tests that must not share the stack's archive."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from localfacility import objectstore
from localfacility.deploy import LocalDeployment
from localfacility.facility import LocalFacility
from localfacility.ports import free_port
from localfacility.services import ArchiveServices, Backend

from .kafka_helpers import delete_groups, end_offsets, start_group_at


@contextmanager
def separate_archive_on(
    facility: LocalFacility,
    alert_topics: list[str],
    backend: Backend,
    label: str,
    ingester_args: tuple[str, ...] = (),
    kafka_login: tuple[str, str] | None = None,
) -> Iterator[ArchiveServices]:
    """A second archive reading `alert_topics`: its own group (starting at the topics' current
    end), its own bucket (`alert-archive-<label>`) and ports. Not started; stopped and its group
    deleted afterwards."""
    services = ArchiveServices(
        LocalDeployment(facility),
        backend=backend,
        label=label,
        bucket=f"alert-archive-{label}",
        server_port=free_port(),
        metrics_port=free_port(),
        topics=tuple(alert_topics),
        ingester_args=ingester_args,
        kafka_login=kafka_login,
    )
    objectstore.ensure_buckets(facility.settings, facility.credentials, services.bucket)
    start_group_at(facility, services.ingester_name, end_offsets(facility, alert_topics))
    services.metrics_file.unlink(missing_ok=True)
    try:
        yield services
    finally:
        services.down()
        delete_groups(facility, [services.ingester_name])
