"""The language host's RPCs, over a real gRPC channel, and how a RunRequest becomes a process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from enginehost.language_host import HOST_VERSION, launch, run_response, serve
from enginehost.program import BAIL_EXIT_CODE


@pytest.fixture(scope="module")
def host() -> Iterator[language_pb2_grpc.LanguageRuntimeStub]:
    server, port = serve("127.0.0.1:1")
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield language_pb2_grpc.LanguageRuntimeStub(channel)
    channel.close()
    server.stop(grace=0)


def test_plugin_info_and_about(host: language_pb2_grpc.LanguageRuntimeStub) -> None:
    assert host.GetPluginInfo(empty_pb2.Empty()).version == HOST_VERSION
    about = host.About(language_pb2.AboutRequest())
    assert about.executable.endswith("python") or "python" in about.executable
    assert about.metadata["host"] == "enginehost"


def test_no_plugins_or_packages_to_download(host: language_pb2_grpc.LanguageRuntimeStub) -> None:
    assert not host.GetRequiredPackages(language_pb2.GetRequiredPackagesRequest()).packages
    assert not host.GetRequiredPlugins(language_pb2.GetRequiredPluginsRequest()).plugins


def _request(tmp_path: Path, program: str, **fields: object) -> language_pb2.RunRequest:
    (tmp_path / "__main__.py").write_text(program)
    info = language_pb2.ProgramInfo(
        root_directory=str(tmp_path), program_directory=str(tmp_path), entry_point="."
    )
    return language_pb2.RunRequest(
        project="p", stack="s", pwd=str(tmp_path), monitor_address="127.0.0.1:9", info=info, **fields
    )


def test_a_run_request_becomes_the_program_with_its_settings_and_config(tmp_path: Path) -> None:
    request = _request(
        tmp_path,
        "",
        dryRun=True,
        parallel=8,
        organization="rubin",
        config={"alertdist:facility": "local", "alertdist:pw": "x"},
        configSecretKeys=["alertdist:pw"],
    )
    child = launch(request, "127.0.0.1:7")
    argv = child.argv
    assert argv[argv.index("--monitor") + 1] == "127.0.0.1:9"
    assert argv[argv.index("--engine") + 1] == "127.0.0.1:7"
    assert argv[argv.index("--stack") + 1] == "s"
    assert argv[argv.index("--parallel") + 1] == "8"
    assert argv[argv.index("--organization") + 1] == "rubin"
    assert "--dry-run" in argv
    assert argv[-1] == str(tmp_path / ".")
    assert json.loads(child.env["PULUMI_CONFIG"]) == {"alertdist:facility": "local", "alertdist:pw": "x"}
    assert json.loads(child.env["PULUMI_CONFIG_SECRET_KEYS"]) == ["alertdist:pw"]
    assert child.cwd == str(tmp_path)
    assert "--dry-run" not in launch(_request(tmp_path, ""), "e").argv


def test_exit_codes_map_to_the_engines_answers() -> None:
    assert run_response(0) == language_pb2.RunResponse()
    assert run_response(BAIL_EXIT_CODE).bail
    failed = run_response(3)
    assert not failed.bail
    assert "code 3" in failed.error


def test_a_program_that_cannot_reach_the_engine_is_reported_as_failed(
    host: language_pb2_grpc.LanguageRuntimeStub, tmp_path: Path
) -> None:
    """Run really starts the program; with no monitor listening it fails and says so."""
    response = host.Run(_request(tmp_path, "import pulumi\npulumi.export('a', 1)\n"), timeout=120)
    assert response.bail or response.error


def test_a_policy_pack_runs_through_run_plugin_with_its_output_streamed(
    host: language_pb2_grpc.LanguageRuntimeStub, tmp_path: Path
) -> None:
    """As Pulumi's own host: the SDK's `pulumi.policy` runner on the pack's folder; its first stdout
    line (an Analyzer's port for a real pack) reaches the engine, then its exit code."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(
        "import os, sys\nprint(50051, flush=True)\nprint('cwd', os.getcwd(), flush=True)\n"
        "print('pack says', os.environ['FROM_ENGINE'], file=sys.stderr, flush=True)\nsys.exit(3)\n"
    )
    request = language_pb2.RunPluginRequest(
        kind="analyzer",
        args=["127.0.0.1:1"],
        env=["FROM_ENGINE=hello"],
        info=language_pb2.ProgramInfo(root_directory=str(pack), program_directory=str(pack), entry_point="."),
    )
    responses = list(host.RunPlugin(request))
    stdout = b"".join(r.stdout for r in responses).decode()
    stderr = b"".join(r.stderr for r in responses).decode()
    assert stdout.splitlines() == ["50051", f"cwd {pack}"]
    assert "pack says hello" in stderr
    assert responses[-1].WhichOneof("output") == "exitcode"
    assert responses[-1].exitcode == 3


def test_a_plugin_that_is_not_a_policy_pack_is_refused(host: language_pb2_grpc.LanguageRuntimeStub) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        list(host.RunPlugin(language_pb2.RunPluginRequest(kind="resource", pwd="/tmp")))
    assert refused.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert "policy packs only" in str(refused.value.details())
