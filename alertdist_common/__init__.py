"""What the Pulumi program, the services and the tooling share: the alert schemas and their
registry ids, how to load them into a registry, and how a client logs into Kafka."""
