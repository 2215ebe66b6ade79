"""The alert archive: its bucket, the ingester and the HTTP server."""

from __future__ import annotations

import pulumi

from infra.components.archive.manifests import (
    ARCHIVE_PUBLIC_ROUTES,
    INGESTER_S3_SECRET,
    SERVER_S3_SECRET,
    ArchivedTopics,
    archive_ingester,
    archive_server,
)
from infra.components.kubernetes import (
    apply_manifest,
    disruption_budget,
    public_route,
    secret,
    service,
    service_account,
)
from infra.config import ArchiveSpec
from infra.naming import ARCHIVE_SERVER_PORT, INGESTER_APP, SERVER_APP, ClusterAddress
from infra.providers.buckets import Bucket
from infra.stack_secrets import ArchiveS3Keys, S3Credentials


class AlertArchive(pulumi.ComponentResource):
    """The ingester and the server, each with its own identity on the facility's bucket (GCS at idf,
    one Google service account each through workload identity; S3-compatible at usdf, one key pair
    each): the ingester's may write, the server's only read. The bucket itself is the prerequisites
    program's (infra/prerequisites) or the facility's own."""

    def __init__(
        self,
        name: str,
        spec: ArchiveSpec,
        image: str,
        address: ClusterAddress,
        topics: ArchivedTopics,
        s3_keys: ArchiveS3Keys | None,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:archive:AlertArchive", name, None, opts)
        namespace = address.namespace
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        if spec.bucket.kind == "s3":
            if s3_keys is None:
                raise ValueError(
                    "an S3 archive needs archiveS3AccessKey/SecretKey (ingester, read-write) "
                    "and archiveS3ReaderAccessKey/SecretKey (server, read-only)"
                )
            for name, keys in (
                (INGESTER_S3_SECRET, s3_keys.read_write),
                (SERVER_S3_SECRET, s3_keys.read_only),
            ):
                secret(
                    name,
                    namespace,
                    {"access_key_id": keys.access_key, "secret_access_key": keys.secret_key},
                    child,
                )
        accounts = spec.gcp_service_accounts
        identities = (
            {INGESTER_APP: None, SERVER_APP: None}
            if accounts is None
            else {
                INGESTER_APP: accounts.ingester,
                SERVER_APP: accounts.server,
            }
        )
        for app, account in identities.items():
            apply_manifest(service_account(namespace, app, account), child)
        for manifest in (
            archive_ingester(spec, image, address, topics),
            archive_server(spec, image, address),
        ):
            apply_manifest(manifest, child)
            budget = disruption_budget(manifest)
            if budget is not None:
                apply_manifest(budget, child)
        apply_manifest(service(namespace, SERVER_APP, ARCHIVE_SERVER_PORT), child)
        if spec.public_route is not None:
            route = spec.public_route
            public = public_route(namespace, SERVER_APP, ARCHIVE_SERVER_PORT, route, ARCHIVE_PUBLIC_ROUTES)
            apply_manifest(public, child)
        self.register_outputs({"bucket": spec.bucket.name})


class LocalArchiveBuckets(pulumi.ComponentResource):
    """The archive's bucket on the local S3 server and on the GCS emulator (the services choose
    one); kept when the stack is destroyed."""

    def __init__(
        self,
        name: str,
        bucket: str,
        s3_endpoint: str,
        gcs_endpoint: str,
        s3_credentials: S3Credentials,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:archive:LocalArchiveBuckets", name, None, opts)
        s3 = {
            "kind": "s3",
            "endpoint": s3_endpoint,
            "accessKey": s3_credentials.access_key,
            "secretKey": s3_credentials.secret_key,
        }
        gcs = {"kind": "gcs", "endpoint": gcs_endpoint, "project": "local"}
        for store in (s3, gcs):
            Bucket(f"bucket-{store['kind']}", {**store, "name": bucket}, pulumi.ResourceOptions(parent=self))
        self.register_outputs({"bucket": bucket})
