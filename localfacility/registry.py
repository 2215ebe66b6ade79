"""The Confluent-compatible schema registry (AxonOps) and the PostgreSQL database it stores in."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import bcrypt
import httpx
import yaml
from pydantic import SecretStr

from localfacility.credentials import (
    POSTGRES_DATABASE,
    POSTGRES_USER,
    REGISTRY_ADMIN_USER,
    REGISTRY_READER_USER,
    FacilityCredentials,
)
from localfacility.process import ServiceSpec
from localfacility.settings import FacilitySettings

POSTGRES_SYSTEM_USER = "postgres"


def postgres_bin(name: str) -> str:
    """Path of a PostgreSQL server binary (Debian installs them outside PATH)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path is None:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
    return on_path


def postgres_run_user() -> str | None:
    """PostgreSQL refuses to run as root; as root we run it as the postgres system user."""
    return POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None


def postgres_data_dir(settings: FacilitySettings) -> Path:
    """The cluster's data folder: in the run folder when the server's user can reach it."""
    preferred = settings.data_dir / "postgres"
    user = postgres_run_user()
    if user is None or _reachable_by(user, settings.data_dir):
        return preferred
    digest = hashlib.sha256(str(settings.run_dir).encode()).hexdigest()[:12]
    return Path("/var/lib/alertdist") / digest / "postgres"


def _reachable_by(user: str, directory: Path) -> bool:
    result = subprocess.run(["test", "-x", str(directory)], user=user, check=False)
    return result.returncode == 0


def init_postgres(settings: FacilitySettings, creds: FacilityCredentials) -> bool:
    """Create the database cluster once; the registry's user is its owner."""
    data = postgres_data_dir(settings)
    if (data / "PG_VERSION").exists():
        return False
    user = postgres_run_user()
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        shutil.chown(data, entry.pw_uid, entry.pw_gid)
    with tempfile.NamedTemporaryFile("w", dir=data.parent, delete=False) as pwfile:
        pwfile.write(creds.postgres_password.get_secret_value())
    os.chmod(pwfile.name, 0o600)
    if user is not None:
        shutil.chown(pwfile.name, user)
    try:
        subprocess.run(
            [
                postgres_bin("initdb"),
                "-D",
                str(data),
                "-U",
                POSTGRES_USER,
                f"--pwfile={pwfile.name}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            user=user,
            check=True,
            capture_output=True,
        )
    finally:
        os.unlink(pwfile.name)
    return True


def create_database(settings: FacilitySettings, creds: FacilityCredentials) -> None:
    """Create the registry's database if it is missing (idempotent)."""
    env = {**os.environ, "PGPASSWORD": creds.postgres_password.get_secret_value()}
    base = ["-h", settings.host, "-p", str(settings.postgres_port), "-U", POSTGRES_USER]
    listed = subprocess.run(
        ["psql", *base, "-d", "postgres", "-tAc", "SELECT datname FROM pg_database"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if POSTGRES_DATABASE not in listed.stdout.split():
        subprocess.run([postgres_bin("createdb"), *base, POSTGRES_DATABASE], env=env, check=True)


def postgres_spec(settings: FacilitySettings) -> ServiceSpec:
    def ready() -> bool:
        result = subprocess.run(
            [
                postgres_bin("pg_isready"),
                "-q",
                "-h",
                settings.host,
                "-p",
                str(settings.postgres_port),
            ],
            check=False,
        )
        return result.returncode == 0

    return ServiceSpec(
        name="postgres",
        argv=[
            postgres_bin("postgres"),
            "-D",
            str(postgres_data_dir(settings)),
            "-c",
            f"listen_addresses={settings.host}",
            "-p",
            str(settings.postgres_port),
            "-c",
            "unix_socket_directories=",
        ],
        ready=ready,
        user=postgres_run_user(),
        stop_signal=signal.SIGINT,
    )


ADMIN_HASH_ENV = "ALERTDIST_REGISTRY_ADMIN_BCRYPT"
READER_HASH_ENV = "ALERTDIST_REGISTRY_READER_BCRYPT"


def write_registry_config(settings: FacilitySettings) -> Path:
    """Registry config: PostgreSQL storage, basic auth; the admin writes, everyone else reads.

    The registry expands ``${VAR}`` in its config file, which would mangle bcrypt hashes
    written inline, so every secret reaches it by environment instead (see registry_spec).
    """
    config = {
        "server": {"host": settings.host, "port": settings.registry_port},
        "storage": {
            "type": "postgresql",
            "postgresql": {
                "host": settings.host,
                "port": settings.postgres_port,
                "database": POSTGRES_DATABASE,
                "user": POSTGRES_USER,
                "ssl_mode": "disable",
            },
        },
        "compatibility": {"default_level": "NONE"},
        "logging": {"level": "info", "format": "json"},
        "security": {
            "auth": {
                "enabled": True,
                "methods": ["basic"],
                "basic": {
                    "realm": "alertdist local schema registry",
                    "users": {
                        REGISTRY_ADMIN_USER: f"${{{ADMIN_HASH_ENV}}}",
                        REGISTRY_READER_USER: f"${{{READER_HASH_ENV}}}",
                    },
                },
                "rbac": {
                    "enabled": True,
                    "default_role": "readonly",
                    "super_admins": [REGISTRY_ADMIN_USER],
                },
            }
        },
    }
    path = settings.conf_dir / "schema-registry.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


def _bcrypt(secret: SecretStr) -> str:
    return bcrypt.hashpw(secret.get_secret_value().encode(), bcrypt.gensalt(rounds=10)).decode()


def registry_url(settings: FacilitySettings) -> str:
    return f"http://{settings.host}:{settings.registry_port}"


def registry_spec(settings: FacilitySettings, creds: FacilityCredentials, config: Path) -> ServiceSpec:
    def ready() -> bool:
        response = httpx.get(
            f"{registry_url(settings)}/subjects",
            auth=(REGISTRY_READER_USER, creds.registry_reader_password.get_secret_value()),
            timeout=2,
        )
        return response.status_code == 200

    return ServiceSpec(
        name="schema-registry",
        argv=[str(settings.bin_dir / "schema-registry"), "-config", str(config)],
        env={
            "SCHEMA_REGISTRY_PG_PASSWORD": creds.postgres_password.get_secret_value(),
            ADMIN_HASH_ENV: _bcrypt(creds.registry_admin_password),
            READER_HASH_ENV: _bcrypt(creds.registry_reader_password),
        },
        ready=ready,
    )
