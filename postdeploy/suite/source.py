"""Where the suite finds the stack outputs that `alertdist-postdeploy --stack` read in its own
process (the config's stash), so that no file ever holds the passwords."""

from __future__ import annotations

import pytest

from alertdist_common.outputs import StackOutputs

OUTPUTS_KEY = pytest.StashKey[StackOutputs]()


class StackOutputsSource:
    """A pytest plugin handing the suite outputs read in this process."""

    def __init__(self, outputs: StackOutputs) -> None:
        self.outputs = outputs

    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[OUTPUTS_KEY] = self.outputs
