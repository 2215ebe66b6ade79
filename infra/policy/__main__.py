"""Entry point for `pulumi up --policy-pack infra/policy`."""

from pulumi_policy import PolicyPack

from infra.policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, policies=list(policies()))
