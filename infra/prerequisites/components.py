"""The prerequisites: the Strimzi operator and the archive bucket."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from alertdist_common.layout import CANARIES_PREFIX, CANARY_DAYS
from infra.config import ArchiveSpec, GcsBucketSpec, S3BucketSpec, StrimziSpec
from infra.naming import INGESTER_APP, SERVER_APP
from infra.stack_secrets import S3Credentials

STRIMZI_CHART_REPO = "https://strimzi.io/charts/"
CRD_TYPE = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"


def keep_crds(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Protect and retain the chart's CustomResourceDefinitions: deleting a CRD deletes every
    resource of its kind (Kubernetes garbage-collects a CRD's custom resources with it), so
    removing or replacing the chart must never take the Kafka cluster, its topics and users."""
    if args.type_ != CRD_TYPE:
        return None
    kept = pulumi.ResourceOptions(protect=True, retain_on_delete=True)
    return pulumi.ResourceTransformResult(
        props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, kept)
    )


# Strimzi's cluster operator runs its pods under the Baseline provider unless told otherwise; the
# Restricted one adds what Pod Security `restricted` asks (seccomp RuntimeDefault, no privilege
# escalation, non-root, all capabilities dropped). No chart value sets it, so it goes in through
# `extraEnvs` (strimzi-kafka-operator 0.51.0 and 1.2.0: STRIMZI_POD_SECURITY_PROVIDER_CLASS in
# cluster-operator/src/main/java/io/strimzi/operator/cluster/ClusterOperatorConfig.java;
# extraEnvs in helm-charts/helm3/strimzi-kafka-operator/values.yaml).
RESTRICTED_PODS = {"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"}
# The watched namespace refuses every pod that is not "restricted" (Pod Security admission, built
# into the API server: kubernetes.io/docs/concepts/security/pod-security-admission). Strimzi's
# pods are made so by RESTRICTED_PODS (as long as no CR template sets a securityContext, which
# would replace the provider's: tests/unit/infra/upstream/test_strimzi.py), ours by
# infra/components/kubernetes.py; the local Kubernetes runs the API server's own admission on
# them (tests/kubernetes/test_workloads.py).
RESTRICTED_NAMESPACE = {"pod-security.kubernetes.io/enforce": "restricted"}


def strimzi_values(watched_namespace: str) -> dict[str, object]:
    """The chart's values: watch the alert distribution namespace only, restricted pods."""
    return {
        "watchNamespaces": [watched_namespace],
        "watchAnyNamespace": False,
        "extraEnvs": [RESTRICTED_PODS],
    }


class StrimziOperator(pulumi.ComponentResource):
    """Strimzi's operator (Helm chart, pinned), watching the alert distribution namespace only.

    The chart makes a RoleBinding in each watched namespace and creates none
    (helm-charts/helm3/strimzi-kafka-operator/templates/020-, 023- and
    031-RoleBinding-*.yaml at 0.51.0 and 1.2.0), so the watched namespace is made here, before
    the chart, and protected: the main program only uses it, and deleting it would delete the
    Kafka and its volumes' claims."""

    def __init__(
        self, name: str, spec: StrimziSpec, watched_namespace: str, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("alertdist:prerequisites:StrimziOperator", name, None, opts)
        operator_namespace = k8s.core.v1.Namespace(
            "namespace-strimzi", metadata={"name": spec.namespace}, opts=pulumi.ResourceOptions(parent=self)
        )
        self.watched_namespace = k8s.core.v1.Namespace(
            f"namespace-{watched_namespace}",
            metadata={"name": watched_namespace, "labels": RESTRICTED_NAMESPACE},
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.chart = k8s.helm.v4.Chart(
            "strimzi-operator",
            chart="strimzi-kafka-operator",
            version=spec.chart_version,
            namespace=spec.namespace,
            repository_opts={"repo": STRIMZI_CHART_REPO},
            values=strimzi_values(watched_namespace),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[operator_namespace, self.watched_namespace], transforms=[keep_crds]
            ),
        )
        self.register_outputs({})


class ArchiveBucket(pulumi.ComponentResource):
    """The archive's bucket, protected: GCS at idf (the ingester writes and the server reads through
    workload identity), S3-compatible at usdf."""

    def __init__(
        self,
        name: str,
        spec: ArchiveSpec,
        namespace: str,
        s3_credentials: S3Credentials | None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:prerequisites:ArchiveBucket", name, None, opts)
        if isinstance(spec.bucket, GcsBucketSpec):
            self.bucket_name = self._gcs(spec, spec.bucket, namespace)
        else:
            if s3_credentials is None:
                raise ValueError("an S3 archive needs archiveS3AccessKey and archiveS3SecretKey")
            self.bucket_name = self._s3(spec.bucket, s3_credentials)
        self.register_outputs({"bucket": self.bucket_name})

    def _gcs(self, spec: ArchiveSpec, bucket: GcsBucketSpec, namespace: str) -> pulumi.Output[str]:
        import pulumi_gcp as gcp

        created = gcp.storage.Bucket(
            "archive-bucket",
            name=bucket.name,
            project=bucket.project,
            location=bucket.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": False},
            # The post-deploy suite's canaries expire; the alerts under v2/alerts/ never do.
            lifecycle_rules=[
                {
                    "action": {"type": "Delete"},
                    "condition": {"age": CANARY_DAYS, "matches_prefixes": [CANARIES_PREFIX]},
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=True),
        )
        accounts = spec.gcp_service_accounts
        if accounts is not None:
            # The ingester writes and reads back; the server only reads.
            grants = {
                INGESTER_APP: (accounts.ingester, "roles/storage.objectAdmin"),
                SERVER_APP: (accounts.server, "roles/storage.objectViewer"),
            }
            for app, (account, role) in grants.items():
                gcp.storage.BucketIAMMember(
                    f"archive-{app}-access",
                    bucket=created.name,
                    role=role,
                    member=f"serviceAccount:{account}",
                    opts=pulumi.ResourceOptions(parent=self),
                )
                gcp.serviceaccount.IAMMember(
                    f"archive-{app}-workload-identity",
                    service_account_id=f"projects/{bucket.project}/serviceAccounts/{account}",
                    role="roles/iam.workloadIdentityUser",
                    member=f"serviceAccount:{bucket.project}.svc.id.goog[{namespace}/{app}]",
                    opts=pulumi.ResourceOptions(parent=self),
                )
        return created.name

    def _s3(self, bucket: S3BucketSpec, credentials: S3Credentials) -> pulumi.Output[str]:
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
