"""Installation is pinned by the wrapper modules and skipped when nothing changed."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from infra.config import KafkaClusterSpec
from infra.stackfile import load_stack
from localfacility import install
from localfacility.engine import Engine
from localfacility.settings import STRIMZI_SOURCES, TOOLS_DIR, FacilitySettings
from tests.unit.infra.test_program import FACILITY_STACKS


@pytest.mark.parametrize("name", install.GO_TOOLS + install.TEST_GO_TOOLS)
def test_each_go_tool_is_pinned(name: str) -> None:
    package = install.go_tool_package(name)
    go_mod = (TOOLS_DIR / name / "go.mod").read_text()
    module = next(line.split()[1] for line in go_mod.splitlines() if line.startswith("require "))
    assert package.startswith(module)
    assert (TOOLS_DIR / name / "go.sum").stat().st_size > 0


def go_mod_requirements(name: str) -> dict[str, str]:
    """module -> version, of a wrapper module's go.mod (its replaces' targets for those replaced)."""
    versions: dict[str, str] = {}
    for line in (TOOLS_DIR / name / "go.mod").read_text().splitlines():
        words = line.replace("require ", "").split()
        if len(words) >= 2 and words[1].startswith("v"):
            versions[words[0]] = words[1]
        if "=>" in words and len(words) == 4:
            versions[words[0]] = words[3]
    return versions


def test_the_local_kubernetes_binaries_are_what_its_wrapper_pins() -> None:
    assert sorted(install.KUBERNETES_BINARIES.values()) == sorted(install.go_tool_packages("kubernetes"))


def test_the_local_kubernetes_shares_the_providers_client_libraries() -> None:
    """The control plane's staging modules are the very versions the Kubernetes provider builds
    with, so the second build reuses the first's compiled packages (docs/development.md)."""
    kubernetes, provider = go_mod_requirements("kubernetes"), go_mod_requirements("pulumi-kubernetes")
    shared = (
        "k8s.io/api",
        "k8s.io/apimachinery",
        "k8s.io/client-go",
        "k8s.io/apiserver",
        "k8s.io/component-base",
    )
    assert {m: kubernetes[m] for m in shared} == {m: provider[m] for m in shared}
    release = kubernetes["k8s.io/kubernetes"]
    assert kubernetes["k8s.io/client-go"] == release.replace("v1.", "v0.", 1)


def test_the_servers_are_stamped_with_the_pinned_release() -> None:
    stamp = install.kubernetes_version_stamp()
    assert "-X k8s.io/component-base/version.gitVersion=v1.33.3" in stamp
    assert "-X k8s.io/client-go/pkg/version.gitMinor=33" in stamp


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
    monkeypatch.setattr(
        install, "ensure_debian_packages", lambda test_tools=False: ran.append(f"debian{test_tools}") or []
    )
    monkeypatch.setattr(install, "install_maven_tool", lambda _s, tool: ran.append(tool) or True)
    monkeypatch.setattr(install, "install_go_tool", lambda _s, name: ran.append(name) or True)
    monkeypatch.setattr(install, "install_pulumi_cli", lambda _s: ran.append("pulumi") or True)
    monkeypatch.setattr(
        install, "install_kubernetes_provider", lambda _s: ran.append("pulumi-resource-kubernetes") or True
    )
    monkeypatch.setattr(install, "install_kubernetes", lambda _s: ran.append("kubernetes") or True)
    monkeypatch.setattr(install, "install_kwok", lambda _s: ran.append("kwok") or True)
    monkeypatch.setattr(
        install, "install_strimzi", lambda _s, release: ran.append(f"strimzi-{release}") or True
    )
    monkeypatch.setattr(install, "write_engine_wrappers", lambda _s: None)
    return ran


def test_the_local_facility_builds_no_kubernetes_provider(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local stack has no Kubernetes: only the facility stacks' tests need the provider, the
    local Kubernetes and KWOK; the control plane is built after the provider, whose client
    libraries' build cache it shares."""
    ran = record_steps(monkeypatch)
    installed = install.install_all(FacilitySettings(run_dir=tmp_path))
    assert {
        "pulumi-resource-kubernetes",
        "kubernetes",
        "kwok",
        "actionlint",
        "promtool",
        "strimzi-1.2.0",
        "strimzi-0.51.0",
    }.isdisjoint(ran)
    assert "debianFalse" in ran  # no socat: only Strimzi's operators in the tests use it
    assert set(installed) == {"kafka", "avro", *install.GO_TOOLS, "pulumi"}
    ran.clear()
    install.install_all(FacilitySettings(run_dir=tmp_path), test_tools=True)
    assert ran.index("kubernetes") > ran.index("pulumi-resource-kubernetes") > ran.index("pulumi")
    assert {"actionlint", "promtool", "kwok", "debianTrue", "strimzi-1.2.0", "strimzi-0.51.0"} <= set(ran)
    assert ran.index("strimzi-1.2.0") > ran.index("kafka")  # in the downloads' lane, after the jars


def test_strimzi_s_operators_are_built_for_the_release_and_kafka_each_facility_names() -> None:
    """The cluster operator validates a Kafka against the configuration model of the version it
    names: the models built are those of the stacks that run Strimzi's Kafka themselves."""
    models: dict[str, set[str]] = {}
    for stack in FACILITY_STACKS:
        kafka = load_stack(stack).kafka
        assert kafka is not None
        assert kafka.strimzi is not None
        models.setdefault(kafka.strimzi.chart_version, set())
        if isinstance(kafka, KafkaClusterSpec):  # the cluster operator's, where the stack runs Kafka
            models[kafka.strimzi.chart_version].add(kafka.version)
    releases = install.STRIMZI_RELEASES
    assert models == {release: set(built.kafka_models) for release, built in releases.items()}
    for built in releases.values():  # a stack runs its users and topics; its Kafka where it has one
        assert {"user-operator", "topic-operator"} <= set(built.operators)
        assert ("cluster-operator" in built.operators) == bool(built.kafka_models)


def test_the_cluster_operator_environment_is_the_release_s_own(tmp_path: Path) -> None:
    """Literal values of the release's install Deployment (its images by Kafka version), not what
    the pod itself would give (namespace, identity)."""
    archive = STRIMZI_SOURCES / "strimzi-kafka-operator-1.2.0.tar.gz"
    if not archive.is_file():
        pytest.skip(f"Strimzi 1.2.0's sources are not on this machine ({STRIMZI_SOURCES})")
    member = (
        f"strimzi-kafka-operator-1.2.0/packaging/install/cluster-operator/{install.STRIMZI_CO_DEPLOYMENT}"
    )
    with tarfile.open(archive) as tar:
        source = tar.extractfile(member)
        assert source is not None
        (tmp_path / "deployment.yaml").write_bytes(source.read())
    env = install._literal_env(tmp_path / "deployment.yaml")
    assert env["STRIMZI_KAFKA_IMAGES"].split() == [
        f"{v}=quay.io/strimzi/kafka:1.2.0-kafka-{v}" for v in ("4.2.0", "4.2.1", "4.3.0", "4.3.1")
    ]
    assert "STRIMZI_NAMESPACE" not in env  # from the pod (fieldRef): localfacility.strimzi sets it


@pytest.mark.parametrize(
    ("release", "expected"),
    [
        ("1.2.0", {"topic-operator": "io.strimzi.operator.topic.Main"}),
        ("0.51.0", {"topic-operator": "io.strimzi.operator.topic.TopicOperatorMain"}),
    ],
)
def test_each_operator_starts_with_its_release_s_own_main_class(
    tmp_path: Path, release: str, expected: dict[str, str]
) -> None:
    """Read from the release's run scripts, where it moves between releases."""
    archive = STRIMZI_SOURCES / f"strimzi-kafka-operator-{release}.tar.gz"
    if not archive.is_file():
        pytest.skip(f"Strimzi {release}'s sources are not on this machine ({STRIMZI_SOURCES})")
    operators = install.STRIMZI_RELEASES[release].operators
    with tarfile.open(archive) as tar:
        for operator in operators:
            script = f"{operator}/scripts/{operator.replace('-', '_')}_run.sh"
            source = tar.extractfile(f"strimzi-kafka-operator-{release}/{script}")
            assert source is not None
            (tmp_path / script).parent.mkdir(parents=True)
            (tmp_path / script).write_bytes(source.read())
    found = {operator: install.main_class(tmp_path, operator) for operator in operators}
    assert found["user-operator"] == "io.strimzi.operator.user.Main"
    assert expected.items() <= found.items()


def test_a_step_says_what_it_does_and_how_long_it_usually_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(install.subprocess, "run", lambda *a, **k: None)
    monkeypatch.setattr(install.shutil, "which", lambda _c: "/usr/bin/go")
    install.install_go_tool(FacilitySettings(run_dir=tmp_path), "versitygw")
    said = capsys.readouterr().err.splitlines()
    assert said[0].startswith("[install] building versitygw from the Go module proxy (first time: about ")
    assert said[-1].startswith("[install] versitygw ready in ")
