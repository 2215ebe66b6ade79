"""The gRPC LanguageRuntime the engine talks to: `python -m enginehost.language_host ENGINE_ADDRESS`.

Prints its port on the first line of stdout, as the engine expects, then serves until SIGINT.
`Run` starts the program in a child process (enginehost.program) and maps its exit code;
`RunPlugin` runs a policy pack as Pulumi's own host does."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import IO, Any

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

from enginehost.program import BAIL_EXIT_CODE

HOST_VERSION = version("pulumi")  # the SDK whose runtime this host runs programs with


@dataclass(frozen=True)
class ProgramLaunch:
    """How a RunRequest becomes a child process."""

    argv: list[str]
    env: dict[str, str]
    cwd: str


def launch(request: language_pb2.RunRequest, engine_address: str) -> ProgramLaunch:
    """The child process for one RunRequest (pure: tested without an engine)."""
    info = request.info
    program_dir = info.program_directory or request.pwd
    entry_point = info.entry_point or request.program or "."
    argv = [
        sys.executable,
        "-P",  # the program's folder on sys.path is the program's business, not this module's
        "-u",
        "-m",
        "enginehost.program",
        "--monitor",
        request.monitor_address,
        "--engine",
        engine_address,
        "--project",
        request.project,
        "--stack",
        request.stack,
        "--parallel",
        str(request.parallel),
    ]
    if request.organization:
        argv += ["--organization", request.organization]
    if info.root_directory:
        argv += ["--root-directory", info.root_directory]
    if request.dryRun:
        argv.append("--dry-run")
    argv.append(str(Path(program_dir, entry_point)))
    env = {
        **os.environ,
        "PULUMI_CONFIG": json.dumps(dict(request.config)),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(list(request.configSecretKeys)),
    }
    return ProgramLaunch(argv=argv, env=env, cwd=request.pwd or program_dir)


ANALYZER = "analyzer"


def plugin_launch(request: language_pb2.RunPluginRequest) -> ProgramLaunch:
    """The child process of a policy pack (`pulumi preview --policy-pack DIR`), as Pulumi's own host
    starts one (pulumi/pulumi sdk/python/cmd/pulumi-language-python/main.go, RunPlugin): the
    SDK's `pulumi.policy` runner on the pack's folder, in that folder, with the engine's
    arguments and environment. It prints the port of its Analyzer server first, for the engine."""
    if request.kind != ANALYZER:
        raise ValueError(f"this host runs policy packs only, not {request.kind or 'a'} plugin")
    pack_dir = request.info.program_directory or request.pwd
    argv = [sys.executable, "-u", "-m", "pulumi.policy", *request.args, pack_dir]
    env = dict(os.environ)
    env.update(entry.split("=", 1) for entry in request.env if "=" in entry)
    return ProgramLaunch(argv=argv, env=env, cwd=pack_dir)


def run_response(exit_code: int) -> language_pb2.RunResponse:
    """0: done; BAIL_EXIT_CODE: failed and reported (a bail); anything else an error, in the words
    of Pulumi's own host (pulumi/pulumi 1b59498, sdk/python/cmd/pulumi-language-python/main.go, Run)."""
    if exit_code == 0:
        return language_pb2.RunResponse()
    if exit_code == BAIL_EXIT_CODE:
        return language_pb2.RunResponse(bail=True)
    return language_pb2.RunResponse(error=f"program exited with non-zero exit code: {exit_code}")


class LanguageHost(language_pb2_grpc.LanguageRuntimeServicer):
    """The RPCs the engine calls for preview, up, refresh and destroy."""

    def __init__(self, engine_address: str) -> None:
        self.engine_address = engine_address
        self._children: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def GetPluginInfo(self, request: empty_pb2.Empty, context: Any) -> plugin_pb2.PluginInfo:  # noqa: N802
        return plugin_pb2.PluginInfo(version=HOST_VERSION)

    def About(self, request: Any, context: Any) -> language_pb2.AboutResponse:  # noqa: N802
        return language_pb2.AboutResponse(
            executable=sys.executable, version=sys.version.split()[0], metadata={"host": "enginehost"}
        )

    def GetRequiredPlugins(self, request: Any, context: Any) -> language_pb2.GetRequiredPluginsResponse:  # noqa: N802
        # Plugins come from PATH (built by the project); nothing to download.
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request: Any, context: Any) -> language_pb2.GetRequiredPackagesResponse:  # noqa: N802
        return language_pb2.GetRequiredPackagesResponse()

    def InstallDependencies(  # noqa: N802
        self, request: Any, context: Any
    ) -> Iterator[language_pb2.InstallDependenciesResponse]:
        # The project's environment is installed by `uv sync` (scripts/bootstrap.sh).
        return iter(())

    def Run(self, request: language_pb2.RunRequest, context: Any) -> language_pb2.RunResponse:  # noqa: N802
        child = launch(request, self.engine_address)
        process = subprocess.Popen(child.argv, env=child.env, cwd=child.cwd)
        with self._lock:
            self._children.add(process)
        try:
            return run_response(process.wait())
        finally:
            with self._lock:
                self._children.discard(process)

    def RunPlugin(  # noqa: N802
        self, request: language_pb2.RunPluginRequest, context: Any
    ) -> Iterator[language_pb2.RunPluginResponse]:
        """Streams the plugin's stdout and stderr as they come, then its exit code if not 0."""
        try:
            child = plugin_launch(request)
        except ValueError as exc:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, str(exc))
        process = subprocess.Popen(
            child.argv, env=child.env, cwd=child.cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        with self._lock:
            self._children.add(process)
        context.add_callback(process.terminate)  # the engine hung up: the pack goes too
        chunks: queue.Queue[language_pb2.RunPluginResponse | None] = queue.Queue()

        def pump(stream: IO[bytes], field: str) -> None:
            for chunk in iter(lambda: os.read(stream.fileno(), 65536), b""):
                response = (
                    language_pb2.RunPluginResponse(stdout=chunk)
                    if field == "stdout"
                    else language_pb2.RunPluginResponse(stderr=chunk)
                )
                chunks.put(response)
            chunks.put(None)

        assert process.stdout is not None
        assert process.stderr is not None
        for stream, field in ((process.stdout, "stdout"), (process.stderr, "stderr")):
            threading.Thread(target=pump, args=(stream, field), daemon=True).start()
        try:
            open_streams = 2
            while open_streams:
                item = chunks.get()
                if item is None:
                    open_streams -= 1
                else:
                    yield item
            code = process.wait()
            if code != 0:
                yield language_pb2.RunPluginResponse(exitcode=code)
        finally:
            if process.poll() is None:
                process.terminate()
            with self._lock:
                self._children.discard(process)

    def Cancel(self, request: empty_pb2.Empty, context: Any) -> empty_pb2.Empty:  # noqa: N802
        with self._lock:
            for process in self._children:
                process.terminate()
        return empty_pb2.Empty()


def serve(engine_address: str) -> tuple[grpc.Server, int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageHost(engine_address), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    engine_address = next((arg for arg in args if not arg.startswith("-")), "")
    server, port = serve(engine_address)
    print(port, flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
