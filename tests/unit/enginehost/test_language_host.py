"""The language host's RPCs, over a real gRPC channel, and how a RunRequest becomes a process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc

from enginehost.language_host import HOST_VERSION, launch, run_response, serve
from enginehost.program import BAIL_EXIT_CODE
from enginehost.program import main as program_main


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
    assert failed.error == "program exited with non-zero exit code: 3"


@pytest.mark.parametrize(
    ("program", "exit_code"),
    [
        ("x = 1\n", 0),
        ("import pulumi\nraise pulumi.RunError('the stack file is wrong')\n", 1),
        ("raise ValueError('a bug')\n", BAIL_EXIT_CODE),
    ],
)
def test_the_program_runner_exits_as_pulumi_s_own_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str, exit_code: int
) -> None:
    """pulumi/pulumi 1b59498, sdk/python/cmd/pulumi-language-python-exec: a RunError exits 1 (an
    error the host reports), any other exception 32 (a bail); here the program runs without an
    engine behind run_in_stack."""

    async def without_engine(run: Any) -> None:
        run()

    logged: list[str] = []
    monkeypatch.setattr(pulumi.runtime, "run_in_stack", without_engine)
    monkeypatch.setattr(pulumi.log, "error", logged.append)
    # The runner installs its own loop and closes it, as its own process may; not this one's.
    monkeypatch.setattr(asyncio, "set_event_loop", lambda _loop: None)
    (tmp_path / "__main__.py").write_text(program)
    argv = ["--monitor", "m", "--engine", "e", "--project", "p", "--stack", "s", str(tmp_path)]
    assert program_main(argv) == exit_code
    if exit_code == 1:
        assert logged == ["the stack file is wrong"]
    if exit_code == BAIL_EXIT_CODE:
        (message,) = logged
        assert message.startswith("Program failed with an unhandled exception:")
        assert "ValueError: a bug" in message


def test_a_program_that_cannot_reach_the_engine_is_reported_as_failed(
    host: language_pb2_grpc.LanguageRuntimeStub, tmp_path: Path
) -> None:
    """Run really starts the program; with no engine listening even the failure cannot be logged
    to it, so Python exits 1, which the host reports as an error, not a bail."""
    response = host.Run(_request(tmp_path, "import pulumi\npulumi.export('a', 1)\n"), timeout=120)
    assert not response.bail
    assert response.error == "program exited with non-zero exit code: 1"


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
