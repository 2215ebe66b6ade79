"""Realistic LSST alerts: the package's sample alerts, unique diaSourceIds, three FITS cutouts."""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastavro
import numpy as np
from astropy.io import fits

from alertdist_common.schemas import SchemaVersion, latest_version, load_schema, schema_file
from services.common.wire import encode

CUTOUT_FIELDS = ("cutoutDifference", "cutoutScience", "cutoutTemplate")
CUTOUT_PIXELS = 74  # a 74x74 float32 FITS image is 25,920 bytes: three make ~80 KB per alert
CUTOUT_POOL = 16


class AlertInputError(ValueError):
    """An alert input file that cannot be used, with the reason."""


def sample_alert_files(version: SchemaVersion) -> list[Path]:
    return sorted((schema_file(version).parent / "sample_data").glob("*.avro"))


def read_alert_file(path: Path) -> list[dict[str, Any]]:
    """Alerts from an Avro container file, or an AlertInputError that says what is wrong."""
    try:
        with path.open("rb") as stream:
            records = list(fastavro.reader(stream))
    except FileNotFoundError as exc:
        raise AlertInputError(f"{path}: no such file") from exc
    except (ValueError, EOFError, StopIteration, OSError, IndexError, UnicodeDecodeError) as exc:
        raise AlertInputError(f"{path}: not an Avro container file of alerts ({exc})") from exc
    if not records:
        raise AlertInputError(f"{path}: holds no alerts")
    if not all(isinstance(r, dict) and "diaSourceId" in r and "diaSource" in r for r in records):
        raise AlertInputError(f"{path}: records are not LSST alerts (no diaSourceId/diaSource)")
    return records  # type: ignore[return-value]


def fits_cutout(rng: np.random.Generator, pixels: int = CUTOUT_PIXELS) -> bytes:
    """A small FITS image: sky noise plus a point source, as a cutout stamp would hold."""
    y, x = np.mgrid[:pixels, :pixels]
    centre = (pixels - 1) / 2
    source = rng.uniform(200, 5000) * np.exp(-((x - centre) ** 2 + (y - centre) ** 2) / (2 * 2.0**2))
    image = (rng.normal(0, 25, (pixels, pixels)) + source).astype(">f4")
    buffer = io.BytesIO()
    fits.PrimaryHDU(image).writeto(buffer)
    return buffer.getvalue()


@dataclass
class AlertFactory:
    """Makes encoded alerts of one schema version from template alerts and a pool of cutouts."""

    templates: list[dict[str, Any]]
    version: SchemaVersion
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.templates:
            raise AlertInputError("no template alerts")
        schema = load_schema(self.version)
        self.parsed_schema = fastavro.parse_schema(schema.definition)
        rng = np.random.default_rng(self.seed)
        self._cutouts = [tuple(fits_cutout(rng) for _ in CUTOUT_FIELDS) for _ in range(CUTOUT_POOL)]
        self._templates = [copy.deepcopy(t) for t in self.templates]

    @classmethod
    def from_package(cls, version: SchemaVersion | None = None) -> AlertFactory:
        """Templates from lsst-alert-packet's own sample alerts of the (latest) schema version."""
        version = version or latest_version()
        files = sample_alert_files(version)
        if not files:
            raise AlertInputError(f"lsst-alert-packet ships no sample alerts for schema {version}")
        return cls([alert for path in files for alert in read_alert_file(path)], version)

    @property
    def schema_id(self) -> int:
        return self.version.schema_id

    def record(self, dia_source_id: int) -> dict[str, Any]:
        """One alert record with this diaSourceId (top level and in diaSource) and cutouts."""
        alert = self._templates[dia_source_id % len(self._templates)]
        alert["diaSourceId"] = dia_source_id
        alert["diaSource"]["diaSourceId"] = dia_source_id
        for field, cutout in zip(CUTOUT_FIELDS, self._cutouts[dia_source_id % CUTOUT_POOL], strict=True):
            alert[field] = cutout
        return alert

    def encoded(self, dia_source_id: int) -> bytes:
        return encode(self.record(dia_source_id), self.parsed_schema, self.schema_id)
