"""The alert producer (stream simulator) Deployment. Pure."""

from __future__ import annotations

from infra.components.kubernetes import Manifest, container, deployment, secret_env, service_args
from infra.config import ProducerSpec
from infra.naming import METRICS_PORT, PASSWORD_KEY, PRODUCER_APP, ClusterAddress, password_secret_name


def alert_producer(spec: ProducerSpec, image: str, address: ClusterAddress) -> Manifest:
    env = [
        {"name": "ALERTDIST_KAFKA_BOOTSTRAP", "value": address.kafka_bootstrap()},
        {"name": "ALERTDIST_KAFKA_USERNAME", "value": address.users.producer},
        secret_env("ALERTDIST_KAFKA_PASSWORD", password_secret_name(address.users.producer), PASSWORD_KEY),
    ]
    args = service_args(
        "producer",
        "--topic",
        spec.topic,
        "--alerts-per-visit",
        str(spec.alerts_per_visit),
        "--visit-interval",
        str(spec.visit_interval_seconds),
        "--forever",
    )
    producer = container(PRODUCER_APP, image, env, spec.resources, args=args, metrics_port=METRICS_PORT)
    return deployment(address.namespace, PRODUCER_APP, 1, producer)
