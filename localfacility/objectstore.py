"""The object stores: versitygw for S3 (usdf, local) and fake-gcs-server for GCS (idf)."""

from __future__ import annotations

from pathlib import Path

import boto3
import httpx
from botocore.config import Config

from localfacility.credentials import FacilityCredentials
from localfacility.process import ServiceSpec
from localfacility.settings import FacilitySettings


def s3_url(settings: FacilitySettings) -> str:
    return f"http://{settings.host}:{settings.s3_port}"


def gcs_url(settings: FacilitySettings) -> str:
    return f"http://{settings.host}:{settings.gcs_port}"


def s3_client(settings: FacilitySettings, creds: FacilityCredentials, endpoint: str | None = None):  # type: ignore[no-untyped-def]
    """A boto3 S3 client for the local S3 server (or another at `endpoint`), path-style as
    on-prem stores need."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint or s3_url(settings),
        aws_access_key_id=creds.s3_access_key.get_secret_value(),
        aws_secret_access_key=creds.s3_secret_key.get_secret_value(),
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def ensure_buckets(settings: FacilitySettings, creds: FacilityCredentials, name: str) -> list[str]:
    """Create the bucket on the S3 server and on the GCS emulator where missing; says which."""
    created = []
    s3 = s3_client(settings, creds)
    if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
        s3.create_bucket(Bucket=name)
        created.append(f"s3 bucket {name}")
    with httpx.Client(base_url=gcs_url(settings), timeout=10) as http:
        if http.get(f"/storage/v1/b/{name}").status_code == 404:
            http.post("/storage/v1/b", params={"project": "local"}, json={"name": name}).raise_for_status()
            created.append(f"gcs bucket {name}")
    return created


def s3_spec(
    settings: FacilitySettings,
    creds: FacilityCredentials,
    name: str = "s3",
    root: Path | None = None,
    port: int | None = None,
) -> ServiceSpec:
    """The facility's S3 server; with a name, root and port of their own, another beside it."""
    root = root or settings.data_dir / "s3"
    root.mkdir(parents=True, exist_ok=True)
    address = f"{settings.host}:{port or settings.s3_port}"

    def ready() -> bool:
        s3_client(settings, creds, f"http://{address}").list_buckets()
        return True

    return ServiceSpec(
        name=name,
        argv=[
            str(settings.bin_dir / "versitygw"),
            "--port",
            address,
            "--quiet",
            "posix",
            str(root),
        ],
        # Passed by environment, not argv, so that `ps` never shows them.
        env={
            "ROOT_ACCESS_KEY_ID": creds.s3_access_key.get_secret_value(),
            "ROOT_SECRET_ACCESS_KEY": creds.s3_secret_key.get_secret_value(),
        },
        ready=ready,
    )


def gcs_spec(settings: FacilitySettings) -> ServiceSpec:
    root = settings.data_dir / "gcs"
    root.mkdir(parents=True, exist_ok=True)

    def ready() -> bool:
        return httpx.get(f"{gcs_url(settings)}/storage/v1/b", timeout=2).status_code == 200

    return ServiceSpec(
        name="gcs",
        argv=[
            str(settings.bin_dir / "fake-gcs-server"),
            "-scheme",
            "http",
            "-host",
            settings.host,
            "-port",
            str(settings.gcs_port),
            "-public-host",
            f"{settings.host}:{settings.gcs_port}",
            "-external-url",
            gcs_url(settings),
            "-backend",
            "filesystem",
            "-filesystem-root",
            str(root),
            "-log-level",
            "warn",
        ],
        ready=ready,
    )
