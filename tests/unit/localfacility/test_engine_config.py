"""The local stack's config file: plain values from stacks/ and the facility, secrets kept."""

from __future__ import annotations

import stat
from pathlib import Path

import yaml

from infra.stackfile import load_stack
from localfacility.deploy import local_stack_config
from localfacility.engine import Engine
from localfacility.render import change_config
from localfacility.settings import PROJECT_ROOT, FacilitySettings


def test_the_facility_defaults_are_what_the_stack_file_says() -> None:
    """The committed local stack file and the facility's default endpoints and logins agree."""
    assert local_stack_config(FacilitySettings(kafka_external_tls_port=0)) == load_stack("local")


def test_overridden_ports_reach_the_stack_config() -> None:
    settings = FacilitySettings(kafka_external_port=29094, registry_port=28081, registry_public_port=28082)
    config = local_stack_config(settings)
    assert config.local is not None
    assert config.local.bootstrap_servers == "127.0.0.1:29094"
    assert config.local.registry_write_url == "http://127.0.0.1:28081"
    assert config.local.registry_url == "http://127.0.0.1:28082/schema-registry"


def test_plain_values_are_rewritten_and_secrets_kept(tmp_path: Path) -> None:
    engine = Engine(state_dir=tmp_path, bin_dir=tmp_path / "bin", passphrase="not-used-here")
    path = engine.config_file("local")
    path.parent.mkdir(parents=True)
    path.write_text(
        yaml.safe_dump(
            {
                "encryptionsalt": "v1:salt",
                "config": {
                    "alertdist:local": {"bootstrapServers": "old:1"},
                    "alertdist:localKafkaAdminPassword": {"secure": "v1:abc"},
                    "alertdist:kafkaUserPasswords": {"fink-local": {"secure": "v1:def"}},
                },
            }
        )
    )
    engine.write_plain_config("local", {"alertdist:local": {"bootstrapServers": "new:2"}})
    document = yaml.safe_load(path.read_text())
    assert document["encryptionsalt"] == "v1:salt"
    assert document["config"]["alertdist:local"] == {"bootstrapServers": "new:2"}
    assert engine.secret_keys("local") == {"localKafkaAdminPassword", "kafkaUserPasswords.fink-local"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_project_folder_runs_the_committed_program(tmp_path: Path) -> None:
    engine = Engine(state_dir=tmp_path / "pulumi", bin_dir=tmp_path / "bin", passphrase="x")
    engine.write_project()
    project = yaml.safe_load((engine.project_dir / "Pulumi.yaml").read_text())
    assert project["name"] == "alert-distribution"
    assert (engine.project_dir / project["main"]).resolve() == PROJECT_ROOT / "infra"
    assert "stackConfigDir" not in project  # the stack's config file sits beside it


def test_the_engine_downloads_nothing_and_keeps_its_passphrase_private(tmp_path: Path) -> None:
    engine = Engine(state_dir=tmp_path, bin_dir=tmp_path / "bin", passphrase="pass-for-test")
    env = engine.env()
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PATH"].startswith(str(tmp_path / "bin"))
    assert env["PULUMI_BACKEND_URL"] == (tmp_path / "backend").as_uri()
    assert "pass-for-test" not in env.values()
    assert engine.passphrase_file.read_text() == "pass-for-test"
    assert stat.S_IMODE(engine.passphrase_file.stat().st_mode) == 0o600


def test_a_changed_value_keeps_the_rest_of_a_facility_stack_s_config(tmp_path: Path) -> None:
    """As an operator edits the stack file between two `up`s: one value changes, the others and
    the secrets stay (localfacility.render.change_config, used by tests/kubernetes)."""
    engine = Engine(state_dir=tmp_path / "pulumi", bin_dir=tmp_path / "bin", passphrase="kept")
    engine.passphrase_file.parent.mkdir(parents=True)
    engine.passphrase_file.write_text("kept")
    path = engine.config_file("idf")
    path.parent.mkdir(parents=True)
    before = {
        "alertdist:topics": [{"name": "a", "retentionMs": 1}],
        "alertdist:namespace": "alert-distribution",
        "alertdist:passwords": {"fink-idf": {"secure": "v1:abc"}},
    }
    path.write_text(yaml.safe_dump({"encryptionsalt": "v1:salt", "config": before}))
    change_config("idf", tmp_path, tmp_path / "bin", {"alertdist:topics": [{"name": "a", "retentionMs": 2}]})
    after = yaml.safe_load(path.read_text())
    assert after["encryptionsalt"] == "v1:salt"
    assert after["config"] == {**before, "alertdist:topics": [{"name": "a", "retentionMs": 2}]}
