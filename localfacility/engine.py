"""The Pulumi engine on this machine: the CLI and the Kubernetes provider built from the Go module
proxy (localfacility.install), this project's language host, a file backend and a generated
passphrase under one state folder.

Stack files in stacks/ are the committed configuration. A stack whose secrets are generated on
this machine (the local stack) runs with a copy of its stack file in the state folder
(`--config-file`), which holds those secrets encrypted; the committed file never does."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from infra.stackfile import PROJECT, stack_file
from localfacility.settings import PROJECT_ROOT


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


@dataclass(frozen=True)
class Engine:
    """`pulumi` with its state, home and passphrase in `state_dir`, plugins from `bin_dir`."""

    state_dir: Path
    bin_dir: Path

    @property
    def passphrase_file(self) -> Path:
        return self.state_dir / "passphrase"

    def env(self) -> dict[str, str]:
        """Everything the CLI needs: nothing is downloaded, nothing outside `state_dir` is written."""
        if not self.passphrase_file.exists():
            _write_private(self.passphrase_file, secrets.token_urlsafe(32))
        (self.state_dir / "backend").mkdir(parents=True, exist_ok=True)
        return {
            "PATH": f"{self.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PULUMI_HOME": str(self.state_dir / "home"),
            "PULUMI_BACKEND_URL": (self.state_dir / "backend").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE_FILE": str(self.passphrase_file),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_SKIP_CONFIRMATIONS": "true",
        }

    def config_file(self, stack: str) -> Path:
        """The stack's config as this machine runs it (plain values from stacks/, secrets set here)."""
        return self.state_dir / f"Pulumi.{stack}.yaml"

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """The CLI itself, for what the automation API does not cover (secrets on stdin)."""
        return subprocess.run(
            [str(self.bin_dir / "pulumi"), *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env()},
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )

    @contextmanager
    def _committed_stack_file_kept(self, stack: str) -> Iterator[None]:
        """`stack init` writes its encryption salt into stacks/Pulumi.<stack>.yaml; this stack's
        salt lives in its config file here, so the committed file is put back as it was."""
        committed = stack_file(stack)
        before = committed.read_bytes() if committed.exists() else None
        try:
            yield
        finally:
            if before is not None and committed.read_bytes() != before:
                committed.write_bytes(before)

    def stack(self, name: str) -> auto.Stack:
        """The stack on this backend, created on first use."""
        command = auto.PulumiCommand(root=str(self.bin_dir.parent))
        options = auto.LocalWorkspaceOptions(
            work_dir=str(PROJECT_ROOT), pulumi_command=command, env_vars=self.env()
        )
        with self._committed_stack_file_kept(name):
            return auto.create_or_select_stack(stack_name=name, work_dir=str(PROJECT_ROOT), opts=options)

    def write_plain_config(self, stack: str, values: dict[str, Any]) -> None:
        """Set the stack's plain values (unprefixed keys) in its config file, keeping its secrets."""
        path = self.config_file(stack)
        document = yaml.safe_load(path.read_text()) if path.exists() else None
        document = document or {}
        config = document.setdefault("config", {})
        for key, value in values.items():
            config[f"{PROJECT}:{key}" if ":" not in key else key] = value
        _write_private(path, yaml.safe_dump(document, sort_keys=False))

    def secret_keys(self, stack: str) -> set[str]:
        """The secret keys already set in the stack's config file (`key` or `key.sub` for objects)."""
        path = self.config_file(stack)
        config = (yaml.safe_load(path.read_text()) or {}).get("config", {}) if path.exists() else {}
        found = set()
        for key, value in config.items():
            name = key.removeprefix(f"{PROJECT}:")
            if isinstance(value, dict) and "secure" in value:
                found.add(name)
            elif isinstance(value, dict):
                found |= {f"{name}.{sub}" for sub, item in value.items() if isinstance(item, dict)}
        return found

    def set_secret(self, stack: str, key: str, value: str) -> None:
        """`pulumi config set --secret` with the value on stdin (never on a command line);
        a dotted key sets one entry of an object (`kafkaUserPasswords.fink-local`)."""
        path = ["--path"] if "." in key else []
        config_file = ["--config-file", str(self.config_file(stack))]
        self.run("config", "set", "--secret", *path, *config_file, "--stack", stack, key, stdin=value)


def existing_pulumi() -> Path | None:
    """A Pulumi installation already on PATH with its own Python host, used instead of building."""
    found = shutil.which("pulumi")
    if found is None:
        return None
    folder = Path(found).resolve().parent
    return folder if (folder / "pulumi-language-python").exists() else None
