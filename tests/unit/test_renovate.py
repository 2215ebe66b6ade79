"""Third-party images are pinned by digest and kept current by Renovate (renovate.json), as Rubin's
phalanx keeps its own: its Dockerfile manager covers services/Dockerfile's FROM and COPY --from
lines, and the regex manager here every image a facility stack runs. Renovate itself runs at
GitHub; what is checked here is that its configuration reaches every image the project names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from infra.stackfile import read_config_values, stack_file, stack_names

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / "renovate.json").read_text())


def python_regex(renovate: str) -> re.Pattern[str]:
    """A Renovate (JavaScript) regex as Python reads it: named groups are spelled (?P<name>)."""
    return re.compile(renovate.replace("(?<", "(?P<"))


def images_in(value: object) -> list[str]:
    """Every `image` value anywhere in a stack's config."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "image" and isinstance(v, str)] + [
            image for v in value.values() for image in images_in(v)
        ]
    if isinstance(value, list):
        return [image for v in value for image in images_in(v)]
    return []


def test_docker_images_get_digests_and_updates_on_a_schedule() -> None:
    assert "docker:pinDigests" in CONFIG["extends"]
    assert CONFIG["schedule"]


def test_every_image_a_stack_runs_is_found_by_the_stacks_manager() -> None:
    (manager,) = CONFIG["customManagers"]
    (files,) = manager["managerFilePatterns"]
    (match,) = manager["matchStrings"]
    files_regex, pattern = re.compile(files.strip("/")), python_regex(match)
    checked = 0
    for stack in stack_names():
        path = stack_file(stack)
        assert files_regex.search(str(path.relative_to(ROOT)))
        wanted = sorted(images_in(read_config_values(path)))
        found = sorted(
            f"{m['depName']}:{m['currentValue']}" + (f"@{m['currentDigest']}" if m["currentDigest"] else "")
            for m in pattern.finditer(path.read_text())
        )
        assert found == wanted, stack
        checked += len(wanted)
    assert checked >= 1  # the idf registry's image


def test_the_pattern_reads_a_digest_and_leaves_a_comment_alone() -> None:
    (match,) = CONFIG["customManagers"][0]["matchStrings"]
    pattern = python_regex(match)
    digest = "sha256:" + "a" * 64
    (pinned,) = pattern.finditer(f"x:\n    image: confluentinc/cp-schema-registry:7.9.2@{digest}\n")
    assert (pinned["depName"], pinned["currentValue"], pinned["currentDigest"]) == (
        "confluentinc/cp-schema-registry",
        "7.9.2",
        digest,
    )
    assert not list(pattern.finditer("x:\n    # image: confluentinc/cp-schema-registry:7.9.2\n"))


def test_the_services_image_is_left_to_the_release_workflow() -> None:
    (rule,) = [
        r for r in CONFIG["packageRules"] if "ghcr.io/lsst-dm/alertdist-services" in r["matchPackageNames"]
    ]
    assert rule["enabled"] is False


def test_the_dockerfile_names_each_image_by_a_tag_renovate_can_pin() -> None:
    """Renovate's Dockerfile manager reads FROM and COPY --from images; each names a full version."""
    text = (ROOT / "services" / "Dockerfile").read_text()
    images = re.findall(r"^FROM (\S+)", text, re.M) + re.findall(r"--from=(\S+)", text)
    assert len(images) == 2
    for image in images:
        assert re.fullmatch(r"[a-z0-9./_-]+:\d+\.\d+\.\d+[A-Za-z0-9._-]*(@sha256:[a-f0-9]{64})?", image), (
            image
        )
