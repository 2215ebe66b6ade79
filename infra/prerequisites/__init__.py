"""The prerequisites program: what a facility provides before the alert distribution system is
deployed, the Strimzi operator and the archive bucket.

Kept apart from the main program as Rubin keeps them apart (phalanx installs the operator as its
own `strimzi` application per environment, e.g. applications/strimzi/values-usdfdev-alert-stream-broker.yaml,
beside applications/alert-stream-broker), and because neither a Helm repository nor the GCP and AWS
providers can be reached where the main program is run under the engine in CI: this program is
tested under Pulumi mocks only."""
