"""The GitHub workflows: what runs on pull requests, on main, on a schedule and on a release."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import yaml

from infra.stackfile import load_stack, stack_names

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
FACILITY_STACKS = [s for s in stack_names() if s != "local"]


def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True)  # YAML 1.1 reads the key `on` as true
    return dict(document)


def runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job.get("steps", []) if "run" in step]


def test_pull_requests_preview_every_facility_stack_with_the_policy_pack() -> None:
    deploy = workflow("deploy.yml")
    assert "pull_request" in deploy["on"]
    preview = deploy["jobs"]["preview"]
    assert evaluate(preview["if"], pull_request("lsst-dm/alert-distribution"))
    assert preview["strategy"]["matrix"]["stack"] == FACILITY_STACKS
    commands = runs(preview)
    assert any("pulumi preview" in c and "--policy-pack infra/policy" in c for c in commands)
    assert not any("pulumi up" in c for c in commands)


def test_main_deploys_each_stack_behind_an_approval_then_proves_delivery() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    up = deploy["jobs"]["up"]
    assert "pull_request" not in up["if"]
    assert up["environment"] == "${{ matrix.stack }}"  # an environment with required reviewers
    assert up["strategy"]["matrix"]["stack"] == FACILITY_STACKS
    assert any("pulumi up" in c and "--policy-pack infra/policy" in c for c in runs(up))
    postdeploy = {
        job["with"]["stack"]
        for job in deploy["jobs"].values()
        if job.get("uses") == "./.github/workflows/postdeploy.yml" and job.get("needs") == "up"
    }
    assert postdeploy == set(FACILITY_STACKS)
    assert "workflow_call" in workflow("postdeploy.yml")["on"]


def test_a_schedule_checks_for_drift() -> None:
    deploy = workflow("deploy.yml")
    assert deploy["on"]["schedule"]
    drift = deploy["jobs"]["drift"]
    assert drift["if"] == "github.event_name == 'schedule'"
    (check,) = [c for c in runs(drift) if "pulumi" in c]
    words = shlex.split(check)
    assert {"preview", "--refresh", "--expect-no-changes"} <= set(words)


def test_releases_build_push_and_pin_the_services_image() -> None:
    images = workflow("images.yml")
    assert images["on"]["push"]["tags"]
    steps = images["jobs"]["services-image"]["steps"]
    build = next(step for step in steps if step.get("id") == "build")
    assert build["with"]["file"] == "services/Dockerfile"
    assert build["with"]["push"] is True
    pin = next(c for c in runs(images["jobs"]["services-image"]) if "pin-image" in c)
    assert "steps.build.outputs.digest" in pin
    assert set(FACILITY_STACKS) <= set(shlex.split(pin))
    image = images["env"]["IMAGE"]
    for stack in FACILITY_STACKS:
        services_image = load_stack(stack).services_image
        assert services_image is not None
        assert services_image.startswith(f"{image}:"), stack


def release_tag(git_tag: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the release workflow's tag step as the runner would, for a pushed git tag."""
    (step,) = [s for s in workflow("images.yml")["jobs"]["services-image"]["steps"] if s.get("id") == "tag"]
    output = tmp_path / "github-output"
    output.touch()
    env = {**os.environ, "GITHUB_REF_NAME": git_tag, "GITHUB_OUTPUT": str(output)}
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", step["run"]],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )


def test_the_release_pushes_the_tag_the_stacks_name(tmp_path: Path) -> None:
    """The blocker: the workflow pushed `:v0.1.0` (the git tag) where the stacks name `:0.1.0`."""
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = release_tag(f"v{version}", tmp_path)
    assert done.returncode == 0, done.stderr
    tag = (tmp_path / "github-output").read_text().strip().removeprefix("tag=")
    images = workflow("images.yml")
    build = next(s for s in images["jobs"]["services-image"]["steps"] if s.get("id") == "build")
    pushed = build["with"]["tags"].replace("${{ env.IMAGE }}", images["env"]["IMAGE"])
    pushed = pushed.replace("${{ steps.tag.outputs.tag }}", tag)
    for stack in FACILITY_STACKS:
        services_image = load_stack(stack).services_image
        assert services_image is not None
        assert services_image.split("@")[0] == pushed, stack
    pin = next(c for c in runs(images["jobs"]["services-image"]) if "pin-image" in c)
    assert "${IMAGE}:${{ steps.tag.outputs.tag }}@" in pin


def test_a_git_tag_that_is_not_the_version_stops_the_release(tmp_path: Path) -> None:
    done = release_tag("v9.9.9", tmp_path)
    assert done.returncode != 0
    assert "is not v" in done.stderr
    assert (tmp_path / "github-output").read_text() == ""


def test_workflows_call_only_scripts_that_exist() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        text = path.read_text()
        for script in re.findall(r"scripts/[\w.-]+", text):
            assert (ROOT / script).is_file(), (path.name, script)


def test_the_image_builds_from_pinned_base_images() -> None:
    dockerfile = (ROOT / "services" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)|--from=(\S+)", dockerfile, re.MULTILINE)
    images = [a or b for a, b in bases]
    assert images
    for image in images:
        tag = image.rsplit(":", 1)[1]
        assert re.fullmatch(r"\d+\.\d+\.\d+(-[\w.-]+)?", tag), image


def evaluate(expression: str, context: dict[str, Any]) -> bool:
    """A GitHub Actions `if:` of comparisons joined by && and || (all ours are), evaluated on a
    context of dotted names as the runner would."""

    def value(name: str) -> str:
        found: Any = context
        for part in name.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        return repr(found)

    python = re.sub(r"\b(github(?:\.[\w-]+)+)", lambda m: value(m.group(1)), expression)
    python = python.replace("&&", " and ").replace("||", " or ")
    return bool(eval(python, {"__builtins__": {}}))  # noqa: S307 - the repository's own workflow text


def pull_request(head_repo: str) -> dict[str, Any]:
    return {
        "github": {
            "event_name": "pull_request",
            "repository": "lsst-dm/alert-distribution",
            "event": {"pull_request": {"head": {"repo": {"full_name": head_repo}}}},
        }
    }


def test_previews_run_for_this_repository_s_pull_requests_and_never_a_fork_s() -> None:
    """The preview runners hold cluster credentials: a fork's code must never reach them."""
    condition = workflow("deploy.yml")["jobs"]["preview"]["if"]
    assert evaluate(condition, pull_request("lsst-dm/alert-distribution"))
    assert not evaluate(condition, pull_request("someone/alert-distribution"))
    assert not evaluate(
        condition, {"github": {"event_name": "push", "repository": "lsst-dm/alert-distribution"}}
    )


def test_every_job_that_reads_a_secret_names_its_environment() -> None:
    """Environment-scoped secrets reach only jobs that name the environment; a job without one
    would run with empty secrets. GITHUB_TOKEN is every job's own."""
    for path in sorted(WORKFLOWS.glob("*.yml")):
        document = workflow(path.name)
        shared = yaml.safe_dump(document.get("env", {}))
        for name, job in document["jobs"].items():
            if "uses" in job:  # a reusable workflow: its own jobs are checked in its file
                continue
            text = shared + yaml.safe_dump(job)
            if set(re.findall(r"secrets\.(\w+)", text)) - {"GITHUB_TOKEN"}:
                assert job.get("environment"), (path.name, name)


def test_deploys_read_with_a_reader_s_environment_and_write_behind_reviewers() -> None:
    jobs = workflow("deploy.yml")["jobs"]
    assert jobs["up"]["environment"] == "${{ matrix.stack }}"
    assert jobs["preview"]["environment"] == jobs["drift"]["environment"] == "${{ matrix.stack }}-read"
    assert workflow("postdeploy.yml")["jobs"]["postdeploy"]["environment"] == "${{ inputs.stack }}-read"


def test_the_first_deploy_creates_each_program_s_stack_before_using_it() -> None:
    commands = [
        line.strip()
        for command in runs(workflow("deploy.yml")["jobs"]["up"])
        for line in command.splitlines()
    ]
    first_up = next(i for i, c in enumerate(commands) if "pulumi up" in c)
    selects = [shlex.split(c) for c in commands[:first_up] if "stack select" in c]
    assert all("--create" in words for words in selects)
    assert {"-C" in words and words[words.index("-C") + 1] for words in selects} == {
        "infra/prerequisites",
        False,
    }


def test_the_pin_pull_request_is_opened_with_a_token_that_starts_previews() -> None:
    job = workflow("images.yml")["jobs"]["services-image"]
    (opener,) = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("peter-evans/create-pull-request")
    ]
    assert opener["with"]["base"] == "main"
    assert opener["with"]["token"] == "${{ secrets.PIN_PR_TOKEN }}"
    assert job["environment"] == "release"
