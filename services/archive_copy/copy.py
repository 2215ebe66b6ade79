"""Copy the alert archive from one object store to another (IDF's GCS bucket to USDF's S3, or
Rubin's existing alert database into ours).

Both layouts are copied as they are, key for key: the v2 alerts and, from the schema bucket where
there is one, the v2 schemas; and the flat v1/ layout written before.

Every object is read, checked against the source's MD5, and written with that MD5 for the target
to verify; a final listing of the target proves each object arrived with the same bytes. The
target is its own record of progress: a run that was interrupted, or run again, copies only what
is missing or differs there. Objects are written whole (a put is atomic), so an interrupted run
leaves no partial object behind.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from alertdist_common.layout import ALERTS_PREFIX, FLAT_PREFIX, SCHEMAS_PREFIX
from services.common.storage import (
    ObjectInfo,
    ObjectStore,
    StoreUnavailableError,
    md5_hex,
    stored_metadata,
)

log = logging.getLogger("alertdist.archive_copy")


class ChecksumMismatchError(RuntimeError):
    """The bytes read do not match the checksum the store listed for them."""


@dataclass(frozen=True)
class CopyPlan:
    """Which source objects to copy, and which the target already holds with the same bytes."""

    to_copy: list[ObjectInfo]
    present: list[ObjectInfo]
    differing: list[str] = field(default_factory=list)

    @property
    def bytes_to_copy(self) -> int:
        return sum(info.size for info in self.to_copy)


def same_bytes(source: ObjectInfo, target: ObjectInfo | None) -> bool:
    """Whether the listings prove both objects hold the same bytes (unknown MD5s prove nothing)."""
    return (
        target is not None
        and source.md5 is not None
        and source.md5 == target.md5
        and source.size == target.size
    )


def plan_copy(source: Iterable[ObjectInfo], target: Iterable[ObjectInfo]) -> CopyPlan:
    """Copy what the target lacks or holds with other bytes; leave what it already has."""
    held = {info.key: info for info in target}
    to_copy, present, differing = [], [], []
    for info in sorted(source, key=lambda o: o.key):
        if same_bytes(info, held.get(info.key)):
            present.append(info)
            continue
        to_copy.append(info)
        if info.key in held:
            differing.append(info.key)
    return CopyPlan(to_copy, present, differing)


@dataclass
class CopyReport:
    """Counts and bytes of one run; ok only when every source object is verified in the target."""

    source_objects: int = 0
    source_bytes: int = 0
    already_present: int = 0
    copied: int = 0
    copied_bytes: int = 0
    replaced: int = 0
    verified: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    not_verified: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_verified and self.verified == self.source_objects

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}

    def summary(self) -> str:
        rate = self.copied_bytes / self.seconds / 1e6 if self.seconds else 0.0
        lines = [
            f"source: {self.source_objects} objects, {self.source_bytes} bytes",
            f"already in the target with the same bytes: {self.already_present}",
            f"copied: {self.copied} objects, {self.copied_bytes} bytes "
            f"({self.replaced} replaced differing copies) in {self.seconds:.1f} s, {rate:.1f} MB/s",
            f"verified by MD5 in the target: {self.verified} of {self.source_objects}",
        ]
        lines += [f"failed: {key}: {reason}" for key, reason in sorted(self.failed.items())]
        lines += [f"not verified: {key}" for key in self.not_verified]
        lines.append("archive copy complete" if self.ok else "archive copy INCOMPLETE: run it again")
        return "\n".join(lines)


@dataclass(frozen=True)
class Lane:
    """One part of the archive: a prefix, read from one bucket and written to another."""

    source: ObjectStore
    target: ObjectStore
    prefix: str


class ArchiveCopier:
    """Copies objects between two stores with a pool of workers, retrying passing failures.
    Schemas go from `source_schemas` to `target_schemas` (each defaults to its alert bucket)."""

    def __init__(
        self,
        source: ObjectStore,
        target: ObjectStore,
        workers: int = 16,
        attempts: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        source_schemas: ObjectStore | None = None,
        target_schemas: ObjectStore | None = None,
    ) -> None:
        if workers < 1 or attempts < 1:
            raise ValueError("workers and attempts must be at least 1")
        self.lanes = [
            Lane(source, target, FLAT_PREFIX),
            Lane(source, target, ALERTS_PREFIX),
            Lane(source_schemas or source, target_schemas or target, SCHEMAS_PREFIX),
        ]
        self.workers, self.attempts, self.backoff_s = workers, attempts, backoff_s
        self._sleep = sleep

    def copy_object(self, lane: Lane, info: ObjectInfo) -> str:
        """Copy one object, checked on both sides; returns the MD5 of its bytes."""
        content_type, content_encoding = stored_metadata(info.key)
        data = lane.source.get(info.key)
        if data is None:
            raise KeyError(f"{info.key} vanished from the source")
        digest = md5_hex(data)
        if len(data) != info.size or (info.md5 is not None and digest != info.md5):
            raise ChecksumMismatchError(
                f"read {len(data)} bytes with MD5 {digest}; "
                f"the source lists {info.size} bytes with MD5 {info.md5}"
            )
        lane.target.put(info.key, data, content_type, content_encoding, md5=digest)
        return digest

    def _copy_with_retries(self, lane: Lane, info: ObjectInfo) -> str:
        for attempt in range(1, self.attempts + 1):
            try:
                return self.copy_object(lane, info)
            except (StoreUnavailableError, ChecksumMismatchError) as exc:
                if attempt == self.attempts:
                    raise
                log.warning("copy of %s failed (attempt %d): %s; retrying", info.key, attempt, exc)
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def lanes_under(self, prefix: str) -> list[Lane]:
        """The parts of the archive under `prefix` (a whole layout, or a share of one)."""
        found = []
        for lane in self.lanes:
            if prefix.startswith(lane.prefix):
                found.append(Lane(lane.source, lane.target, prefix))
            elif lane.prefix.startswith(prefix):
                found.append(lane)
        return found

    def run(self, prefix: str = "", progress: bool = False) -> CopyReport:
        """Copy what the target lacks of the archive (or of its keys under `prefix`), then verify
        all of it."""
        started = time.monotonic()
        listed = [(lane, list(lane.source.objects(lane.prefix))) for lane in self.lanes_under(prefix)]
        plans = [
            (lane, source, plan_copy(source, lane.target.objects(lane.prefix))) for lane, source in listed
        ]
        report = CopyReport(
            source_objects=sum(len(source) for _, source in listed),
            source_bytes=sum(info.size for _, source in listed for info in source),
            already_present=sum(len(plan.present) for _, _, plan in plans),
        )
        digests = {info.key: info.md5 for _, source in listed for info in source}
        differing = {key for _, _, plan in plans for key in plan.differing}
        with (
            ThreadPoolExecutor(self.workers, thread_name_prefix="copy") as pool,
            tqdm(
                total=sum(p.bytes_to_copy for _, _, p in plans),
                unit="B",
                unit_scale=True,
                disable=not progress,
            ) as bar,
        ):
            futures = {
                pool.submit(self._copy_with_retries, lane, info): info
                for lane, _, plan in plans
                for info in plan.to_copy
            }
            for future in as_completed(futures):
                info = futures[future]
                try:
                    digests[info.key] = future.result()
                except (StoreUnavailableError, ChecksumMismatchError, KeyError, ValueError) as exc:
                    report.failed[info.key] = f"{type(exc).__name__}: {exc}"
                    continue
                report.copied += 1
                report.copied_bytes += info.size
                report.replaced += info.key in differing
                bar.update(info.size)
        report.seconds = time.monotonic() - started
        for lane, source in listed:
            self._verify(lane, source, digests, report)
        return report

    def _verify(
        self, lane: Lane, source: list[ObjectInfo], digests: dict[str, str | None], report: CopyReport
    ) -> None:
        """Compare a fresh listing of the target with the bytes read from the source."""
        arrived = {info.key: info for info in lane.target.objects(lane.prefix)}
        for info in source:
            if info.key in report.failed:
                continue
            expected = ObjectInfo(info.key, info.size, digests[info.key])
            if same_bytes(expected, arrived.get(info.key)):
                report.verified += 1
            else:
                report.not_verified.append(info.key)
