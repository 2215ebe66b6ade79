"""The alert producer (stream simulator) Deployment. Pure."""

from __future__ import annotations

from infra.components.kubernetes import Manifest, container, deployment, secret_env
from infra.config import ProducerSpec
from infra.naming import PASSWORD_KEY, PRODUCER_APP, ClusterAddress, password_secret_name
from infra.tables import PRODUCER_USER


def alert_producer(spec: ProducerSpec, image: str, address: ClusterAddress) -> Manifest:
    env = [
        {"name": "ALERTDIST_KAFKA_BOOTSTRAP", "value": address.kafka_bootstrap()},
        {"name": "ALERTDIST_KAFKA_USERNAME", "value": PRODUCER_USER},
        secret_env("ALERTDIST_KAFKA_PASSWORD", password_secret_name(PRODUCER_USER), PASSWORD_KEY),
    ]
    args = [
        "python",
        "-m",
        "services.producer.cli",
        "--topic",
        spec.topic,
        "--alerts-per-visit",
        str(spec.alerts_per_visit),
        "--visit-interval",
        str(spec.visit_interval_seconds),
        "--forever",
    ]
    return deployment(address.namespace, PRODUCER_APP, 1, container(PRODUCER_APP, image, env, args=args))
