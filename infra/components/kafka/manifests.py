"""Strimzi manifests of the Kafka cluster: the node pools and the Kafka CR. Pure."""

from __future__ import annotations

from typing import Any

from infra.components.kubernetes import Manifest, meta
from infra.config import KafkaClusterSpec, StorageSpec
from infra.naming import EXTERNAL_PORT, INTERNAL_SCRAM_PORT, INTERNAL_TLS_PORT
from infra.tables import ADMIN_USER

BROKER_NODE_IDS = "[0-99]"
CONTROLLER_NODE_IDS = "[100-199]"


def strimzi_meta(name: str, namespace: str, cluster: str) -> dict[str, Any]:
    """Metadata of a resource Strimzi reconciles for `cluster`."""
    return meta(name, namespace, **{"strimzi.io/cluster": cluster})


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


def node_pools(cluster: KafkaClusterSpec, namespace: str) -> list[Manifest]:
    """A controller pool and a broker pool; broker ids 0.. match the external broker hosts."""
    pools = []
    for name, roles, replicas, storage, ids in (
        (
            "controller",
            ["controller"],
            cluster.controller_replicas,
            cluster.controller_storage,
            CONTROLLER_NODE_IDS,
        ),
        ("broker", ["broker"], cluster.replicas, cluster.broker_storage, BROKER_NODE_IDS),
    ):
        metadata = strimzi_meta(name, namespace, cluster.name)
        metadata["annotations"] = {"strimzi.io/next-node-ids": ids}
        pools.append(
            {
                "apiVersion": cluster.strimzi.api_version,
                "kind": "KafkaNodePool",
                "metadata": metadata,
                "spec": {"replicas": replicas, "roles": roles, "storage": _storage(storage)},
            }
        )
    return pools


def kafka(cluster: KafkaClusterSpec, namespace: str, max_message_bytes: int) -> Manifest:
    """The Kafka CR: KRaft, SCRAM inside and out, mTLS for services, simple authorization."""
    external = cluster.external
    bootstrap: dict[str, Any] = {"host": external.bootstrap_host}
    if external.bootstrap_ip:
        bootstrap["loadBalancerIP"] = external.bootstrap_ip
    brokers = []
    for broker_id, host in enumerate(external.broker_hosts):
        entry: dict[str, Any] = {"broker": broker_id, "advertisedHost": host, "host": host}
        if external.broker_ips:
            entry["loadBalancerIP"] = external.broker_ips[broker_id]
        brokers.append(entry)
    rf = cluster.replication_factor
    isr = cluster.min_insync_replicas
    return {
        "apiVersion": cluster.strimzi.api_version,
        "kind": "Kafka",
        "metadata": meta(cluster.name, namespace),
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
                        "configuration": {"bootstrap": bootstrap, "brokers": brokers},
                    },
                ],
                "authorization": {"type": "simple", "superUsers": [ADMIN_USER]},
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
        },
    }
