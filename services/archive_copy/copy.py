"""Copy the alert archive from one object store to another (IDF's GCS bucket to USDF's S3).

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

from services.common.storage import ObjectInfo, ObjectStore, StoreUnavailableError, md5_hex, stored_metadata

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


class ArchiveCopier:
    """Copies objects between two stores with a pool of workers, retrying passing failures."""

    def __init__(
        self,
        source: ObjectStore,
        target: ObjectStore,
        workers: int = 16,
        attempts: int = 3,
        backoff_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if workers < 1 or attempts < 1:
            raise ValueError("workers and attempts must be at least 1")
        self.source, self.target = source, target
        self.workers, self.attempts, self.backoff_s = workers, attempts, backoff_s
        self._sleep = sleep

    def copy_object(self, info: ObjectInfo) -> str:
        """Copy one object, checked on both sides; returns the MD5 of its bytes."""
        content_type, content_encoding = stored_metadata(info.key)
        data = self.source.get(info.key)
        if data is None:
            raise KeyError(f"{info.key} vanished from the source")
        digest = md5_hex(data)
        if len(data) != info.size or (info.md5 is not None and digest != info.md5):
            raise ChecksumMismatchError(
                f"read {len(data)} bytes with MD5 {digest}; "
                f"the source lists {info.size} bytes with MD5 {info.md5}"
            )
        self.target.put(info.key, data, content_type, content_encoding, md5=digest)
        return digest

    def _copy_with_retries(self, info: ObjectInfo) -> str:
        for attempt in range(1, self.attempts + 1):
            try:
                return self.copy_object(info)
            except (StoreUnavailableError, ChecksumMismatchError) as exc:
                if attempt == self.attempts:
                    raise
                log.warning("copy of %s failed (attempt %d): %s; retrying", info.key, attempt, exc)
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def run(self, prefix: str = "v1/", progress: bool = False) -> CopyReport:
        """Copy everything under prefix that the target lacks, then verify the whole prefix."""
        started = time.monotonic()
        source = list(self.source.objects(prefix))
        plan = plan_copy(source, self.target.objects(prefix))
        report = CopyReport(
            source_objects=len(source),
            source_bytes=sum(info.size for info in source),
            already_present=len(plan.present),
        )
        digests = {info.key: info.md5 for info in source}
        differing = set(plan.differing)
        with (
            ThreadPoolExecutor(self.workers, thread_name_prefix="copy") as pool,
            tqdm(total=plan.bytes_to_copy, unit="B", unit_scale=True, disable=not progress) as bar,
        ):
            futures = {pool.submit(self._copy_with_retries, info): info for info in plan.to_copy}
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
        self._verify(prefix, source, digests, report)
        return report

    def _verify(
        self, prefix: str, source: list[ObjectInfo], digests: dict[str, str | None], report: CopyReport
    ) -> None:
        """Compare a fresh listing of the target with the bytes read from the source."""
        arrived = {info.key: info for info in self.target.objects(prefix)}
        for info in source:
            if info.key in report.failed:
                continue
            expected = ObjectInfo(info.key, info.size, digests[info.key])
            if same_bytes(expected, arrived.get(info.key)):
                report.verified += 1
            else:
                report.not_verified.append(info.key)
