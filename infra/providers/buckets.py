"""A bucket on an S3-compatible server or a GCS (JSON API) server. Deleting keeps the bucket:
the archive is the record, and a bucket holding alerts is never removed by a deploy."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pulumi
from botocore.config import Config
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


def _s3(props: dict[str, Any]) -> Any:
    return boto3.session.Session().client(
        "s3",
        endpoint_url=props["endpoint"],
        aws_access_key_id=props["accessKey"],
        aws_secret_access_key=props["secretKey"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def _exists(props: dict[str, Any]) -> bool:
    if props["kind"] == "s3":
        return props["name"] in {b["Name"] for b in _s3(props).list_buckets().get("Buckets", [])}
    with httpx.Client(base_url=props["endpoint"], timeout=30) as http:
        response = http.get(f"/storage/v1/b/{props['name']}")
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True


class BucketProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        if not _exists(props):
            if props["kind"] == "s3":
                _s3(props).create_bucket(Bucket=props["name"])
            else:
                with httpx.Client(base_url=props["endpoint"], timeout=30) as http:
                    body = {"name": props["name"]}
                    http.post(
                        "/storage/v1/b", params={"project": props["project"]}, json=body
                    ).raise_for_status()
        return CreateResult(id_=f"{props['kind']}://{props['name']}", outs=props)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_ if _exists(props) else None, outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in ("kind", "endpoint", "name") if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=changed)


class Bucket(Resource):
    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        keep = pulumi.ResourceOptions(retain_on_delete=True, additional_secret_outputs=["secretKey"])
        super().__init__(BucketProvider(), name, props, opts.merge(keep))
