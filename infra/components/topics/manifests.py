"""The KafkaTopic CR of one declared topic. Pure."""

from __future__ import annotations

from infra.components.kafka.manifests import strimzi_meta, until_ready
from infra.components.kubernetes import Manifest
from infra.config import Replication, TopicSpec
from infra.naming import k8s_name
from infra.tables import topic_config


def kafka_topic(
    topic: TopicSpec, replication: Replication, namespace: str, cluster: str, api_version: str
) -> Manifest:
    return {
        "apiVersion": api_version,
        "kind": "KafkaTopic",
        "metadata": until_ready(strimzi_meta(k8s_name(topic.name), namespace, cluster)),
        "spec": {
            "topicName": topic.name,
            "partitions": topic.partitions,
            "replicas": replication.factor,
            "config": topic_config(topic, replication.min_insync),
        },
    }
