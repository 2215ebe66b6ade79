"""Run one Pulumi Python program inside a stack, connected to the engine (the host's child).

    python -m enginehost.program --monitor ADDR --engine ADDR --project P --stack S
        [--organization O] [--root-directory DIR] [--parallel N] [--dry-run] PROGRAM

Config comes from PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS, as the SDK reads it. Exits 0
when the program ran, 1 on a pulumi.RunError, BAIL_EXIT_CODE on any other failure (reported to the
engine first), as Pulumi's own runner does.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import runpy
import sys
import traceback

import pulumi
import pulumi.runtime

BAIL_EXIT_CODE = 32  # the engine's code for "failed, and already said why"
RUN_ERROR_EXIT_CODE = 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="enginehost.program", description=__doc__)
    parser.add_argument("--monitor", required=True)
    parser.add_argument("--engine", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--organization", default=None)
    parser.add_argument("--root-directory", default=None)
    parser.add_argument("--parallel", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("program")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    pulumi.runtime.set_all_config(
        pulumi.runtime.get_config_env(), pulumi.runtime.get_config_secret_keys_env()
    )
    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            project=args.project,
            stack=args.stack,
            monitor=args.monitor,
            engine=args.engine,
            parallel=args.parallel,
            dry_run=args.dry_run,
            organization=args.organization,
            root_directory=args.root_directory,
        )
    )
    # A failed resource leaves futures nobody awaits; asyncio would log each one.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    sys.argv = [args.program]

    def run_program() -> None:
        runpy.run_path(args.program, run_name="__main__")

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(run_program))
    # As Pulumi's own runner (pulumi/pulumi 1b59498, sdk/python/cmd/pulumi-language-python-exec,
    # main): a RunError is logged and exits 1, which its host reports as an error ("program exited
    # with non-zero exit code: 1"); any other exception is logged with its traceback and exits 32,
    # which its host turns into a bail.
    except pulumi.RunError as error:
        pulumi.log.error(str(error))
        return RUN_ERROR_EXIT_CODE
    except Exception:
        pulumi.log.error(f"Program failed with an unhandled exception:\n{traceback.format_exc()}")
        return BAIL_EXIT_CODE
    finally:
        loop.close()
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
