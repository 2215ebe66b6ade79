"""The archive server's bulk answer (POST /v1/bulk/alerts): one record per id asked, in order. Its
writer (the server) and its readers (the post-deploy suite, the benchmark, brokers' clients as
docs/brokers.md shows) share this."""

from __future__ import annotations

import struct

BULK_MEDIA_TYPE = "application/vnd.alertdist.alert-frames"
BULK_FRAME_HEADER = struct.Struct(">qI")  # diaSourceId (int64), length (uint32), big-endian


def frame(dia_source_id: int, alert: bytes | None) -> bytes:
    """One record of the bulk answer: the id, the alert's length (0: not in the archive), the
    alert exactly as GET /v1/alerts/{id} returns it."""
    body = alert or b""
    return BULK_FRAME_HEADER.pack(dia_source_id, len(body)) + body


def read_frames(answer: bytes) -> list[tuple[int, bytes | None]]:
    """The records of a bulk answer as (diaSourceId, alert or None); ValueError if it was cut short."""
    records: list[tuple[int, bytes | None]] = []
    offset = 0
    while offset < len(answer):
        if offset + BULK_FRAME_HEADER.size > len(answer):
            raise ValueError(f"bulk answer cut short after {len(records)} records")
        dia_source_id, length = BULK_FRAME_HEADER.unpack_from(answer, offset)
        offset += BULK_FRAME_HEADER.size
        if offset + length > len(answer):
            raise ValueError(f"bulk answer cut short in the record of {dia_source_id}")
        records.append((dia_source_id, answer[offset : offset + length] if length else None))
        offset += length
    return records
