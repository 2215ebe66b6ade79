"""How a client logs into Kafka: read from the environment (ALERTDIST_KAFKA_*) by the services,
built from the stack outputs by the tooling."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How a service logs into Kafka: ALERTDIST_KAFKA_BOOTSTRAP, _USERNAME, _PASSWORD, ..."""

    model_config = SettingsConfigDict(env_prefix="ALERTDIST_KAFKA_", frozen=True)

    bootstrap: str
    username: str
    password: SecretStr
    security_protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] = "SASL_PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512"] = "SCRAM-SHA-512"
    ca_file: Path | None = None

    def client_config(self) -> dict[str, str]:
        """librdkafka settings common to producers, consumers and admin clients."""
        config = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.username,
            "sasl.password": self.password.get_secret_value(),
        }
        if self.ca_file is not None:
            config["ssl.ca.location"] = str(self.ca_file)
        return config
