"""Start, probe and stop the facility's server processes, each tracked by its own pid file."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ServiceError(RuntimeError):
    """A service failed to start or to become ready."""


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one server and how to know that it really answers."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    start_timeout: float = 90.0
    clean_env: bool = False  # start with `env` alone, not this process's environment with it
    forks: bool = False  # it forks a child per connection: stopping it signals its process group


@dataclass(frozen=True)
class Supervisor:
    """Keeps pid files and logs for the services it starts; touches no other process."""

    pid_dir: Path
    log_dir: Path

    def pid_file(self, name: str) -> Path:
        return self.pid_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def running_pid(self, spec: ServiceSpec) -> int | None:
        """The pid of our own live process for this service, or None."""
        path = self.pid_file(spec.name)
        if not path.exists():
            return None
        pid = int(path.read_text().strip())
        cmdline = _cmdline(pid)
        if cmdline is None:
            path.unlink(missing_ok=True)
            return None
        if cmdline != [arg.encode() for arg in spec.argv]:
            # The pid now belongs to an unrelated process: not ours to touch.
            path.unlink(missing_ok=True)
            return None
        return pid

    def start(self, spec: ServiceSpec) -> tuple[int, bool]:
        """Start the service unless it already runs; wait until it is ready.

        Returns (pid, started_now).
        """
        pid, started = self.launch(spec)
        self.wait_ready(spec, pid)
        return pid, started

    def launch(self, spec: ServiceSpec) -> tuple[int, bool]:
        """Start the service unless it already runs, without waiting. Returns (pid, started_now)."""
        pid = self.running_pid(spec)
        if pid is not None:
            return pid, False
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file(spec.name).open("ab") as log:
            proc = subprocess.Popen(
                spec.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env=dict(spec.env) if spec.clean_env else {**os.environ, **spec.env},
                user=spec.user,
                start_new_session=True,
            )
        self.pid_file(spec.name).write_text(f"{proc.pid}\n")
        return proc.pid, True

    def wait_ready(self, spec: ServiceSpec, pid: int) -> None:
        deadline = time.monotonic() + spec.start_timeout
        while time.monotonic() < deadline:
            if not _alive(pid):
                raise ServiceError(
                    f"{spec.name} exited during start-up; see {self.log_file(spec.name)}:\n"
                    + self.tail(spec.name)
                )
            try:
                if spec.ready():
                    return
            except Exception:  # noqa: S110 - a probe failing just means "not ready yet"
                pass
            time.sleep(0.5)
        raise ServiceError(
            f"{spec.name} (pid {pid}) did not answer within {spec.start_timeout:.0f} s; "
            f"see {self.log_file(spec.name)}"
        )

    def stop(self, spec: ServiceSpec, timeout: float = 60.0) -> bool:
        """Stop the service by its recorded pid. Returns whether it was running."""
        pid = self.running_pid(spec)
        if pid is None:
            return False
        if spec.forks:  # its group: it leads one of its own (start_new_session)
            os.killpg(pid, spec.stop_signal)
        else:
            os.kill(pid, spec.stop_signal)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.1)
        _reap(pid)
        self.pid_file(spec.name).unlink(missing_ok=True)
        return True

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.log_file(name)
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _cmdline(pid: int, settle: float = 2.0) -> list[bytes] | None:
    """The argv of a live process, or None when it is gone.

    Just after fork/exec the kernel has switched the process to its new memory map but not yet
    filled in its arguments, so /proc/<pid>/cmdline reads empty for a moment; wait that out.
    """
    deadline = time.monotonic() + settle
    while True:
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError):
            return None
        if raw or time.monotonic() > deadline:
            return raw.split(b"\0")[:-1]
        time.sleep(0.01)


def _reap(pid: int) -> None:
    """Collect the exit status when the process was started by this one (no zombie left)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return True
