"""The Pulumi engine on this machine: the CLI and the Kubernetes provider built from the Go module
proxy (localfacility.install), this project's language host, a file backend and a passphrase
file under one state folder.

The engine runs the project from a project folder of its own in the state folder: a copy of
Pulumi.yaml whose `main` points at infra/, and the stack's config file, written from the committed
stacks/Pulumi.<stack>.yaml plus what this machine adds (its endpoints, its secrets encrypted with
its passphrase). So the committed stack files never receive a machine's secrets or salt, and two
facilities on one machine keep apart."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pulumi import automation as auto

from infra.stackfile import PROJECT
from localfacility.settings import PROJECT_ROOT


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    partial.replace(path)


@dataclass(frozen=True)
class Engine:
    """`pulumi` with its state, home, passphrase file and project folder in `state_dir`, plugins
    from `bin_dir`."""

    state_dir: Path
    bin_dir: Path
    passphrase: str = field(repr=False)

    def __post_init__(self) -> None:
        # The CLI runs in the project folder: every path it is given must be absolute.
        object.__setattr__(self, "state_dir", self.state_dir.resolve())
        object.__setattr__(self, "bin_dir", self.bin_dir.resolve())

    @property
    def cli_dir(self) -> Path:
        """Where `pulumi` is: a Pulumi installation on PATH with its own Python host, else ours."""
        return existing_pulumi() or self.bin_dir

    @property
    def passphrase_file(self) -> Path:
        return self.state_dir / "passphrase"

    @property
    def project_dir(self) -> Path:
        return self.state_dir / "project"

    def env(self) -> dict[str, str]:
        """Everything the CLI needs: nothing is downloaded, nothing outside `state_dir` is written."""
        if not self.passphrase_file.exists():
            write_private(self.passphrase_file, self.passphrase)
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

    def write_project(self) -> None:
        """Pulumi.yaml of the project folder: the committed one, run from infra/ where it is."""
        project = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
        program = (PROJECT_ROOT / project["main"]).resolve()
        project["main"] = os.path.relpath(program, self.project_dir)
        project.pop("stackConfigDir", None)
        self.project_dir.mkdir(parents=True, exist_ok=True)
        (self.project_dir / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))

    def config_file(self, stack: str) -> Path:
        return self.project_dir / f"Pulumi.{stack}.yaml"

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """The CLI itself in the project folder, for what the automation API does not cover."""
        return subprocess.run(
            [str(self.cli_dir / "pulumi"), *args],
            cwd=self.project_dir,
            env={**os.environ, **self.env()},
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        )

    def run_interactive(self, arguments: list[str]) -> int:
        """The CLI with the caller's terminal; its exit code."""
        argv = [str(self.cli_dir / "pulumi"), *arguments]
        return subprocess.run(
            argv, cwd=self.project_dir, env={**os.environ, **self.env()}, check=False
        ).returncode

    def stack(self, name: str) -> auto.Stack:
        """The stack on this backend, created on first use."""
        self.write_project()
        command = auto.PulumiCommand(root=str(self.cli_dir.parent))  # it runs <root>/bin/pulumi
        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.project_dir), pulumi_command=command, env_vars=self.env()
        )
        return auto.create_or_select_stack(stack_name=name, work_dir=str(self.project_dir), opts=options)

    def write_plain_config(self, stack: str, values: dict[str, Any]) -> None:
        """Make `values` (keys as in a stack file) the stack's plain config, keeping its secrets
        and salt."""
        path = self.config_file(stack)
        document = (yaml.safe_load(path.read_text()) if path.exists() else None) or {}
        kept = {key: value for key, value in (document.get("config") or {}).items() if _holds_secret(value)}
        document["config"] = {**values, **kept}
        write_private(path, yaml.safe_dump(document, sort_keys=False))

    def secret_keys(self, stack: str) -> set[str]:
        """The project's secret keys already set (`key`, or `key.entry` inside an object)."""
        path = self.config_file(stack)
        config = ((yaml.safe_load(path.read_text()) or {}).get("config") or {}) if path.exists() else {}
        found = set()
        for key, value in config.items():
            if not key.startswith(f"{PROJECT}:") or not isinstance(value, dict):
                continue
            name = key.removeprefix(f"{PROJECT}:")
            if "secure" in value:
                found.add(name)
            else:
                found |= {f"{name}.{entry}" for entry, item in value.items() if isinstance(item, dict)}
        return found

    def set_missing_secrets(self, stack: str, values: dict[str, str | dict[str, str]]) -> None:
        """Set each secret not set yet (an object's entries one by one); later changes made with
        `pulumi config set --secret` are kept."""
        have = self.secret_keys(stack)
        for key, value in values.items():
            entries = value.items() if isinstance(value, dict) else [(None, value)]
            for entry, text in entries:
                name = key if entry is None else f"{key}.{entry}"
                if name not in have:
                    self.set_secret(stack, name, text)

    def set_secret(self, stack: str, key: str, value: str) -> None:
        """`pulumi config set --secret` with the value on stdin (never on a command line); a
        dotted key sets one entry of an object (`kafkaUserPasswords.fink-local`)."""
        path = ["--path"] if "." in key else []
        self.run("config", "set", "--secret", *path, "--stack", stack, f"{PROJECT}:{key}", stdin=value)


def _holds_secret(value: Any) -> bool:
    """A config value that is a secret, or an object with a secret entry."""
    if isinstance(value, dict):
        return "secure" in value or any(_holds_secret(item) for item in value.values())
    return False


def existing_pulumi() -> Path | None:
    """A Pulumi installation already on PATH with its own Python host, used instead of building."""
    found = shutil.which("pulumi")
    if found is None:
        return None
    folder = Path(found).resolve().parent
    return folder if (folder / "pulumi-language-python").exists() else None
