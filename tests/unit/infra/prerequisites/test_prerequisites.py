"""The prerequisites program (operator and bucket) under Pulumi mocks: the one part of the bundle the
engine cannot run here (no Helm repository, no GCP or AWS provider)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.config import StackConfig
from infra.prerequisites.components import CRD_TYPE, ArchiveBucket, StrimziOperator, keep_crds
from infra.prerequisites.program import declare
from infra.render import RecordingMonitor, run_program
from infra.stack_secrets import S3Credentials
from infra.stackfile import load_stack, model_from_values, project_values, read_config_values, stack_file
from tests.unit.infra.conftest import RecordingMocks, when_declared


def _run(mocks: RecordingMocks, stack: str | StackConfig) -> pulumi.Output[Any]:
    """The prerequisites of a stack, resolved once all of it is declared."""
    config = load_stack(stack) if isinstance(stack, str) else stack
    assert config.kafka is not None
    assert config.archive is not None
    keys = S3Credentials(pulumi.Output.secret("access"), pulumi.Output.secret("secret"))
    operator = StrimziOperator("strimzi", config.kafka.strimzi, config.namespace)
    s3 = config.archive.bucket.kind == "s3"
    bucket = ArchiveBucket("archive", config.archive, config.namespace, keys if s3 else None)
    return pulumi.Output.all(when_declared(operator), when_declared(bucket))


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_idf_gets_a_protected_gcs_bucket_and_workload_identity(mocks: RecordingMocks) -> pulumi.Output[Any]:
    def check(_: object) -> None:
        (bucket,) = [a for a in mocks.declared if a.typ == "gcp:storage/bucket:Bucket"]
        assert bucket.inputs["name"] == "rubin-alert-archive-idf"
        assert bucket.inputs["publicAccessPrevention"] == "enforced"
        # only the canaries expire, after a week
        (rule,) = bucket.inputs["lifecycleRules"]
        assert rule["action"] == {"type": "Delete"}
        assert rule["condition"] == {"age": 7, "matchesPrefixes": ["v2/canaries/"]}
        roles = {
            a.inputs["member"]: a.inputs["role"]
            for a in mocks.declared
            if a.typ == "gcp:storage/bucketIAMMember:BucketIAMMember"
        }
        # the ingester's account may write; the server's, its own, may only read
        account = "serviceAccount:alert-archive-{}@alert-stream-idf.iam.gserviceaccount.com"
        assert roles == {
            account.format("ingester"): "roles/storage.objectAdmin",
            account.format("server"): "roles/storage.objectViewer",
        }
        identities = [
            a.inputs["member"] for a in mocks.declared if a.typ == "gcp:serviceaccount/iAMMember:IAMMember"
        ]
        assert sorted(identities) == [
            "serviceAccount:alert-stream-idf.svc.id.goog[alert-distribution/archive-ingester]",
            "serviceAccount:alert-stream-idf.svc.id.goog[alert-distribution/archive-server]",
        ]
        assert not [a for a in mocks.declared if a.typ.startswith("aws:")]

    return _run(mocks, "idf").apply(check)


@pulumi.runtime.test  # type: ignore[untyped-decorator]
def test_an_s3_facility_gets_its_bucket_and_the_operator(mocks: RecordingMocks) -> pulumi.Output[Any]:
    """The usdf stack as a cluster of its own, with a bucket the prerequisites make."""
    values = project_values(read_config_values(stack_file("idf")))
    usdf = project_values(read_config_values(stack_file("usdf")))
    bucket_spec = usdf["archive"]["bucket"] | {"existing": False}
    config = model_from_values(values | {"archive": usdf["archive"] | {"bucket": bucket_spec}})

    def check(_: object) -> None:
        (bucket,) = [a for a in mocks.declared if a.typ == "aws:s3/bucket:Bucket"]
        assert bucket.inputs["bucket"] == "rubin-alert-archive-usdf"
        (chart,) = [a for a in mocks.declared if a.typ == "kubernetes:helm.sh/v4:Chart"]
        assert chart.inputs["values"]["watchNamespaces"] == ["alert-distribution"]
        assert not [a for a in mocks.declared if a.typ.startswith("gcp:")]

    return _run(mocks, config).apply(check)


def test_usdf_brings_its_own_operator_and_bucket(mocks: RecordingMocks) -> None:
    """USDF's shared Strimzi has the facility's operator and S3DF provides the bucket: nothing
    to declare, and the bucket's name still comes out for the main program's operators."""
    outputs = declare(load_stack("usdf"), None)
    assert outputs == {"archiveBucket": "rubin-alert-archive-usdf"}
    assert mocks.declared == []


def test_the_local_stack_has_no_prerequisites() -> None:
    with pytest.raises(ValueError, match="no prerequisites"):
        declare(load_stack("local"), None)


def test_the_chart_s_crds_are_protected_and_retained() -> None:
    """Deleting Strimzi's CRDs would delete the Kafka cluster, topics and users with them."""
    crd = pulumi.ResourceTransformArgs(
        custom=True,
        type_=CRD_TYPE,
        name="kafkas.kafka.strimzi.io",
        props={"metadata": {"name": "kafkas.kafka.strimzi.io"}},
        opts=pulumi.ResourceOptions(),
    )
    result = keep_crds(crd)
    assert result is not None
    assert result.opts.protect is True
    assert result.opts.retain_on_delete is True
    assert result.props == crd.props
    deployment = pulumi.ResourceTransformArgs(
        custom=True,
        type_="kubernetes:apps/v1:Deployment",
        name="strimzi-cluster-operator",
        props={},
        opts=pulumi.ResourceOptions(),
    )
    assert keep_crds(deployment) is None


def test_the_watched_namespace_is_made_protected_before_the_chart() -> None:
    """The chart renders a RoleBinding into each watched namespace and makes none (Strimzi 0.51.0
    and 1.2.0, helm-charts/helm3/strimzi-kafka-operator/templates/0{20,23,31}-RoleBinding-*.yaml):
    on a first run the namespace must exist before the chart; the main program makes none."""
    monitor = RecordingMonitor()
    pulumi.runtime.set_mocks(RecordingMocks(), project="alert-distribution", stack="idf", monitor=monitor)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def declare_idf() -> pulumi.Output[Any]:
        config = load_stack("idf")
        assert config.kafka is not None
        return when_declared(StrimziOperator("strimzi", config.kafka.strimzi, config.namespace))

    declare_idf()
    by_name = {r.name: r for r in monitor.recorded}
    namespace = by_name["namespace-alert-distribution"]
    assert namespace.inputs["metadata"]["name"] == load_stack("idf").namespace
    assert namespace.inputs["metadata"]["labels"] == {"pod-security.kubernetes.io/enforce": "restricted"}
    assert namespace.protect
    assert namespace.retain_on_delete
    chart = by_name["strimzi-operator"]
    assert namespace.urn in chart.dependencies
    env = chart.inputs["values"]["extraEnvs"]
    assert {"name": "STRIMZI_POD_SECURITY_PROVIDER_CLASS", "value": "restricted"} in env
    main = run_program("idf")
    assert not main.of_type("kubernetes:core/v1:Namespace")
