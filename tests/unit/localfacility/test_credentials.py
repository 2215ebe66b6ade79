"""Generated credentials: created once, private, never shown."""

from __future__ import annotations

import stat
from pathlib import Path

from localfacility.credentials import FacilityCredentials


def test_created_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first = FacilityCredentials.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = FacilityCredentials.load_or_create(path)
    assert first.kafka_admin_password.get_secret_value() == second.kafka_admin_password.get_secret_value()


def test_values_are_distinct_and_hidden(tmp_path: Path) -> None:
    creds = FacilityCredentials.load_or_create(tmp_path / "secrets.json")
    values = [value.get_secret_value() for _, value in creds]
    assert len(set(values)) == len(values)
    shown = repr(creds) + str(creds) + creds.model_dump_json()
    assert not any(value in shown for value in values)
