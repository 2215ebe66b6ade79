"""Typed stack configuration: read once from the stack file, passed down as plain objects."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from infra.capacity import disk_problems, storage_bytes

MIB = 1024 * 1024
COMMUNITY_BROKERS = ("alerce", "ampel", "antares", "babamul", "fink", "lasair", "pittgoogle")


class Facility(StrEnum):
    IDF = "idf"
    USDF = "usdf"
    LOCAL = "local"


def pinned_image(ref: str) -> str:
    """An image reference that names one build: a version tag or a digest, never `latest` or none
    (the kubelet would pull whatever the tag points at today, and `latest` means Always)."""
    name, _, digest = ref.partition("@")
    if digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        raise ValueError(f"image {ref}: a digest is sha256:<64 hex digits>")
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2]
    if not digest and not tag:
        raise ValueError(f"image {ref} has no tag: pin a version (name:X.Y.Z) or a digest (name@sha256:...)")
    if tag == "latest":
        raise ValueError(f"image {ref}: `latest` changes under a deployed stack; pin a version or a digest")
    return ref


ImageRef = Annotated[str, AfterValidator(pinned_image)]


@dataclass(frozen=True)
class Replication:
    """How the stack's topics are replicated."""

    factor: int
    min_insync: int

    @classmethod
    def on_nodes(cls, nodes: int) -> Replication:
        """On a cluster the stack does not size itself (the local facility's): as the facility
        stacks declare, three copies where there are three brokers, writes acknowledged by all
        copies but one."""
        factor = min(3, nodes)
        return cls(factor=factor, min_insync=max(1, factor - 1))


def _one_or_three(nodes: int) -> int:
    if nodes not in (1, 3):
        raise ValueError("the local facility runs 1 Kafka node (light) or 3 (replicated as the facilities)")
    return nodes


LocalKafkaNodes = Annotated[int, AfterValidator(_one_or_three)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TopicRole(StrEnum):
    """What a topic is for; decides who may touch it."""

    ALERTS = "alerts"  # the alert stream: brokers read, the producer writes, the archive reads
    DEAD_LETTER = "dead-letter"  # alerts the archive ingester could not store, with the reason
    REGISTRY = "registry"  # the schema registry's own storage (`_schemas`)
    # The post-deploy suite's canaries: the producer writes, every broker and the archive read;
    # the archive keeps them apart from the alerts (alertdist_common/layout.py CANARIES_PREFIX).
    CANARY = "canary"


class TopicSpec(_Model):
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")]
    role: TopicRole
    partitions: Annotated[int, Field(ge=1)]
    retention_ms: int = Field(default=7 * 24 * 3600 * 1000, alias="retentionMs")
    retention_bytes: int = Field(
        default=-1, alias="retentionBytes", description="per partition; -1 unbounded"
    )
    max_message_bytes: int = Field(default=10 * MIB, alias="maxMessageBytes")
    timestamp_type: Literal["LogAppendTime", "CreateTime"] = Field(
        default="LogAppendTime", alias="timestampType"
    )
    cleanup_policy: Literal["delete", "compact"] = Field(default="delete", alias="cleanupPolicy")
    bytes_per_day: Annotated[int, Field(ge=0)] | None = Field(
        default=None, alias="bytesPerDay", description="expected volume; alert topics default to LSST's"
    )


class StorageSpec(_Model):
    storage_class: str = Field(alias="class")
    size: Annotated[str, Field(pattern=r"^[0-9]+(Gi|Ti)$")]


class PoolResourcesSpec(_Model):
    """Requests and limits of one node pool's pods, and the JVM heap inside them."""

    cpu: str
    memory: Annotated[str, Field(pattern=r"^[0-9]+(Mi|Gi)$")]
    heap: Annotated[str, Field(pattern=r"^[0-9]+[mg]$", description="JVM -Xms/-Xmx")]


BROKER_RESOURCES = PoolResourcesSpec(cpu="2", memory="16Gi", heap="6g")  # the rest is page cache
CONTROLLER_RESOURCES = PoolResourcesSpec(cpu="500m", memory="2Gi", heap="1g")


def cpu_cores(quantity: str) -> float:
    """A Kubernetes CPU quantity (`2`, `1.5`, `500m`) in cores."""
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def memory_mib(quantity: str) -> int:
    """A Kubernetes memory quantity in Mi or Gi, in MiB."""
    return int(quantity[:-2]) * (1024 if quantity.endswith("Gi") else 1)


class ContainerResourcesSpec(_Model):
    """One container's requests; its memory limit is its request, so what is scheduled is what
    it may use. No CPU limit: a throttled ingester falls behind the stream."""

    cpu: Annotated[str, Field(pattern=r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")]
    memory: Annotated[str, Field(pattern=r"^[0-9]+(Mi|Gi)$")]

    @property
    def cores(self) -> float:
        return cpu_cores(self.cpu)

    @property
    def mib(self) -> int:
        return memory_mib(self.memory)


class ExternalListenerSpec(_Model):
    """The brokers' SCRAM listener behind per-broker LoadBalancers."""

    bootstrap_host: str = Field(alias="bootstrapHost")
    broker_hosts: list[str] = Field(alias="brokerHosts")
    bootstrap_ip: str | None = Field(default=None, alias="bootstrapIp")
    broker_ips: list[str] = Field(default_factory=list, alias="brokerIps")


StrimziApiVersion = Literal["kafka.strimzi.io/v1", "kafka.strimzi.io/v1beta2"]


class StrimziSpec(_Model):
    chart_version: str = Field(alias="chartVersion", pattern=r"^[0-9]+\.[0-9]+\.[0-9]+$")
    api_version: StrimziApiVersion = Field(default="kafka.strimzi.io/v1", alias="apiVersion")
    namespace: str = "strimzi"

    @model_validator(mode="after")
    def _api_served_by_chart(self) -> StrimziSpec:
        major, minor = (int(part) for part in self.chart_version.split(".")[:2])
        if major >= 1 and self.api_version != "kafka.strimzi.io/v1":
            raise ValueError("Strimzi 1.0 and later serve only kafka.strimzi.io/v1")
        if (major, minor) < (0, 49) and self.api_version != "kafka.strimzi.io/v1beta2":
            raise ValueError("Strimzi before 0.49 serves only kafka.strimzi.io/v1beta2")
        return self


class _KafkaSpec(_Model):
    """What every stack's Kafka has, whoever runs it: its size, for replication and disk checks."""

    name: str = "alert-broker"
    replicas: Annotated[int, Field(ge=1, description="brokers")]
    min_insync_replicas: Annotated[int, Field(ge=1)] = Field(alias="minInsyncReplicas")
    controller_replicas: Annotated[int, Field(ge=1)] = Field(default=3, alias="controllerReplicas")
    disk_budget: Annotated[float, Field(gt=0, le=0.9)] = Field(
        default=0.75, alias="diskBudget", description="the share of each broker's disk the topics may fill"
    )
    broker_storage: StorageSpec = Field(alias="brokerStorage")
    strimzi: StrimziSpec = Field(description="the operator's release: ours, or the facility's when shared")

    @model_validator(mode="after")
    def _isr_within_brokers(self) -> _KafkaSpec:
        if self.min_insync_replicas > self.replicas:
            raise ValueError("minInsyncReplicas cannot exceed replicas")
        return self

    @property
    def replication_factor(self) -> int:
        return min(3, self.replicas)

    @property
    def api_version(self) -> StrimziApiVersion:
        return self.strimzi.api_version


class KafkaClusterSpec(_KafkaSpec):
    """A Kafka cluster this stack runs (Strimzi CRs in its namespace)."""

    mode: Literal["managed"] = "managed"
    version: str
    broker_resources: PoolResourcesSpec = Field(default=BROKER_RESOURCES, alias="brokerResources")
    controller_resources: PoolResourcesSpec = Field(default=CONTROLLER_RESOURCES, alias="controllerResources")
    controller_storage: StorageSpec = Field(alias="controllerStorage")
    external: ExternalListenerSpec

    @model_validator(mode="after")
    def _consistent(self) -> KafkaClusterSpec:
        if len(self.external.broker_hosts) != self.replicas:
            raise ValueError("external.brokerHosts needs one host per broker replica")
        if self.external.broker_ips and len(self.external.broker_ips) != self.replicas:
            raise ValueError("external.brokerIps, when given, needs one address per broker replica")
        return self

    @property
    def bootstrap_host(self) -> str:
        return self.external.bootstrap_host

    @property
    def public_hosts(self) -> set[str]:
        return {self.external.bootstrap_host, *self.external.broker_hosts}


class SharedKafkaSpec(_KafkaSpec):
    """The facility's own Strimzi Kafka, shared with other tenants (USDF): this stack declares
    only its topics, users and ACLs there, as KafkaTopic and KafkaUser CRs in the cluster's
    namespace, the stack's `namespace` (Strimzi's entity operator watches the Kafka's own
    namespace by default, and pods read Secrets of their own namespace only). Sizes are the
    facility's, stated for the replication and disk checks; usernames carry the facility."""

    mode: Literal["shared"]
    bootstrap_host: str = Field(alias="bootstrapHost", description="the facility's external bootstrap host")

    @property
    def public_hosts(self) -> set[str]:
        return {self.bootstrap_host}


def _kafka_mode(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("mode", "managed"))
    return str(getattr(value, "mode", "managed"))


KafkaSpec = Annotated[
    Annotated[KafkaClusterSpec, Tag("managed")] | Annotated[SharedKafkaSpec, Tag("shared")],
    Discriminator(_kafka_mode),
]


class IngressTlsSpec(_Model):
    """HTTPS at the ingress, its certificate signed by a cert-manager ClusterIssuer of the facility."""

    cluster_issuer: str = Field(alias="clusterIssuer")


class IngressSpec(_Model):
    host: str
    path_prefix: Annotated[str, Field(pattern=r"^/[a-z0-9/-]*$")] = Field(alias="pathPrefix")
    ingress_class: str = Field(default="nginx", alias="ingressClass")
    controller_namespace: str = Field(
        default="ingress-nginx",
        alias="controllerNamespace",
        description="where the ingress controller's pods run: the only namespace they accept traffic from",
    )
    tls: IngressTlsSpec | None = Field(default=None, description="without it the route is plain HTTP")

    @property
    def url(self) -> str:
        """The public URL of what the ingress routes, with the scheme it really serves."""
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{self.host}{self.path_prefix.rstrip('/')}"

    @property
    def peer_namespaces(self) -> list[str]:
        """Where the pods that forward public requests run."""
        return [self.controller_namespace]

    @property
    def peer_cidrs(self) -> list[str]:
        return []


class GatewayRefSpec(_Model):
    """The Gateway (Gateway API) a route attaches to. Its owner runs it, holds its certificate and
    lets this namespace's routes attach (`allowedRoutes`)."""

    name: str
    namespace: str
    section_name: str | None = Field(default=None, alias="sectionName", description="one listener of it")
    https: bool = Field(default=True, description="whether that listener serves HTTPS")
    data_plane_namespace: str | None = Field(
        default=None,
        alias="dataPlaneNamespace",
        description="where the Gateway's proxies run, for an in-cluster implementation",
    )
    source_ranges: list[str] = Field(
        default_factory=list,
        alias="sourceRanges",
        description="the addresses its proxies and health checks connect from, for a cloud load "
        "balancer whose proxies run outside the cluster (GKE's Gateways: the health checks' "
        "35.191.0.0/16 and 130.211.0.0/22, and the proxy-only subnet of a regional Gateway)",
    )

    @model_validator(mode="after")
    def _reaches_the_pods(self) -> GatewayRefSpec:
        if self.data_plane_namespace is None and not self.source_ranges:
            raise ValueError(
                "a gateway needs dataPlaneNamespace or sourceRanges: the NetworkPolicy admits only them"
            )
        return self


def _gateway_hostname(host: str) -> str:
    """A host the HTTPRoute CRD accepts: a DNS name, never an IP address (gateway-api v1.6.3,
    apis/v1/shared_types.go, Hostname)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host
    raise ValueError(f"{host} is an IP address: an HTTPRoute's hostnames are DNS names")


class HttpRouteSpec(_Model):
    """A public route as a Gateway API HTTPRoute (the choice for a facility without ingress-nginx,
    which was archived on 2026-03-24)."""

    host: Annotated[
        str,
        Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
        AfterValidator(_gateway_hostname),
    ]
    # No `//`: the CRD refuses a PathPrefix value holding one (apis/v1/httproute_types.go).
    path_prefix: Annotated[str, Field(pattern=r"^/([a-z0-9-]+/?)*$")] = Field(alias="pathPrefix")
    gateway: GatewayRefSpec

    @property
    def url(self) -> str:
        scheme = "https" if self.gateway.https else "http"
        return f"{scheme}://{self.host}{self.path_prefix.rstrip('/')}"

    @property
    def peer_namespaces(self) -> list[str]:
        return [self.gateway.data_plane_namespace] if self.gateway.data_plane_namespace else []

    @property
    def peer_cidrs(self) -> list[str]:
        return list(self.gateway.source_ranges)


PublicRoute = IngressSpec | HttpRouteSpec


class _Exposed(_Model):
    """A service with at most one public route: an Ingress or an HTTPRoute."""

    ingress: IngressSpec | None = None
    http_route: HttpRouteSpec | None = Field(default=None, alias="httpRoute")

    @model_validator(mode="after")
    def _one_route(self) -> _Exposed:
        if self.ingress is not None and self.http_route is not None:
            raise ValueError("declare `ingress` or `httpRoute`, not both")
        return self

    @property
    def public_route(self) -> PublicRoute | None:
        return self.ingress or self.http_route


class RegistrySpec(_Exposed):
    image: ImageRef = "confluentinc/cp-schema-registry:7.9.2"
    replicas: Annotated[int, Field(ge=1)] = 1


class GcsBucketSpec(_Model):
    kind: Literal["gcs"] = "gcs"
    name: str
    existing: bool = Field(default=False, description="provided by the facility: the prerequisites leave it")
    project: str
    location: str = "US-CENTRAL1"


class S3BucketSpec(_Model):
    kind: Literal["s3"] = "s3"
    name: str
    existing: bool = Field(default=False, description="provided by the facility: the prerequisites leave it")
    endpoint: str
    region: str = "us-east-1"


class ArchiveGcpServiceAccounts(_Model):
    """One Google service account per archive service: the server's is granted read access only."""

    ingester: str
    server: str

    @model_validator(mode="after")
    def _apart(self) -> ArchiveGcpServiceAccounts:
        if self.ingester == self.server:
            raise ValueError("the archive server needs a service account of its own, read-only")
        return self


class ArchiveSpec(_Exposed):
    bucket: Annotated[GcsBucketSpec | S3BucketSpec, Field(discriminator="kind")]
    schema_bucket: str | None = Field(
        default=None,
        alias="schemaBucket",
        description="schemas in a bucket apart on the same store, as Rubin's alert database keeps "
        "them; only beside an existing (facility-provided) bucket, whose access the facility grants",
    )
    ingester_replicas: Annotated[int, Field(ge=1)] = Field(default=1, alias="ingesterReplicas")
    server_replicas: Annotated[int, Field(ge=1)] = Field(default=2, alias="serverReplicas")
    ingester_resources: ContainerResourcesSpec = Field(
        default=ContainerResourcesSpec(cpu="1", memory="1Gi"), alias="ingesterResources"
    )
    server_resources: ContainerResourcesSpec = Field(
        default=ContainerResourcesSpec(cpu="1", memory="512Mi"), alias="serverResources"
    )
    gcp_service_accounts: ArchiveGcpServiceAccounts | None = Field(default=None, alias="gcpServiceAccounts")

    @model_validator(mode="after")
    def _schema_bucket_provided(self) -> ArchiveSpec:
        if self.schema_bucket is not None and not self.bucket.existing:
            raise ValueError("archive.schemaBucket needs an existing archive bucket: a stack makes one only")
        return self


class ProducerSpec(_Model):
    enabled: bool = False
    topic: str = "alerts-simulated"
    alerts_per_visit: Annotated[int, Field(ge=1, le=40_000)] = Field(default=10_000, alias="alertsPerVisit")
    visit_interval_seconds: Annotated[float, Field(gt=0)] = Field(default=37.0, alias="visitIntervalSeconds")
    resources: ContainerResourcesSpec = ContainerResourcesSpec(cpu="1", memory="512Mi")


class LocalEndpoints(_Model):
    """Where the local stack finds the local facility (scripts/facility endpoints)."""

    bootstrap_servers: str = Field(alias="bootstrapServers")
    tls_bootstrap_servers: str | None = Field(default=None, alias="tlsBootstrapServers")
    kafka_ca_file: str | None = Field(default=None, alias="kafkaCaFile", description="CA of the TLS listener")
    registry_url: str = Field(alias="registryUrl", description="its public read-only routes, anonymous")
    registry_write_url: str = Field(alias="registryWriteUrl", description="the registry itself, for writes")
    archive_url: str = Field(alias="archiveUrl")
    s3_endpoint: str = Field(alias="s3Endpoint")
    gcs_endpoint: str = Field(alias="gcsEndpoint")
    archive_bucket: str = Field(alias="archiveBucket", description="made on both object stores")
    kafka_admin_user: str = Field(alias="kafkaAdminUser", description="the login that manages Kafka")
    registry_admin_user: str = Field(alias="registryAdminUser", description="the login that writes schemas")
    kafka_nodes: LocalKafkaNodes = Field(
        default=1, alias="kafkaNodes", description="the facility's KRaft nodes: its topics' replication"
    )


class FacilityRegistrySpec(_Model):
    """A schema registry the facility runs: where the services reach it and where brokers read it."""

    url: str = Field(description="inside the cluster, for the archive")
    public_url: str = Field(alias="publicUrl", description="anonymous and read-only, for brokers")


class FacilityOwnedSpec(_Model):
    """What another deployment already runs on the facility's shared Kafka (at USDF, Rubin's phalanx
    `sasquatch` application, synced by Argo CD). The stack reads these and never declares them: a
    KafkaTopic or KafkaUser of the same name would fight its owner (Argo CD reverts it, a password
    or retention changes under the brokers, and `destroy` would delete the owner's objects). Each
    stays described in the stack (topics, brokers) for the outputs and the post-deploy checks."""

    owner: str = Field(description="who manages these objects: named in messages and the runbook")
    topics: list[str] = Field(default_factory=list, description="topics the owner declares")
    broker_users: bool = Field(
        default=False, alias="brokerUsers", description="the community brokers' users are the owner's"
    )
    producer: bool = Field(
        default=False, description="the alert producer's user is the owner's (it writes the alert topics)"
    )
    registry: FacilityRegistrySpec | None = None


class MonitoringSpec(_Model):
    """What the stack gives a facility's Prometheus operator (monitoring.coreos.com/v1): PodMonitors
    for what it runs, and its alerting rules as a PrometheusRule. Off where no such operator runs."""

    pod_monitors: bool = Field(default=False, alias="podMonitors")
    rules: bool = False
    labels: dict[str, str] = Field(
        default_factory=dict,
        description="labels the facility's Prometheus selects monitors and rules by (phalanx: monitorLabel)",
    )


class StackConfig(_Model):
    """Everything a stack declares, minus secrets (see infra.stack_secrets)."""

    facility: Facility
    namespace: str = "alert-distribution"
    brokers: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9]*$")]] = Field(
        default_factory=lambda: list(COMMUNITY_BROKERS)
    )
    topics: list[TopicSpec]
    kafka: KafkaSpec | None = None
    registry: RegistrySpec = Field(default_factory=RegistrySpec)
    archive: ArchiveSpec | None = None
    producer: ProducerSpec = Field(default_factory=ProducerSpec)
    services_image: ImageRef | None = Field(
        default=None,
        alias="servicesImage",
        description="the image of services/ (producer, archive, schema sync), pinned by the release workflow",
    )
    local: LocalEndpoints | None = None
    facility_owned: FacilityOwnedSpec | None = Field(default=None, alias="facilityOwned")
    monitoring: MonitoringSpec = Field(default_factory=MonitoringSpec)

    @model_validator(mode="after")
    def _facility_parts(self) -> StackConfig:
        if len(set(self.brokers)) != len(self.brokers):
            raise ValueError("brokers must be unique")
        names = [topic.name for topic in self.topics]
        if len(set(names)) != len(names):
            raise ValueError("topic names must be unique")
        if not any(topic.role is TopicRole.ALERTS for topic in self.topics):
            raise ValueError("at least one alert topic is required")
        if sum(topic.role is TopicRole.CANARY for topic in self.topics) > 1:
            raise ValueError("at most one canary topic: the post-deploy suite writes to one")
        if self.facility is Facility.LOCAL:
            if self.local is None:
                raise ValueError("the local stack needs `local` endpoints")
            if self.monitoring.pod_monitors or self.monitoring.rules:
                raise ValueError(
                    "`monitoring` declares Prometheus operator objects: the local stack has no Kubernetes"
                )
        else:
            if self.kafka is None or self.archive is None or self.services_image is None:
                raise ValueError(f"the {self.facility} stack needs `kafka`, `archive` and `servicesImage`")
            if self.kafka.min_insync_replicas >= self.kafka.replication_factor:
                raise ValueError("minInsyncReplicas must be below the replication factor")
            self._public_routes_apart_from_kafka()
            self._topics_fit_on_disk()
        if self.facility_owned is not None:
            self._owned_parts_described()
        return self

    def _owned_parts_described(self) -> None:
        owned = self.facility_owned
        assert owned is not None
        if not isinstance(self.kafka, SharedKafkaSpec):
            raise ValueError(
                "facilityOwned describes another owner's objects on a shared Kafka (kafka.mode: shared)"
            )
        unknown = sorted(set(owned.topics) - {topic.name for topic in self.topics})
        if unknown:
            raise ValueError(f"facilityOwned.topics {unknown} must be described under topics")
        if owned.registry is not None:
            if "registry" in self.model_fields_set:
                raise ValueError(
                    "the facility runs the registry (facilityOwned.registry): declare no `registry`"
                )
            if self.topic_for(TopicRole.REGISTRY) is not None:
                raise ValueError("the facility runs the registry: the stack keeps no registry topic")

    def _topics_fit_on_disk(self) -> None:
        assert self.kafka is not None
        problems = disk_problems(
            self.topics,
            self.kafka.replication_factor,
            self.kafka.replicas,
            storage_bytes(self.kafka.broker_storage.size),
            self.kafka.disk_budget,
        )
        if problems:
            raise ValueError("; ".join(problems))

    def _public_routes_apart_from_kafka(self) -> None:
        """Kafka's bootstrap and broker hosts are LoadBalancer Services, each with an address of
        its own; the public routes share the ingress controller's or the Gateway's. One DNS name cannot
        be both."""
        assert self.kafka is not None
        kafka_hosts = self.kafka.public_hosts
        routes = [self.registry.public_route, self.archive.public_route if self.archive else None]
        clashes = sorted({route.host for route in routes if route is not None} & kafka_hosts)
        if clashes:
            raise ValueError(
                f"public route host(s) {', '.join(clashes)} are also Kafka LoadBalancer hosts: "
                "one DNS name cannot point at both; give the routes a host of their own"
            )

    @property
    def alert_topics(self) -> list[TopicSpec]:
        return [topic for topic in self.topics if topic.role is TopicRole.ALERTS]

    @property
    def canary_topic(self) -> TopicSpec | None:
        return self.topic_for(TopicRole.CANARY)

    @property
    def declared_topics(self) -> list[TopicSpec]:
        """The topics this stack manages: all but those the facility's other owner declares."""
        owned = set(self.facility_owned.topics) if self.facility_owned else set()
        return [topic for topic in self.topics if topic.name not in owned]

    def topic_for(self, role: TopicRole) -> TopicSpec | None:
        return next((topic for topic in self.topics if topic.role is role), None)

    @property
    def replication(self) -> Replication:
        if self.kafka is not None:
            return Replication(self.kafka.replication_factor, self.kafka.min_insync_replicas)
        return Replication.on_nodes(self.local.kafka_nodes if self.local is not None else 1)
