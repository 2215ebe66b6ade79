"""The alert archive: its bucket, the ingester and the HTTP server."""

from __future__ import annotations

import pulumi

from infra import manifests
from infra.components.resources import apply_manifest, secret
from infra.config import GcsBucketSpec, S3BucketSpec, StackConfig
from infra.secrets import StackSecrets


class AlertArchive(pulumi.ComponentResource):
    """A bucket (GCS at idf, S3-compatible at usdf), the ingester and the server, with their
    service accounts; at idf the pods reach GCS through workload identity."""

    def __init__(
        self,
        name: str,
        config: StackConfig,
        secrets: StackSecrets,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:archive:AlertArchive", name, None, opts)
        archive = config.archive
        assert archive is not None
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        if isinstance(archive.bucket, GcsBucketSpec):
            self.bucket_name = self._gcs_bucket(config, archive.bucket)
        else:
            self.bucket_name = self._s3_bucket(archive.bucket, secrets)
            assert secrets.archive_s3_access_key is not None
            assert secrets.archive_s3_secret_key is not None
            secret(
                manifests.ARCHIVE_CREDENTIALS_SECRET,
                config.namespace,
                {
                    "access_key_id": secrets.archive_s3_access_key,
                    "secret_access_key": secrets.archive_s3_secret_key,
                },
                child,
            )
        for app in (manifests.INGESTER_APP, manifests.SERVER_APP):
            apply_manifest(manifests.service_account(config, app, archive.gcp_service_account), child)
        apply_manifest(manifests.archive_ingester(config), child)
        apply_manifest(manifests.archive_server(config), child)
        apply_manifest(manifests.service(config, manifests.SERVER_APP, manifests.ARCHIVE_SERVER_PORT), child)
        if archive.ingress is not None:
            apply_manifest(
                manifests.ingress(
                    config,
                    manifests.SERVER_APP,
                    manifests.ARCHIVE_SERVER_PORT,
                    archive.ingress,
                    read_only=True,
                ),
                child,
            )
        self.register_outputs({"bucket": self.bucket_name})

    def _gcs_bucket(self, config: StackConfig, bucket: GcsBucketSpec) -> pulumi.Output[str]:
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
        archive = config.archive
        assert archive is not None
        if archive.gcp_service_account:
            members = {
                manifests.INGESTER_APP: "roles/storage.objectAdmin",
                manifests.SERVER_APP: "roles/storage.objectViewer",
            }
            for app, role in members.items():
                gcp.storage.BucketIAMMember(
                    f"archive-{app}-access",
                    bucket=created.name,
                    role=role,
                    member=f"serviceAccount:{archive.gcp_service_account}",
                    opts=pulumi.ResourceOptions(parent=self),
                )
                gcp.serviceaccount.IAMMember(
                    f"archive-{app}-workload-identity",
                    service_account_id=(
                        f"projects/{bucket.project}/serviceAccounts/{archive.gcp_service_account}"
                    ),
                    role="roles/iam.workloadIdentityUser",
                    member=f"serviceAccount:{bucket.project}.svc.id.goog[{config.namespace}/{app}]",
                    opts=pulumi.ResourceOptions(parent=self),
                )
        return created.name

    def _s3_bucket(self, bucket: S3BucketSpec, secrets: StackSecrets) -> pulumi.Output[str]:
        import pulumi_aws as aws

        provider = aws.Provider(
            "archive-s3",
            region=bucket.region,
            access_key=secrets.archive_s3_access_key,
            secret_key=secrets.archive_s3_secret_key,
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
