"""An in-memory object store for unit tests, with the faults the real stores show."""

from __future__ import annotations

from collections.abc import Iterator

from services.common.storage import ObjectInfo, StoreUnavailableError, md5_hex


class MemoryStore:
    """Objects (`blobs`) and their metadata in dicts. `down` refuses every call; `fail_puts`
    refuses that many puts, then recovers; `corrupt_reads` returns other bytes for those keys."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.metadata: dict[str, tuple[str, str | None]] = {}
        self.down = False
        self.fail_puts = 0
        self.corrupt_reads: set[str] = set()
        self.puts = 0

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        md5: str | None = None,
    ) -> None:
        if self.down:
            raise StoreUnavailableError("down")
        if self.fail_puts:
            self.fail_puts -= 1
            raise StoreUnavailableError("put refused")
        if md5 is not None and md5 != md5_hex(data):
            raise StoreUnavailableError(f"BadDigest for {key}")
        self.puts += 1
        self.blobs[key] = data
        self.metadata[key] = (content_type, content_encoding)

    def get(self, key: str) -> bytes | None:
        if self.down:
            raise StoreUnavailableError("down")
        data = self.blobs.get(key)
        return data[::-1] if data is not None and key in self.corrupt_reads else data

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        if self.down:
            raise StoreUnavailableError("down")
        for key, data in sorted(self.blobs.items()):
            if key.startswith(prefix):
                yield ObjectInfo(key, len(data), md5_hex(data))
