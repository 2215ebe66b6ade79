"""Install the facility's real servers from package registries, pinned, cached by content hash."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from localfacility.settings import TOOLS_DIR, FacilitySettings

GO_TOOLS = ("schema-registry", "versitygw", "fake-gcs-server")
_IMPORT = re.compile(r'^import _ "([^"]+)"$', re.MULTILINE)


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


def install_kafka(settings: FacilitySettings) -> bool:
    """Copy the pinned Kafka jars and their dependencies from Maven Central."""
    pom = TOOLS_DIR / "kafka" / "pom.xml"
    libs = settings.kafka_libs_dir
    marker = libs / ".pom.sha256"
    digest = _digest(pom)
    if marker.exists() and marker.read_text() == digest:
        return False
    _require("mvn", "install Maven (apt-get install maven)")
    _require("java", "install a JDK 17 or newer (apt-get install openjdk-17-jdk-headless)")
    _log("fetching Apache Kafka jars with Maven")
    shutil.rmtree(libs, ignore_errors=True)
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


def go_tool_package(name: str) -> str:
    """The Go package a wrapper module pins (the import in its tools.go)."""
    match = _IMPORT.search((TOOLS_DIR / name / "tools.go").read_text())
    if match is None:
        raise InstallError(f"{TOOLS_DIR / name / 'tools.go'} names no package")
    return match.group(1)


def install_go_tool(settings: FacilitySettings, name: str) -> bool:
    """Build one server from its pinned wrapper module (go.mod + go.sum) via the Go proxy."""
    module_dir = TOOLS_DIR / name
    binary = settings.bin_dir / name
    marker = settings.bin_dir / f".{name}.sha256"
    digest = _digest(module_dir / "go.mod", module_dir / "go.sum")
    if binary.exists() and marker.exists() and marker.read_text() == digest:
        return False
    _require("go", "install Go 1.26 or newer")
    _log(f"building {name} from the Go module proxy")
    settings.bin_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "build", "-trimpath", "-o", str(binary), go_tool_package(name)],
        cwd=module_dir,
        env={**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly"},
        check=True,
    )
    marker.write_text(digest)
    return True


def ensure_postgres() -> None:
    """PostgreSQL comes from Debian's packages; install it when it is missing."""
    if list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        return
    if os.geteuid() != 0:
        raise InstallError("PostgreSQL is not installed: sudo apt-get install postgresql")
    _log("installing PostgreSQL from Debian's packages")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
        check=True,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def install_all(settings: FacilitySettings) -> list[str]:
    """Install whatever is missing; return the names of the parts installed now."""
    installed = []
    ensure_postgres()
    if install_kafka(settings):
        installed.append("kafka")
    for name in GO_TOOLS:
        if install_go_tool(settings, name):
            installed.append(name)
    return installed
