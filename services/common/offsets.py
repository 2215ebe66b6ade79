"""Where a topic's partitions end: the offsets to read from to see only what comes next."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition


def topic_end_offsets(consumer: Consumer, topic: str, timeout: float = 30.0) -> dict[int, int]:
    """The high watermark of each partition of `topic`, as this consumer's user sees it."""
    partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
    return {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)[1] for p in partitions
    }
