"""The alert topics and the system's internal topics, from the one topic table in config."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi

from infra.config import Replication, TopicSpec

if TYPE_CHECKING:  # the targets build on this package's manifests
    from infra.components.targets import KafkaTarget


class KafkaTopics(pulumi.ComponentResource):
    """Every topic the stack declares, with partitions, replication and retention."""

    def __init__(
        self,
        name: str,
        topics: list[TopicSpec],
        replication: Replication,
        target: KafkaTarget,
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("alertdist:topics:KafkaTopics", name, None, opts)
        self.topics = {topic.name: target.declare_topic(topic, replication, self) for topic in topics}
        self.register_outputs({"topics": list(self.topics)})
