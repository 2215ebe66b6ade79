"""Installation is pinned by the wrapper modules and skipped when nothing changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from localfacility import install
from localfacility.engine import Engine
from localfacility.settings import TOOLS_DIR, FacilitySettings


@pytest.mark.parametrize("name", install.GO_TOOLS + install.TEST_GO_TOOLS)
def test_each_go_tool_is_pinned(name: str) -> None:
    package = install.go_tool_package(name)
    go_mod = (TOOLS_DIR / name / "go.mod").read_text()
    module = next(line.split()[1] for line in go_mod.splitlines() if line.startswith("require "))
    assert package.startswith(module)
    assert (TOOLS_DIR / name / "go.sum").stat().st_size > 0


def test_up_to_date_tool_is_not_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = FacilitySettings(run_dir=tmp_path)
    settings.bin_dir.mkdir(parents=True)
    (settings.bin_dir / "versitygw").write_text("binary")
    module = TOOLS_DIR / "versitygw"
    (settings.bin_dir / ".versitygw.sha256").write_text(install._digest(module / "go.mod", module / "go.sum"))

    def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("rebuilt although up to date")

    monkeypatch.setattr(install.subprocess, "run", no_build)
    assert install.install_go_tool(settings, "versitygw") is False


def test_changed_pin_triggers_a_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = FacilitySettings(run_dir=tmp_path)
    settings.bin_dir.mkdir(parents=True)
    (settings.bin_dir / "versitygw").write_text("binary")
    (settings.bin_dir / ".versitygw.sha256").write_text("stale")
    calls: list[list[str]] = []
    monkeypatch.setattr(install.subprocess, "run", lambda argv, **kw: calls.append(argv))
    assert install.install_go_tool(settings, "versitygw") is True
    assert calls[0][:3] == ["go", "build", "-trimpath"]
    assert calls[0][-1] == install.go_tool_package("versitygw")


def test_a_pulumi_with_its_own_python_host_on_path_is_used_not_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "pulumi" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("pulumi", "pulumi-language-python"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setattr(install.subprocess, "run", lambda *a, **k: pytest.fail("built anyway"))
    settings = FacilitySettings(run_dir=tmp_path / "run")
    assert install.install_pulumi_cli(settings) is False
    engine = Engine(state_dir=tmp_path / "state", bin_dir=settings.bin_dir, passphrase="x")
    assert engine.cli_dir == bin_dir
    (bin_dir / "pulumi-language-python").unlink()  # a CLI without its host is not enough
    assert engine.cli_dir == settings.bin_dir.resolve()


def record_steps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every install step replaced by one that records its name (and installs nothing)."""
    ran: list[str] = []
    monkeypatch.setattr(install, "ensure_debian_packages", lambda: ran.append("debian") or [])
    monkeypatch.setattr(install, "install_maven_tool", lambda _s, tool: ran.append(tool) or True)
    monkeypatch.setattr(install, "install_go_tool", lambda _s, name: ran.append(name) or True)
    monkeypatch.setattr(install, "install_pulumi_cli", lambda _s: ran.append("pulumi") or True)
    monkeypatch.setattr(install, "install_kubernetes_provider", lambda _s: ran.append("kubernetes") or True)
    monkeypatch.setattr(install, "write_engine_wrappers", lambda _s: None)
    return ran


def test_the_local_facility_builds_no_kubernetes_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local stack has no Kubernetes: only renders of the facility stacks need the provider."""
    ran = record_steps(monkeypatch)
    installed = install.install_all(FacilitySettings(run_dir=tmp_path))
    assert "kubernetes" not in ran
    assert "actionlint" not in ran
    assert set(installed) == {"kafka", "avro", *install.GO_TOOLS, "pulumi"}
    ran.clear()
    install.install_all(FacilitySettings(run_dir=tmp_path), test_tools=True)
    assert ran.index("kubernetes") > ran.index("pulumi")
    assert "actionlint" in ran


def test_a_step_says_what_it_does_and_how_long_it_usually_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(install.subprocess, "run", lambda *a, **k: None)
    monkeypatch.setattr(install.shutil, "which", lambda _c: "/usr/bin/go")
    install.install_go_tool(FacilitySettings(run_dir=tmp_path), "versitygw")
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith("[install] building versitygw from the Go module proxy (first time: about ")
    assert said[-1].startswith("[install] versitygw ready in ")
