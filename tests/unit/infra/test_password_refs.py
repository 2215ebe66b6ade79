"""Passwords another owner keeps (USDF's phalanx brokers): the outputs name the Secret Strimzi writes
for each user, and the tools read it with kubectl when they need it, here a stand-in kubectl."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from alertdist_common.outputs import StackOutputs
from infra.program import public_outputs
from infra.stackfile import load_stack

SECRET = {"data": {"password": base64.b64encode(b"from-the-owner").decode()}}


def outputs() -> StackOutputs:
    return StackOutputs.model_validate({**public_outputs(load_stack("usdf")), "passwords": {}})


def fake_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """A `kubectl` that records its arguments and answers with `body`."""
    calls = tmp_path / "calls"
    script = tmp_path / "kubectl"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n{body}\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}:{__import__('os').environ['PATH']}")
    return calls


def test_a_broker_s_password_is_read_from_the_owner_s_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = fake_kubectl(tmp_path, monkeypatch, f"echo '{json.dumps(SECRET)}'")
    found = outputs()
    assert found.has_password("fink-usdf")
    assert "fink-usdf" not in found.passwords
    assert found.password("fink-usdf") == "from-the-owner"
    assert calls.read_text().split() == [
        "get",
        "secret",
        "fink-usdf",
        "--namespace",
        "sasquatch",
        "--output",
        "json",
    ]


def test_a_missing_key_or_a_refused_read_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_kubectl(tmp_path, monkeypatch, """echo '{"data": {}}'""")
    with pytest.raises(KeyError, match="has no key 'password'"):
        outputs().password("alerce-usdf")
    fake_kubectl(tmp_path, monkeypatch, 'echo "Error from server (Forbidden)" >&2; exit 1')
    with pytest.raises(KeyError, match="Forbidden"):
        outputs().password("fink-usdf")
