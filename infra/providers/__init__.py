"""Pulumi dynamic providers for what the local stack manages directly on running servers.

At a facility Strimzi reconciles topics and users from CRs; here no Kubernetes runs and the
pulumi-kafka provider plugin cannot be built, so these providers manage the same things through
Kafka's admin API, the registry's REST API and the object stores' APIs, with real create, diff,
update, read (for `pulumi refresh`) and delete."""
