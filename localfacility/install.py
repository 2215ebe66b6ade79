"""Install the facility's real servers and the Pulumi engine from package registries, pinned,
cached by content hash."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version
from pathlib import Path

import yaml

from localfacility.engine import existing_pulumi
from localfacility.settings import STRIMZI_SOURCES, TOOLS_DIR, FacilitySettings

GO_TOOLS = ("schema-registry", "versitygw", "fake-gcs-server")
# The workflows' linter, which scripts/test.sh runs; Prometheus's rule checker and tester, which the
# tests run on the stacks' alerting rules.
TEST_GO_TOOLS = ("actionlint", "promtool")
# Build tags a wrapper module's tool is built with: Prometheus's tags leave out every service
# discovery plugin (prometheus v0.316.0 plugins/plugin_*.go), which rules never use.
GO_BUILD_TAGS = {"promtool": "remove_all_sd"}
_IMPORT = re.compile(r'^\s*(?:import )?_ "([^"]+)"$', re.MULTILINE)


class InstallError(RuntimeError):
    """A prerequisite is missing or a build failed."""


def _digest(*paths: Path) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.read_bytes())
    return sha.hexdigest()


def _require(command: str, hint: str) -> None:
    if shutil.which(command) is None:
        raise InstallError(f"{command} not found: {hint}")


def _log(message: str) -> None:
    print(f"[install] {message}", file=sys.stderr, flush=True)


# What each first install usually takes on a fresh 2-core machine (docs/development.md, Start-up
# times), said as it starts: a newcomer otherwise watches minutes of `go: downloading` lines.
COLD_MINUTES = {
    "kafka": "1",
    "avro": "0.5",
    "schema-registry": "2",
    "versitygw": "2",
    "fake-gcs-server": "2",
    "actionlint": "1",
    "promtool": "2",
    "pulumi": "6 to 14",
    "pulumi-resource-kubernetes": "10 to 28",
    "kubernetes": "10 to 18",
    "kwok": "3",
    "strimzi": "2.5",
}


@contextmanager
def _step(name: str, what: str) -> Iterator[None]:
    """Say what a long step does and how long it usually takes; then how long it took."""
    _log(f"{what} (first time: about {COLD_MINUTES[name]} min on 2 cores; cached afterwards)")
    started = time.monotonic()
    yield
    _log(f"{name} ready in {(time.monotonic() - started) / 60:.1f} min")


def install_maven_tool(settings: FacilitySettings, tool: str) -> bool:
    """Copy the jars a tool's pom pins (Kafka, Avro), with their dependencies, from Maven Central."""
    pom = TOOLS_DIR / tool / "pom.xml"
    libs = settings.maven_libs_dir(tool)
    marker = libs / ".pom.sha256"
    digest = _digest(pom)
    if marker.exists() and marker.read_text() == digest:
        return False
    _require("mvn", "install Maven (apt-get install maven)")
    _require("java", "install a JDK 17 or newer (apt-get install openjdk-17-jdk-headless)")
    shutil.rmtree(libs, ignore_errors=True)
    with _step(tool, f"fetching the {tool} jars from Maven Central"):
        subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={libs}",
                "-DincludeScope=runtime",
            ],
            check=True,
        )
    marker.write_text(digest)
    return True


def go_tool_packages(name: str) -> list[str]:
    """The Go packages a wrapper module pins (the imports in its tools.go)."""
    packages = _IMPORT.findall((TOOLS_DIR / name / "tools.go").read_text())
    if not packages:
        raise InstallError(f"{TOOLS_DIR / name / 'tools.go'} names no package")
    return packages


def go_tool_package(name: str) -> str:
    """The one Go package a single-tool wrapper module pins."""
    (package,) = go_tool_packages(name)
    return package


_GO_ENV = {"CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"}


def _pinned(name: str, binary: Path, *extra: str) -> tuple[bool, str]:
    """Whether `binary` was built from the wrapper module as it is now (and `extra` inputs)."""
    module_dir = TOOLS_DIR / name
    digest = _digest(module_dir / "go.mod", module_dir / "go.sum") + "".join(extra)
    marker = binary.parent / f".{binary.name}.sha256"
    return binary.exists() and marker.exists() and marker.read_text() == digest, digest


def _mark_built(binary: Path, digest: str) -> None:
    (binary.parent / f".{binary.name}.sha256").write_text(digest)


def _go_build(
    cwd: Path, binary: Path, target: str, ldflags: str, env: dict[str, str], tags: str = ""
) -> None:
    binary.parent.mkdir(parents=True, exist_ok=True)
    argv = ["go", "build", "-trimpath", "-o", str(binary)]
    argv += ["-ldflags", ldflags] if ldflags else []
    argv += ["-tags", tags] if tags else []
    subprocess.run([*argv, target], cwd=cwd, env=env, check=True)


def install_go_tool(settings: FacilitySettings, name: str, ldflags: str = "") -> bool:
    """Build one tool from its pinned wrapper module (go.mod + go.sum) via the Go proxy."""
    binary = settings.bin_dir / name
    tags = GO_BUILD_TAGS.get(name, "")
    current, digest = _pinned(name, binary, ldflags, tags)
    if current:
        return False
    _require("go", "install Go 1.26 or newer")
    with _step(name, f"building {name} from the Go module proxy"):
        _go_build(TOOLS_DIR / name, binary, go_tool_package(name), ldflags, {**os.environ, **_GO_ENV}, tags)
    _mark_built(binary, digest)
    return True


def _required_version(name: str, module: str) -> str:
    """The version a wrapper module's go.mod requires of `module`."""
    for line in (TOOLS_DIR / name / "go.mod").read_text().splitlines():
        words = line.split()
        if module in words:
            return words[words.index(module) + 1]
    raise InstallError(f"{TOOLS_DIR / name / 'go.mod'} does not require {module}")


def _module_dir(name: str, module: str) -> Path:
    """The source folder of a module a wrapper requires, fetched into the module cache if need be
    (`go mod download`, not `go list -m`: the latter names no folder until the module is in the
    cache, which it is not on a fresh machine)."""
    answer = subprocess.run(
        ["go", "mod", "download", "-json", module],
        cwd=TOOLS_DIR / name,
        env={**os.environ, **_GO_ENV},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return Path(json.loads(answer)["Dir"])


# The local Kubernetes (localfacility.kubernetes): each binary and the package it is built from
# (scripts/tools/kubernetes/tools.go). etcd's main package is its server module's root.
KUBERNETES_BINARIES = {
    "etcd": "go.etcd.io/etcd/server/v3",
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
    "kube-scheduler": "k8s.io/kubernetes/cmd/kube-scheduler",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
}


def kubernetes_version_stamp() -> str:
    """The ldflags Kubernetes' own release build sets (hack/lib/version.sh): without them the
    servers report v0.0.0, and clients that check the server's version (the Kubernetes provider,
    Strimzi's operators) misjudge it."""
    version_ = _required_version("kubernetes", "k8s.io/kubernetes")
    major, minor = version_.removeprefix("v").split(".")[:2]
    stamps = {"gitVersion": version_, "gitMajor": major, "gitMinor": minor, "gitTreeState": "clean"}
    return " ".join(
        f"-X {package}.{key}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for key, value in stamps.items()
    )


def install_kubernetes(settings: FacilitySettings) -> bool:
    """The local Kubernetes's binaries, built from their pinned wrapper module."""
    marker = settings.bin_dir / "kube-apiserver"
    stamp = kubernetes_version_stamp()
    current, digest = _pinned("kubernetes", marker, stamp)
    if current and all((settings.bin_dir / name).exists() for name in KUBERNETES_BINARIES):
        return False
    _require("go", "install Go 1.26 or newer")
    env = {**os.environ, **_GO_ENV}
    with _step(
        "kubernetes", "building etcd, the Kubernetes control plane and kubectl from the Go module proxy"
    ):
        for binary, package in KUBERNETES_BINARIES.items():
            _go_build(TOOLS_DIR / "kubernetes", settings.bin_dir / binary, package, stamp, env)
    _mark_built(marker, digest)
    return True


# KWOK's stages (what its controller does to nodes and pods), as its module ships them
# (sigs.k8s.io/kwok v0.8.0, kustomize/stage): nodes become Ready and keep their leases; pods
# become Ready, complete and go away as a kubelet would have them.
KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)


def kwok_stages_file(settings: FacilitySettings) -> Path:
    return settings.bin_dir / "kwok-stages.yaml"


def install_kwok(settings: FacilitySettings) -> bool:
    """KWOK, and its stages file taken from the same pinned module."""
    built = install_go_tool(settings, "kwok")
    stages = kwok_stages_file(settings)
    if built or not stages.exists():
        source = _module_dir("kwok", "sigs.k8s.io/kwok") / "kustomize" / "stage"
        stages.write_text("\n---\n".join((source / name).read_text().strip() for name in KWOK_STAGES) + "\n")
    return built


STRIMZI_OPERATORS = ("cluster-operator", "user-operator", "topic-operator")
# The build flags measured in ../shared/strimzi/README.md: Java 21+ with annotation processing
# forced on and two plugin versions raised (else the api module's CRD generator fails); checks
# skipped.
STRIMZI_MAVEN_FLAGS = (
    "-B",
    "-q",
    "-Dmaven.javadoc.skip=true",
    "-Dcheckstyle.skip",
    "-Dspotbugs.skip",
    "-Djacoco.skip=true",
    "-Dmdep.analyze.skip=true",
    "-Dmaven.compiler.proc=full",
    "-Dlombok.version=1.18.42",
    "-Dmaven.compiler.version=3.13.0",
)


@dataclass(frozen=True)
class StrimziRelease:
    """What the tests build and run of one Strimzi release (localfacility.strimzi): its operators,
    the Kafka versions whose configuration model its cluster operator validates a Kafka against,
    and the Maven flags its own build needs beyond STRIMZI_MAVEN_FLAGS."""

    operators: tuple[str, ...]
    kafka_models: tuple[str, ...] = ()
    maven_flags: tuple[str, ...] = ()


# Each facility stack's release (a unit test pins them to the stacks).
STRIMZI_RELEASES = {
    # idf runs its own Kafka: all three operators, and the model of the stack's Kafka version.
    "1.2.0": StrimziRelease(
        STRIMZI_OPERATORS,
        ("4.2.0",),
        (
            # test-scope strimzi-test-container 0.116.0 is not on Maven Central
            "-Dstrimzi-test-container.version=0.115.0",
            # fabric8 7.8.0's openshift-client-api and openshift-model (the cluster operator's)
            # are not served by Maven Central here (404 on 2026-12-03; 7.7.0 is its newest): the
            # whole build takes 7.7.0, one fabric8 for all three operators.
            *(
                f"-Dfabric8.{name}.version=7.7.0"
                for name in ("kubernetes-client", "openshift-client", "kubernetes-model", "zjsonpatch")
            ),
        ),
    ),
    # usdf's Kafka is phalanx's (Strimzi 0.51.0 runs it): the stack declares users and topics only,
    # which the user and topic operators reconcile; 0.51.0's pom builds as it is.
    "0.51.0": StrimziRelease(("user-operator", "topic-operator")),
}


# The cluster operator's test-only dependency on Strimzi's fault-injection connector
# (io.strimzi.strimzi-test-connectors 0.1.0, 1.2.0 cluster-operator/pom.xml) is not on Maven
# Central. Maven resolves test dependencies even when tests are skipped, so the build copy drops it;
# the cluster operator's tests are then not compiled (some also need strimzi-test-container 0.116.0).
_TEST_CONNECTORS = re.compile(
    r"\s*<dependency>\s*<groupId>io\.strimzi\.strimzi-test-connectors</groupId>.*?</dependency>", re.S
)


def java_home(minimum: int = 21) -> Path:
    """A JDK of at least `minimum` (Strimzi compiles for release 21; Debian's default is 17)."""
    for home in sorted(Path("/usr/lib/jvm").glob("*"), reverse=True):
        release = home / "release"
        found = re.search(r'^JAVA_VERSION="(\d+)', release.read_text(), re.M) if release.is_file() else None
        if found and int(found[1]) >= minimum and (home / "bin" / "javac").exists():
            return home
    raise InstallError(
        f"no JDK {minimum} or newer under /usr/lib/jvm (Strimzi builds with release {minimum})"
    )


STRIMZI_CO_DEPLOYMENT = "060-Deployment-strimzi-cluster-operator.yaml"
STRIMZI_BUILD = "3"  # raised when install_strimzi's steps change, so a machine builds again


def _literal_env(deployment: Path) -> dict[str, str]:
    """The environment a release's install files give the cluster operator, where it is a literal
    (its images by Kafka version, timeouts, feature gates); not what comes from the pod itself."""
    manifest = yaml.safe_load(deployment.read_text())
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item["value"] for item in container["env"] if "value" in item}


MAIN_CLASS_FILE = "main-class"


def main_class(source: Path, operator: str) -> str:
    """The operator's main class, as its release's own run script names it
    (<operator>/scripts/<operator>_run.sh, `export JAVA_MAIN=...`): it moves between releases
    (the topic operator's is TopicOperatorMain in 0.51.0, Main in 1.2.0)."""
    script = source / operator / "scripts" / f"{operator.replace('-', '_')}_run.sh"
    found = re.search(r"^export JAVA_MAIN=(\S+)$", script.read_text(), re.M)
    if found is None:
        raise InstallError(f"{script} names no JAVA_MAIN")
    return found[1]


def strimzi_dir(settings: FacilitySettings, release: str) -> Path:
    """Where a release's operators are installed: <operator>/<jars> and models/."""
    return (settings.install_dir or settings.run_dir) / "strimzi" / release


def install_strimzi(settings: FacilitySettings, release: str) -> bool:
    """Strimzi's operators of `release`, built from its source archive with Maven, and the Kafka
    configuration models its cluster operator needs (STRIMZI_RELEASES)."""
    wanted = STRIMZI_RELEASES[release]
    archive = STRIMZI_SOURCES / f"strimzi-kafka-operator-{release}.tar.gz"
    target = strimzi_dir(settings, release)
    marker = target / ".sha256"
    if not archive.is_file():
        raise InstallError(f"{archive} not found: Strimzi's sources ({STRIMZI_SOURCES}/README.md)")
    flags = (*STRIMZI_MAVEN_FLAGS, *wanted.maven_flags)
    recipe = (*wanted.operators, *wanted.kafka_models, *flags, _TEST_CONNECTORS.pattern, STRIMZI_BUILD)
    digest = _digest(archive) + " ".join(recipe)
    if marker.exists() and marker.read_text() == digest:
        return False
    _require("mvn", "install Maven (apt-get install maven)")
    jdk = java_home()
    env = {**os.environ, "JAVA_HOME": str(jdk), "PATH": f"{jdk / 'bin'}:{os.environ['PATH']}"}
    build = (settings.install_dir or settings.run_dir) / "build" / f"strimzi-{release}"
    shutil.rmtree(build, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    build.mkdir(parents=True)
    (target / "models").mkdir(parents=True)
    log = build.with_suffix(".log")
    cluster = "cluster-operator" in wanted.operators
    with _step("strimzi", f"building Strimzi {release}'s operators from {archive.name} with Maven"):
        subprocess.run(["tar", "-xzf", str(archive), "-C", str(build), "--strip-components=1"], check=True)
        pom = build / "cluster-operator" / "pom.xml"
        pom.write_text(_TEST_CONNECTORS.sub("", pom.read_text()))

        def maven(*goals: str) -> None:
            with log.open("a") as output:
                argv = ["mvn", *flags, *goals]
                done = subprocess.run(argv, cwd=build, env=env, stdout=output, stderr=output)
            if done.returncode:
                raise InstallError(f"Strimzi {release}'s build failed: mvn {' '.join(goals)}; see {log}")

        # The user and topic operators with what they share with the cluster operator, installed
        # into the Maven repository (tests compiled, for the test jars the modules' poms name) ...
        modules = ",".join(["config-model"] * cluster + ["user-operator", "topic-operator"])
        maven("-DskipTests", "install", "-pl", modules, "-am")
        for kafka in wanted.kafka_models:  # ... the generator's own profile, as its script runs it ...
            model = target / "models" / f"kafka-{kafka}-config-model.json"
            profile = ("-Pgenerate-model", "-pl", "config-model-generator", "verify", "exec:java")
            maven(
                "-DskipTests", *profile, f"-Dkafka-metadata-version={kafka}", f"-Dconfig-model-file={model}"
            )
        if cluster:  # ... and the cluster operator
            maven("-Dmaven.test.skip=true", "package", "-pl", "cluster-operator")
            deployment = build / "packaging" / "install" / "cluster-operator" / STRIMZI_CO_DEPLOYMENT
            (target / "cluster-operator.env.json").write_text(json.dumps(_literal_env(deployment), indent=2))
        for operator in wanted.operators:
            built = build / operator / "target"
            shutil.copytree(built / "lib", target / operator / "lib")
            shutil.copyfile(
                built / f"{operator}-{release}.jar", target / operator / f"{operator}-{release}.jar"
            )
            (target / operator / MAIN_CLASS_FILE).write_text(main_class(build, operator))
    shutil.rmtree(build)
    log.unlink()
    marker.write_text(digest)
    return True


PULUMI_PKG = "github.com/pulumi/pulumi/pkg/v3"
KUBERNETES_PROVIDER = "github.com/pulumi/pulumi-kubernetes/provider/v4"
KUBERNETES_PROVIDER_CMD = "cmd/pulumi-resource-kubernetes"


def install_pulumi_cli(settings: FacilitySettings) -> bool:
    """The Pulumi CLI, its version stamped in as Pulumi's own release build does; not built where
    a Pulumi installation with its own Python host is on PATH (the engine uses that one)."""
    if existing_pulumi() is not None:
        return False
    stamped = _required_version("pulumi", PULUMI_PKG)
    stamp = f"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version={stamped}"
    return install_go_tool(settings, "pulumi", stamp)


def install_kubernetes_provider(settings: FacilitySettings) -> bool:
    """pulumi-resource-kubernetes, stamped with the version of the installed Python SDK (so the
    engine loads it for that SDK's resources without a version warning).

    Its main package embeds schema-embed.json and terraform-mapping-embed.json, which the module
    does not ship; the module's own generate.go makes them from schema.json, in a build folder."""
    binary = settings.bin_dir / "pulumi-resource-kubernetes"
    sdk_version = version("pulumi-kubernetes")
    current, digest = _pinned("pulumi-kubernetes", binary, sdk_version)
    if current:
        return False
    _require("go", "install Go 1.26 or newer")
    what = f"building pulumi-resource-kubernetes {sdk_version} from the Go module proxy (for the tests)"
    with _step("pulumi-resource-kubernetes", what):
        _build_kubernetes_provider(settings, binary, sdk_version)
    _mark_built(binary, digest)
    return True


def _build_kubernetes_provider(settings: FacilitySettings, binary: Path, sdk_version: str) -> None:
    module_dir = TOOLS_DIR / "pulumi-kubernetes"
    env = {**os.environ, **_GO_ENV}
    source = _module_dir("pulumi-kubernetes", KUBERNETES_PROVIDER)
    build = (settings.install_dir or settings.run_dir) / "build" / "pulumi-kubernetes"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir(parents=True)
    for name in ("main.go", "generate.go", "schema.json", "terraform-mapping.json"):
        shutil.copyfile(Path(source, KUBERNETES_PROVIDER_CMD, name), build / name)
    for name in ("go.mod", "go.sum"):
        shutil.copyfile(module_dir / name, build / name)
    subprocess.run(["go", "run", "generate.go"], cwd=build, env={**env, "VERSION": sdk_version}, check=True)
    (build / "generate.go").unlink()
    _go_build(build, binary, ".", f"-X {KUBERNETES_PROVIDER}/pkg/version.Version={sdk_version}", env)
    shutil.rmtree(build)


ENGINE_WRAPPERS = {
    # The engine starts the language host found next to the `pulumi` binary ...
    "pulumi-language-python": "enginehost.language_host",
    # ... and Python dynamic providers as the resource plugin `pulumi-python`.
    "pulumi-resource-pulumi-python": "pulumi.dynamic",
}


def write_engine_wrappers(settings: FacilitySettings) -> None:
    """The plugins the engine runs, as wrappers around this project's Python environment."""
    settings.bin_dir.mkdir(parents=True, exist_ok=True)
    for name, module in ENGINE_WRAPPERS.items():
        wrapper = settings.bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -P -u -m {module} "$@"\n')
        wrapper.chmod(0o755)


# Debian packages the facility runs, by what shows they are installed: PostgreSQL (the registry's
# store), nginx (the registry's public routes, as the facilities' ingress-nginx serves them) and
# wrk (the archive benchmark's load client: C, so it costs the box little).
DEBIAN_PACKAGES = {
    "postgresql": "/usr/lib/postgresql/*/bin/postgres",
    "nginx-light": "/usr/sbin/nginx",
    "wrk": "/usr/bin/wrk",
}
# ... and what only the tests use: socat, the relay between Strimzi's operators, each in a network
# namespace of its own, and the servers on the host's loopback (localfacility.strimzi).
TEST_DEBIAN_PACKAGES = {"socat": "/usr/bin/socat"}


def ensure_debian_packages(test_tools: bool = False) -> list[str]:
    """Install the Debian packages that are missing; return their names."""
    wanted = {**DEBIAN_PACKAGES, **(TEST_DEBIAN_PACKAGES if test_tools else {})}
    missing = [name for name, binary in wanted.items() if not glob.glob(binary)]
    if not missing:
        return []
    if os.geteuid() != 0:
        raise InstallError(f"missing Debian packages: sudo apt-get install {' '.join(missing)}")
    _log(f"installing {', '.join(missing)} from Debian's packages")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    return missing


def install_all(settings: FacilitySettings, test_tools: bool = False) -> list[str]:
    """Install whatever is missing; return the names of the parts installed now. `test_tools`:
    also what only the tests use (the Kubernetes provider, the local Kubernetes and KWOK,
    actionlint, promtool, Strimzi's operators). Two lanes side by side: what downloads (Debian packages, Maven
    jars; then Strimzi's Maven build) beside what compiles with Go, so the network and the cores are
    busy at once."""
    downloads: list[Callable[[], list[str]]] = [partial(ensure_debian_packages, test_tools)]
    downloads += [partial(_named, tool, install_maven_tool, settings, tool) for tool in MAVEN_TOOLS]
    go_tools = GO_TOOLS + TEST_GO_TOOLS if test_tools else GO_TOOLS
    builds: list[Callable[[], list[str]]] = [
        partial(_named, name, install_go_tool, settings, name) for name in go_tools
    ]
    builds.append(partial(install_engine, settings, test_tools))
    if test_tools:  # after the Kubernetes provider: they share its client libraries' build cache
        builds += [partial(_named, "kubernetes", install_kubernetes, settings)]
        builds += [partial(_named, "kwok", install_kwok, settings)]
        downloads += [partial(_named, "strimzi", install_strimzi, settings, r) for r in STRIMZI_RELEASES]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="install") as lanes:
        done = [lanes.submit(_in_turn, lane) for lane in (downloads, builds)]
        return [name for lane in done for name in lane.result()]


def _named(name: str, step: Callable[..., bool], *args: object) -> list[str]:
    """[name] if the step installed something now."""
    return [name] if step(*args) else []


def _in_turn(steps: list[Callable[[], list[str]]]) -> list[str]:
    return [name for step in steps for name in step()]


def install_engine(settings: FacilitySettings, kubernetes_provider: bool = False) -> list[str]:
    """The Pulumi CLI and the wrappers of this project's plugins; the Kubernetes provider too when
    asked (only the facility stacks' renders and previews use it: the local stack has no Kubernetes)."""
    steps = {"pulumi": install_pulumi_cli}
    if kubernetes_provider:
        steps["pulumi-resource-kubernetes"] = install_kubernetes_provider
    installed = [name for name, step in steps.items() if step(settings)]
    write_engine_wrappers(settings)
    return installed


MAVEN_TOOLS = ("kafka", "avro")
