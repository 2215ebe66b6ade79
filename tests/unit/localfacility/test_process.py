"""The supervisor starts, probes and stops only its own processes."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from localfacility.process import ServiceError, ServiceSpec, Supervisor


def _supervisor(tmp_path: Path) -> Supervisor:
    return Supervisor(pid_dir=tmp_path / "pids", log_dir=tmp_path / "logs")


def _sleeper(name: str = "sleeper", **kwargs) -> ServiceSpec:  # type: ignore[no-untyped-def]
    return ServiceSpec(name=name, argv=["sleep", "30"], ready=lambda: True, **kwargs)


def test_start_is_idempotent_and_stop_ends_the_process(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path)
    spec = _sleeper()
    pid, started = supervisor.start(spec)
    assert started
    assert supervisor.start(spec) == (pid, False)
    assert supervisor.stop(spec)
    assert not Path(f"/proc/{pid}").exists()
    assert supervisor.running_pid(spec) is None
    assert not supervisor.stop(spec)


def test_never_touches_a_foreign_pid(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path)
    spec = _sleeper()
    supervisor.pid_dir.mkdir(parents=True)
    supervisor.pid_file(spec.name).write_text(f"{os.getpid()}\n")
    assert supervisor.running_pid(spec) is None
    assert not supervisor.stop(spec)


def test_crash_during_start_up_reports_the_log(tmp_path: Path) -> None:
    spec = ServiceSpec(
        name="crasher",
        argv=[sys.executable, "-c", "import sys; print('bad config line 3'); sys.exit(2)"],
        ready=lambda: False,
    )
    with pytest.raises(ServiceError, match="bad config line 3"):
        _supervisor(tmp_path).start(spec)


def test_a_service_that_never_answers_times_out(tmp_path: Path) -> None:
    supervisor = _supervisor(tmp_path)
    spec = ServiceSpec(name="mute", argv=["sleep", "30"], ready=lambda: False, start_timeout=1.0)
    with pytest.raises(ServiceError, match="did not answer"):
        supervisor.start(spec)
    assert supervisor.stop(spec)


def test_a_just_launched_process_is_recognised_as_ours(tmp_path: Path) -> None:
    """Right after exec the kernel briefly shows an empty cmdline; that must not orphan the pid."""
    supervisor = _supervisor(tmp_path)
    spec = _sleeper()
    for _ in range(20):
        pid, started = supervisor.launch(spec)
        assert started
        assert supervisor.running_pid(spec) == pid
        assert supervisor.stop(spec)


def test_stopping_a_forking_service_ends_its_children_and_a_clean_one_inherits_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relay forks a child per connection: stopping it stops them too. A service started with a
    clean environment sees only what its spec gives it."""
    monkeypatch.setenv("ALERTDIST_TEST_SECRET", "not-inherited")
    child_pid = tmp_path / "child.pid"
    environment = tmp_path / "env.txt"
    script = f"env > {environment}; sleep 300 & echo $! > {child_pid}; wait"
    spec = ServiceSpec(
        name="forking",
        argv=["/bin/sh", "-c", script],
        ready=child_pid.exists,
        env={"PATH": "/usr/bin:/bin"},
        clean_env=True,
        forks=True,
    )
    supervisor = Supervisor(pid_dir=tmp_path / "pids", log_dir=tmp_path / "logs")
    supervisor.start(spec)
    child = int(child_pid.read_text())
    assert "ALERTDIST_TEST_SECRET" not in environment.read_text()
    assert supervisor.stop(spec, timeout=5)
    for _ in range(50):
        if not Path(f"/proc/{child}").exists():
            break
        time.sleep(0.1)
    assert not Path(f"/proc/{child}").exists(), "the forked child outlived its parent's stop"
