"""Strimzi manifests of the Kafka cluster: the node pools and the Kafka CR. Pure."""

from __future__ import annotations

from typing import Any

import yaml

from infra.components.kubernetes import WAIT_FOR_ANNOTATION, Manifest, meta, spread_over_nodes
from infra.config import ExternalListenerSpec, KafkaClusterSpec, PoolResourcesSpec, StorageSpec
from infra.naming import EXTERNAL_PORT, INTERNAL_SCRAM_PORT, INTERNAL_TLS_PORT
from infra.tables import ADMIN_USER

METRICS_CONFIG_KEY = "kafka-metrics-config.yml"
# The JMX exporter's rules: what operators watch on brokers and controllers (throughput per topic,
# replication health, request latency, KRaft controller state), as Prometheus names.
JMX_EXPORTER_CONFIG: dict[str, Any] = {
    "lowercaseOutputName": True,
    "rules": [
        {
            "pattern": "kafka.server<type=BrokerTopicMetrics, name=(.+), topic=(.+)><>Count",
            "name": "kafka_server_brokertopicmetrics_$1_total",
            "type": "COUNTER",
            "labels": {"topic": "$2"},
        },
        {
            "pattern": "kafka.server<type=ReplicaManager, name=(.+)><>Value",
            "name": "kafka_server_replicamanager_$1",
            "type": "GAUGE",
        },
        {  # IsrShrinksPerSec and IsrExpandsPerSec are meters: their Count, as a counter
            "pattern": "kafka.server<type=ReplicaManager, name=(.+)PerSec><>Count",
            "name": "kafka_server_replicamanager_$1_total",
            "type": "COUNTER",
        },
        {
            "pattern": "kafka.controller<type=KafkaController, name=(.+)><>Value",
            "name": "kafka_controller_kafkacontroller_$1",
            "type": "GAUGE",
        },
        {
            "pattern": "kafka.network<type=RequestMetrics, name=TotalTimeMs, request=(.+)>"
            "<>(\\d+)thPercentile",
            "name": "kafka_network_requestmetrics_totaltimems",
            "type": "GAUGE",
            "labels": {"request": "$1", "quantile": "0.$2"},
        },
        {
            "pattern": "kafka.server<type=raft-metrics><>(.+):",
            "name": "kafka_server_raftmetrics_$1",
            "type": "GAUGE",
        },
    ],
}
BROKER_NODE_IDS = "[0-99]"
CONTROLLER_NODE_IDS = "[100-199]"


def strimzi_meta(name: str, namespace: str, cluster: str) -> dict[str, Any]:
    """Metadata of a resource Strimzi reconciles for `cluster`."""
    return meta(name, namespace, **{"strimzi.io/cluster": cluster})


# pulumi-kubernetes waits for a custom resource only when asked (v4.25.0,
# provider/pkg/metadata/overrides.go:111-158: `pulumi.com/waitFor`, `condition=<type>` as kubectl
# wait, with status.observedGeneration current; 10 minutes unless `pulumi.com/timeoutSeconds`).
# Strimzi's operators set the Ready condition only once the work is done (0.51.0 and 1.2.0):
# a KafkaUser after Kafka accepted its SCRAM credential, its ACLs and its Secret
# (KafkaUserOperator.reconcile, StatusUtils.java:172-174), a KafkaTopic after the topic and its
# config exist (BatchingTopicController), the Kafka after the whole cluster reconciled
# (KafkaAssemblyOperator). So `pulumi up` returns when the brokers can log in and read, and the
# post-deploy suite that follows it proves a deployed system, not one still being made.
TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
READY = "condition=Ready"
KAFKA_READY_TIMEOUT_S = 1800  # a first cluster: volumes bound, three brokers and controllers rolled


def until_ready(metadata: dict[str, Any], timeout_s: int | None = None) -> dict[str, Any]:
    """The metadata with Pulumi told to wait for Strimzi's Ready condition."""
    annotations = {WAIT_FOR_ANNOTATION: READY}
    if timeout_s is not None:
        annotations[TIMEOUT_ANNOTATION] = str(timeout_s)
    return {**metadata, "annotations": {**metadata.get("annotations", {}), **annotations}}


def _storage(storage: StorageSpec) -> dict[str, Any]:
    return {
        "type": "jbod",
        "volumes": [
            {
                "id": 0,
                "type": "persistent-claim",
                "size": storage.size,
                "class": storage.storage_class,
                "deleteClaim": False,
                "kraftMetadata": "shared",
            }
        ],
    }


def _pool_pods(cluster: str, pool: str, resources: PoolResourcesSpec) -> dict[str, Any]:
    """Requests and limits (memory limit = request: a broker OOM-killed under load loses its page
    cache and its leaderships), the heap, and one pod per node. Strimzi labels each pod with
    `strimzi.io/cluster` and `strimzi.io/pool-name` (api Labels.STRIMZI_CLUSTER_LABEL and
    STRIMZI_POOL_NAME_LABEL in strimzi/strimzi-kafka-operator)."""
    same_pool = {"strimzi.io/cluster": cluster, "strimzi.io/pool-name": pool}
    return {
        "resources": {
            "requests": {"cpu": resources.cpu, "memory": resources.memory},
            "limits": {"memory": resources.memory},
        },
        "jvmOptions": {"-Xms": resources.heap, "-Xmx": resources.heap},
        "template": {"pod": {"topologySpreadConstraints": [spread_over_nodes(same_pool, hard=True)]}},
    }


def node_pools(cluster: KafkaClusterSpec, namespace: str) -> list[Manifest]:
    """A controller pool and a broker pool; broker ids 0.. match the external broker hosts."""
    pools = []
    for name, roles, replicas, storage, resources, ids in (
        (
            "controller",
            ["controller"],
            cluster.controller_replicas,
            cluster.controller_storage,
            cluster.controller_resources,
            CONTROLLER_NODE_IDS,
        ),
        (
            "broker",
            ["broker"],
            cluster.replicas,
            cluster.broker_storage,
            cluster.broker_resources,
            BROKER_NODE_IDS,
        ),
    ):
        metadata = strimzi_meta(name, namespace, cluster.name)
        metadata["annotations"] = {"strimzi.io/next-node-ids": ids}
        pools.append(
            {
                "apiVersion": cluster.strimzi.api_version,
                "kind": "KafkaNodePool",
                "metadata": metadata,
                "spec": {
                    "replicas": replicas,
                    "roles": roles,
                    "storage": _storage(storage),
                    **_pool_pods(cluster.name, name, resources),
                },
            }
        )
    return pools


def metrics_config_map(cluster: KafkaClusterSpec, namespace: str) -> Manifest:
    """The Prometheus JMX exporter's rules for brokers and controllers (Kafka CR metricsConfig)."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(metrics_config_name(cluster), namespace),
        "data": {METRICS_CONFIG_KEY: yaml.safe_dump(JMX_EXPORTER_CONFIG, sort_keys=False)},
    }


def metrics_config_name(cluster: KafkaClusterSpec) -> str:
    return f"{cluster.name}-kafka-metrics"


# The DNS name of a LoadBalancer Service, for external-dns (kubernetes-sigs/external-dns,
# docs/annotations/annotations.md); without external-dns the record is made by hand.
EXTERNAL_DNS_HOSTNAME = "external-dns.alpha.kubernetes.io/hostname"


def external_listener_configuration(external: ExternalListenerSpec) -> dict[str, Any]:
    """Bootstrap and per-broker LoadBalancers. Strimzi refuses `host` on them: ListenersValidator
    (cluster-operator/src/main/java/io/strimzi/operator/cluster/model/ListenersValidator.java,
    validateBootstrapHost and validateBrokerHost, at 0.51.0 and 1.2.0) allows `bootstrap.host` and
    `brokers[].host` only on Route, Ingress and TLSRoute listeners, and the Kafka never reconciles.
    So each broker advertises its DNS name (`advertisedHost`, as phalanx's sasquatch chart
    applications/sasquatch/charts/strimzi-kafka/templates/kafka.yaml does), the bootstrap's name is
    a certificate SAN (`alternativeNames`), and both names reach DNS by annotation."""
    bootstrap: dict[str, Any] = {
        "alternativeNames": [external.bootstrap_host],
        "annotations": {EXTERNAL_DNS_HOSTNAME: external.bootstrap_host},
    }
    if external.bootstrap_ip:
        bootstrap["loadBalancerIP"] = external.bootstrap_ip
    brokers = []
    for broker_id, host in enumerate(external.broker_hosts):
        entry: dict[str, Any] = {
            "broker": broker_id,
            "advertisedHost": host,
            "annotations": {EXTERNAL_DNS_HOSTNAME: host},
        }
        if external.broker_ips:
            entry["loadBalancerIP"] = external.broker_ips[broker_id]
        brokers.append(entry)
    return {"bootstrap": bootstrap, "brokers": brokers}


def kafka(cluster: KafkaClusterSpec, namespace: str, max_message_bytes: int) -> Manifest:
    """The Kafka CR: KRaft, SCRAM inside and out, mTLS for services, simple authorization."""
    rf = cluster.replication_factor
    isr = cluster.min_insync_replicas
    return {
        "apiVersion": cluster.strimzi.api_version,
        "kind": "Kafka",
        "metadata": until_ready(meta(cluster.name, namespace), KAFKA_READY_TIMEOUT_S),
        "spec": {
            "kafka": {
                "version": cluster.version,
                "listeners": [
                    {
                        "name": "internal",
                        "port": INTERNAL_SCRAM_PORT,
                        "type": "internal",
                        "tls": False,
                        "authentication": {"type": "scram-sha-512"},
                    },
                    {
                        "name": "tls",
                        "port": INTERNAL_TLS_PORT,
                        "type": "internal",
                        "tls": True,
                        "authentication": {"type": "tls"},
                    },
                    {
                        "name": "external",
                        "port": EXTERNAL_PORT,
                        "type": "loadbalancer",
                        "tls": False,
                        "authentication": {"type": "scram-sha-512"},
                        "configuration": external_listener_configuration(cluster.external),
                    },
                ],
                "authorization": {"type": "simple", "superUsers": [ADMIN_USER]},
                "metricsConfig": {
                    "type": "jmxPrometheusExporter",
                    "valueFrom": {
                        "configMapKeyRef": {"name": metrics_config_name(cluster), "key": METRICS_CONFIG_KEY}
                    },
                },
                "config": {
                    "auto.create.topics.enable": False,
                    "default.replication.factor": rf,
                    "min.insync.replicas": isr,
                    "offsets.topic.replication.factor": rf,
                    "transaction.state.log.replication.factor": rf,
                    "transaction.state.log.min.isr": isr,
                    "message.max.bytes": max_message_bytes,
                    "replica.fetch.max.bytes": max_message_bytes,
                    "allow.everyone.if.no.acl.found": False,
                },
            },
            "entityOperator": {"topicOperator": {}, "userOperator": {}},
            # Consumer-group lag per topic and partition: each community broker's groups carry its
            # username as prefix, so lag per broker is one sum by prefix (kafka_consumergroup_lag).
            "kafkaExporter": {"topicRegex": ".*", "groupRegex": ".*"},
        },
    }
