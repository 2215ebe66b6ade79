"""The policy pack: each rule of infra.policy.rules as a mandatory resource validation policy."""

from __future__ import annotations

from collections.abc import Callable

from pulumi_policy import EnforcementLevel, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from infra.policy.rules import RULES, Props

PACK_NAME = "alert-distribution"


def _validator(
    rule: Callable[[str, Props], list[str]],
) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for violation in rule(args.resource_type, args.props):
            report_violation(violation, args.urn)

    return validate


def policies() -> list[ResourceValidationPolicy]:
    return [
        ResourceValidationPolicy(
            name=name,
            description=description,
            validate=_validator(rule),
            enforcement_level=EnforcementLevel.MANDATORY,
        )
        for name, (description, rule) in RULES.items()
    ]
