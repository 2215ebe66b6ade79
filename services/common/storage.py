"""The alert archive's object store: one interface, an S3 backend and a GCS backend."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from isal import igzip

from alertdist_common.layout import ALERTS_PREFIX, CANARIES_PREFIX, FLAT_PREFIX, SCHEMAS_PREFIX
from services.common.settings import ArchiveSettings

if TYPE_CHECKING:
    from obstore.store import RetryConfig

ALERT_CONTENT_TYPE = "application/vnd.lsst.alert+avro"
SCHEMA_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class StoreUnavailableError(RuntimeError):
    """The object store could not be reached or refused a request; retry later."""


def compress_alert(data: bytes, level: int = 1) -> bytes:
    """The stored form of an alert: standard gzip by ISA-L (18x faster than zlib at the same
    size on ~80 KB alerts), deterministic (mtime 0), so a replay rewrites identical bytes."""
    if not 0 <= level <= 3:
        raise ValueError(f"gzip level {level} is outside ISA-L's 0..3")
    compressed: bytes = igzip.compress(data, compresslevel=level, mtime=0)
    return compressed


def _non_negative(value: int, what: str) -> int:
    if value < 0:
        raise ValueError(f"{what} {value} is negative")
    return value


def alert_key(dia_source_id: int, prefix: str = ALERTS_PREFIX) -> str:
    """Where the ingester writes an alert: gzipped Confluent-framed Avro."""
    digits = str(_non_negative(dia_source_id, "diaSourceId"))
    return f"{prefix}{digits[:6]}/{digits}.avro.gz"


def canary_key(dia_source_id: int) -> str:
    """Where the ingester writes a canary of the post-deploy suite: as an alert, under its own prefix."""
    return alert_key(dia_source_id, CANARIES_PREFIX)


def alert_keys_to_read(dia_source_id: int) -> tuple[str, str, str]:
    """Where an alert may be, in the order the server looks: ours and Rubin's, Rubin's
    uncompressed fallback, the flat layout written before."""
    gz = alert_key(dia_source_id)
    return gz, gz.removesuffix(".gz"), f"{FLAT_PREFIX}alerts/{dia_source_id}.avro.gz"


def canary_keys_to_read(dia_source_id: int) -> tuple[str]:
    """Where a canary is: written by this ingester only, in one layout."""
    return (canary_key(dia_source_id),)


def is_compressed(key: str) -> bool:
    return key.endswith(".gz")


def schema_key(schema_id: int) -> str:
    """Where the ingester writes a schema: its bare Avro JSON."""
    return f"{SCHEMAS_PREFIX}{_non_negative(schema_id, 'schema id')}.json"


def schema_keys_to_read(schema_id: int) -> tuple[str, str]:
    """Where a schema may be: the v2 layout, then the flat one (the registry's answer)."""
    return schema_key(schema_id), f"{FLAT_PREFIX}schemas/{schema_id}.json"


def stored_metadata(key: str) -> tuple[str, str | None]:
    """Content type and encoding of an archive object, from its place in the layout."""
    if key.startswith((ALERTS_PREFIX, CANARIES_PREFIX, f"{FLAT_PREFIX}alerts/")):
        if key.endswith(".avro.gz"):
            return ALERT_CONTENT_TYPE, "gzip"
        if key.endswith(".avro"):
            return ALERT_CONTENT_TYPE, None
    if key.startswith((SCHEMAS_PREFIX, f"{FLAT_PREFIX}schemas/")) and key.endswith(".json"):
        return SCHEMA_CONTENT_TYPE, None
    raise ValueError(f"{key!r} is not an alert or a schema of the archive layout")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ObjectInfo:
    """An object as a bucket listing shows it. md5 is the hex MD5 of the stored bytes, or None
    where the store reports none (an S3 multipart ETag is not an MD5)."""

    key: str
    size: int
    md5: str | None


class ObjectStore(Protocol):
    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        md5: str | None = None,
    ) -> None:
        """Write an object; with md5 (hex) the write fails unless the store received exactly that."""
        ...

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        ...

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under `prefix`, a folder of the layout ending in "/" (obstore lists whole
        path segments: `v2/alerts/9000` finds nothing under `v2/alerts/900012/`)."""
        ...


# How both obstore clients talk to their store: one retry, within 30 s.
OBSTORE_RETRY: RetryConfig = {"max_retries": 1, "retry_timeout": timedelta(seconds=30)}


def obstore_client_options(endpoint: str | None, max_connections: int) -> dict[str, str | dict[str, str]]:
    """obstore's HTTP settings for either store; plain HTTP only to a local server on http://."""
    options: dict[str, str | dict[str, str]] = {
        "timeout": "30s",
        "connect_timeout": "5s",
        "pool_max_idle_per_host": str(max_connections),
    }
    if endpoint is not None and endpoint.startswith("http://"):
        options["allow_http"] = "true"
    return options


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


class S3Store:
    """An S3-compatible bucket (versitygw locally, S3DF at usdf), through obstore (Rust's
    object_store): a third of boto3's CPU per put of an alert (`benchmarks.ingest_stages`)."""

    def __init__(
        self,
        bucket: str,
        endpoint: str | None,
        max_connections: int = 32,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        """Credentials (access key, secret key) default to the standard AWS_* variables."""
        from obstore.store import S3Store as Client

        self.bucket = bucket
        keys = {}
        if credentials is not None:
            keys = {"access_key_id": credentials[0], "secret_access_key": credentials[1]}
        self._store = Client(
            bucket,
            endpoint=endpoint,
            virtual_hosted_style_request=endpoint is None,  # on-prem stores want path-style
            client_options=obstore_client_options(endpoint, max_connections),  # type: ignore[arg-type]
            retry_config=OBSTORE_RETRY,
            **keys,  # type: ignore[arg-type]
        )

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        md5: str | None = None,
    ) -> None:
        import obstore

        attributes = {"Content-Type": content_type}
        if content_encoding:
            attributes["Content-Encoding"] = content_encoding
        try:
            result = obstore.put(self._store, key, data, attributes=attributes, use_multipart=False)
        except (obstore.exceptions.BaseError, OSError) as exc:
            raise StoreUnavailableError(f"S3 put of {key} failed: {_first_line(exc)}") from exc
        stored = (result["e_tag"] or "").strip('"')
        if md5 is not None and stored != md5:  # a single put's ETag is the MD5 the server received
            raise StoreUnavailableError(f"S3 stored {key} with MD5 {stored}, not {md5}")

    def get(self, key: str) -> bytes | None:
        import obstore

        try:
            return bytes(obstore.get(self._store, key).bytes())
        except FileNotFoundError as exc:
            if "<Code>NoSuchKey</Code>" in str(exc):
                return None
            raise StoreUnavailableError(f"S3 get of {key} failed: {_first_line(exc)}") from exc
        except (obstore.exceptions.BaseError, OSError) as exc:
            raise StoreUnavailableError(f"S3 get of {key} failed: {_first_line(exc)}") from exc

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        import obstore

        try:
            for batch in obstore.list(self._store, prefix=prefix, chunk_size=1000):
                for meta in batch:
                    etag = (meta["e_tag"] or "-").strip('"')
                    yield ObjectInfo(meta["path"], meta["size"], None if "-" in etag else etag.lower())
        except (obstore.exceptions.BaseError, OSError) as exc:
            raise StoreUnavailableError(f"S3 listing of {prefix} failed: {_first_line(exc)}") from exc


def gcs_reader_config(endpoint: str | None) -> dict[str, str | bool]:
    """obstore's GCS settings: an emulator at its URL with unsigned requests, as the library's
    AnonymousCredentials; otherwise none, so object_store finds the pod's credentials itself
    (application default credentials, then the metadata server, which answers for the workload
    identity: apache/arrow-rs-object-store, src/gcp/builder.rs, `build`)."""
    if endpoint is None:
        return {}
    return {"base_url": endpoint.rstrip("/"), "skip_signature": True}


def gcs_reader_options(endpoint: str | None, max_connections: int) -> dict[str, str | dict[str, str]]:
    """obstore's HTTP settings for GCS. `Accept-Encoding: gzip` asks for an alert as stored: GCS
    otherwise decompresses an object stored with Content-Encoding gzip on the way out
    (decompressive transcoding, cloud.google.com/storage/docs/transcoding), and the emulator
    does too (tests/integration/test_archive.py pins it)."""
    return obstore_client_options(endpoint, max_connections) | {
        "default_headers": {"Accept-Encoding": "gzip"}
    }


def is_missing_bucket(error: str) -> bool:
    """Whether a GCS 404 names the bucket rather than the object: the XML API answers
    `NoSuchBucket` for one and `NoSuchKey` for the other
    (cloud.google.com/storage/docs/xml-api/reference-status). The emulator names neither; its
    404s count as a missing object, as the JSON API's did."""
    return "<Code>NoSuchBucket</Code>" in error


class GcsStore:
    """A Google Cloud Storage bucket; an emulator at `endpoint` (default: STORAGE_EMULATOR_HOST)
    is used without credentials.

    Reads go through obstore (Rust's object_store, GCS's XML API): 0.2 ms of CPU a get against
    google-cloud-storage's 1.3 to 3 ms, which capped the archive server on GCS (README,
    "The archive server under load"). Writes and listings stay on google-cloud-storage's JSON API:
    the GCS emulator the local facility proves this code on, fake-gcs-server, takes no XML-API
    upload or listing (fsouza/fake-gcs-server issue 331), and a code path the local facility
    cannot run is not one the facility should.
    """

    def __init__(
        self, bucket: str, project: str | None, endpoint: str | None = None, max_connections: int = 32
    ) -> None:
        from google.cloud import storage
        from obstore.store import GCSStore as Reader
        from requests.adapters import HTTPAdapter

        endpoint = endpoint or os.environ.get("STORAGE_EMULATOR_HOST")
        if endpoint:
            from google.auth.credentials import AnonymousCredentials

            client = storage.Client(
                project=project or "emulator",
                credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
                client_options={"api_endpoint": endpoint},
            )
        else:
            client = storage.Client(project=project)
        # The client's HTTP session keeps 10 connections; size it for the threads that share it.
        adapter = HTTPAdapter(pool_connections=max_connections, pool_maxsize=max_connections)
        for scheme in ("http://", "https://"):
            client._http.mount(scheme, adapter)
        self.bucket = bucket
        self._bucket = client.bucket(bucket)
        self._reader = Reader(
            bucket,
            config=gcs_reader_config(endpoint),  # type: ignore[arg-type]
            client_options=gcs_reader_options(endpoint, max_connections),  # type: ignore[arg-type]
            retry_config=OBSTORE_RETRY,
        )

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        content_encoding: str | None = None,
        md5: str | None = None,
    ) -> None:
        from google.api_core.exceptions import GoogleAPIError
        from google.resumable_media import DataCorruption

        blob = self._bucket.blob(key)
        blob.content_encoding = content_encoding
        if md5 is not None:
            blob.md5_hash = base64.b64encode(bytes.fromhex(md5)).decode()
        try:
            blob.upload_from_string(
                data,
                content_type=content_type,
                retry=None,
                timeout=30,
                checksum="md5" if md5 is not None else None,
            )
        except (GoogleAPIError, OSError, DataCorruption) as exc:
            raise StoreUnavailableError(f"GCS upload of {key} failed: {exc}") from exc

    def get(self, key: str) -> bytes | None:
        import obstore

        try:
            return bytes(obstore.get(self._reader, key).bytes())
        except FileNotFoundError as exc:
            if is_missing_bucket(str(exc)):
                raise StoreUnavailableError(f"GCS bucket {self.bucket} does not exist") from exc
            return None
        except (obstore.exceptions.BaseError, OSError) as exc:
            raise StoreUnavailableError(f"GCS get of {key} failed: {_first_line(exc)}") from exc

    def objects(self, prefix: str) -> Iterator[ObjectInfo]:
        from google.api_core.exceptions import GoogleAPIError

        try:
            for blob in self._bucket.client.list_blobs(self._bucket, prefix=prefix):
                md5 = base64.b64decode(blob.md5_hash).hex() if blob.md5_hash else None
                yield ObjectInfo(blob.name, blob.size, md5)
        except (GoogleAPIError, OSError) as exc:
            raise StoreUnavailableError(f"GCS listing of {prefix} failed: {exc}") from exc


def open_store(settings: ArchiveSettings, bucket: str | None = None) -> ObjectStore:
    """The archive's bucket, or another bucket on the same store."""
    if settings.archive_backend == "s3":
        return S3Store(bucket or settings.archive_bucket, settings.s3_endpoint)
    return GcsStore(bucket or settings.archive_bucket, settings.gcs_project)


@dataclass(frozen=True)
class ArchiveStores:
    """Where alerts and where schemas live: one bucket, or Rubin's two."""

    alerts: ObjectStore
    schemas: ObjectStore


def open_archive(settings: ArchiveSettings) -> ArchiveStores:
    alerts = open_store(settings)
    if settings.archive_schema_bucket in (None, settings.archive_bucket):
        return ArchiveStores(alerts, alerts)
    return ArchiveStores(alerts, open_store(settings, settings.archive_schema_bucket))
