"""The connection test's diagnoses that need no Kafka: login refusals and its command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from brokerkit.cli import connection_test_main
from brokerkit.connection import Step, login_failure, report


def test_a_refused_login_with_an_old_client_blames_the_client() -> None:
    failure = login_failure("2.5.3", "fink-usdf")
    assert "2.5.3 is older than 2.6.1" in failure.detail
    assert "confluent-kafka>=2.6.1" in failure.fix


def test_a_refused_login_with_a_recent_client_blames_the_password() -> None:
    failure = login_failure("2.6.1", "fink-usdf")
    assert "wrong username or password" in failure.detail
    assert "password file" in failure.fix


def test_the_report_passes_only_when_every_step_passed() -> None:
    steps = [Step("address", "PASS", "ok"), Step("login", "FAIL", "refused", "fix it")]
    assert report(steps)["passed"] is False
    assert report(steps[:1])["passed"] is True
    assert "fix: fix it" in steps[1].line()


def test_without_a_kit_every_setting_is_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert connection_test_main(["--username", "fink-usdf"]) == 2
    error = capsys.readouterr().err
    for flag in ("--bootstrap-servers", "--registry-url", "--archive-url", "--topic", "--password-file"):
        assert flag in error


def test_a_folder_that_is_no_kit_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert connection_test_main(["--kit", str(tmp_path)]) == 2
    assert "is not a broker kit" in capsys.readouterr().err
