"""The facility stacks rendered by the real engine and Kubernetes provider, once per session."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from localfacility.install import install_engine
from localfacility.render import render_stack
from localfacility.settings import FacilitySettings

SETTINGS = FacilitySettings()


@cache
def rendered(stack: str) -> list[dict[str, Any]]:
    """Every object `pulumi up` wrote for the stack, in render mode."""
    install_engine(SETTINGS, kubernetes_provider=True)
    folder = render_stack(stack, SETTINGS.run_dir.parent / "render" / stack, SETTINGS.bin_dir)
    objects = [doc for path in sorted(folder.rglob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())]
    assert objects, f"the engine wrote nothing for {stack}"
    return objects
