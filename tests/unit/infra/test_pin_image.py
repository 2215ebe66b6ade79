"""The release workflow's last step: pin the services image in the stack files by digest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.stackfile import load_values_image, pin_services_image, stack_file

DIGEST = "sha256:" + "3" * 64
RELEASE = f"ghcr.io/lsst-dm/alertdist-services:0.2.0@{DIGEST}"


@pytest.mark.parametrize("stack", ["idf", "usdf"])
def test_pinning_changes_only_the_image_line(stack: str, tmp_path: Path) -> None:
    copy = tmp_path / f"Pulumi.{stack}.yaml"
    shutil.copy(stack_file(stack), copy)
    before = copy.read_text().splitlines()
    pin_services_image(copy, RELEASE)
    after = copy.read_text().splitlines()
    changed = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert len(changed) == 1
    assert changed[0][1].strip() == f"alertdist:servicesImage: {RELEASE}"
    assert load_values_image(copy) == RELEASE


@pytest.mark.parametrize(
    "image", ["ghcr.io/lsst-dm/alertdist-services:0.2.0", "ghcr.io/lsst-dm/alertdist-services:latest"]
)
def test_pinning_needs_a_digest(image: str, tmp_path: Path) -> None:
    copy = tmp_path / "Pulumi.idf.yaml"
    shutil.copy(stack_file("idf"), copy)
    with pytest.raises(ValueError, match=r"digest|latest"):
        pin_services_image(copy, image)
    assert copy.read_text() == stack_file("idf").read_text()
