"""The alert archive: its bucket, the ingester and the HTTP server."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from infra.components.archive.manifests import (
    CREDENTIALS_SECRET,
    ArchivedTopics,
    archive_ingester,
    archive_server,
)
from infra.components.kubernetes import apply_manifest, ingress, secret, service, service_account
from infra.config import ArchiveSpec, GcsBucketSpec, S3BucketSpec
from infra.naming import ARCHIVE_SERVER_PORT, INGESTER_APP, SERVER_APP, ClusterAddress
from infra.providers.buckets import Bucket


@dataclass(frozen=True)
class S3Credentials:
    """The S3 keys of an S3-compatible archive store, as Pulumi secrets."""

    access_key: pulumi.Output[str]
    secret_key: pulumi.Output[str]


class AlertArchive(pulumi.ComponentResource):
    """A bucket (GCS at idf, S3-compatible at usdf), the ingester and the server, with their
    service accounts; at idf the pods reach GCS through workload identity."""

    def __init__(
        self,
        name: str,
        spec: ArchiveSpec,
        address: ClusterAddress,
        topics: ArchivedTopics,
        s3_credentials: S3Credentials | None,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:archive:AlertArchive", name, None, opts)
        namespace = address.namespace
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        if isinstance(spec.bucket, GcsBucketSpec):
            self.bucket_name = self._gcs_bucket(spec, spec.bucket, namespace)
        else:
            if s3_credentials is None:
                raise ValueError("an S3 archive needs archiveS3AccessKey and archiveS3SecretKey")
            self.bucket_name = self._s3_bucket(spec.bucket, s3_credentials)
            secret(
                CREDENTIALS_SECRET,
                namespace,
                {"access_key_id": s3_credentials.access_key, "secret_access_key": s3_credentials.secret_key},
                child,
            )
        for app in (INGESTER_APP, SERVER_APP):
            apply_manifest(service_account(namespace, app, spec.gcp_service_account), child)
        apply_manifest(archive_ingester(spec, address, topics), child)
        apply_manifest(archive_server(spec, address), child)
        apply_manifest(service(namespace, SERVER_APP, ARCHIVE_SERVER_PORT), child)
        if spec.ingress is not None:
            apply_manifest(
                ingress(namespace, SERVER_APP, ARCHIVE_SERVER_PORT, spec.ingress, read_only=True), child
            )
        self.register_outputs({"bucket": self.bucket_name})

    def _gcs_bucket(self, spec: ArchiveSpec, bucket: GcsBucketSpec, namespace: str) -> pulumi.Output[str]:
        import pulumi_gcp as gcp

        opts = pulumi.ResourceOptions(parent=self, protect=True)
        created = gcp.storage.Bucket(
            "archive-bucket",
            name=bucket.name,
            project=bucket.project,
            location=bucket.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": False},
            opts=opts,
        )
        if spec.gcp_service_account:
            members = {
                INGESTER_APP: "roles/storage.objectAdmin",
                SERVER_APP: "roles/storage.objectViewer",
            }
            for app, role in members.items():
                gcp.storage.BucketIAMMember(
                    f"archive-{app}-access",
                    bucket=created.name,
                    role=role,
                    member=f"serviceAccount:{spec.gcp_service_account}",
                    opts=pulumi.ResourceOptions(parent=self),
                )
                gcp.serviceaccount.IAMMember(
                    f"archive-{app}-workload-identity",
                    service_account_id=(
                        f"projects/{bucket.project}/serviceAccounts/{spec.gcp_service_account}"
                    ),
                    role="roles/iam.workloadIdentityUser",
                    member=f"serviceAccount:{bucket.project}.svc.id.goog[{namespace}/{app}]",
                    opts=pulumi.ResourceOptions(parent=self),
                )
        return created.name

    def _s3_bucket(self, bucket: S3BucketSpec, credentials: S3Credentials) -> pulumi.Output[str]:
        import pulumi_aws as aws

        provider = aws.Provider(
            "archive-s3",
            region=bucket.region,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            endpoints=[{"s3": bucket.endpoint}],
            s3_use_path_style=True,
            skip_credentials_validation=True,
            skip_metadata_api_check=True,
            skip_region_validation=True,
            skip_requesting_account_id=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        created = aws.s3.Bucket(
            "archive-bucket",
            bucket=bucket.name,
            opts=pulumi.ResourceOptions(parent=self, provider=provider, protect=True),
        )
        return created.bucket


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
