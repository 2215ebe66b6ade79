"""The README is a front page whose two set-up commands come first; every page's links lead
somewhere, every command it shows exists and answers `--help`, and the README's picture is the
one docs/architecture.py draws from the code."""

from __future__ import annotations

import importlib
import re
import runpy
import tomllib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ENTRY_POINTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_two_setup_commands_open_the_readme() -> None:
    first_block = (ROOT / "README.md").read_text().split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["scripts/run-local.sh", "scripts/test.sh"]
    for command in commands:
        assert (ROOT / command).is_file()


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(line.lstrip("#")) for line in page.read_text().splitlines() if line.startswith("#")}


def test_slug_is_github_s() -> None:
    assert slug(" The Pulumi program (`infra/`)") == "the-pulumi-program-infra"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_section_appears_once(page: Path) -> None:
    headings = Counter(line for line in page.read_text().splitlines() if line.startswith("#"))
    assert headings
    assert [h for h, n in headings.items() if n > 1] == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_leads_somewhere(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists() or (anchor and anchor not in anchors(destination)):
            broken.append(target)
    assert broken == []


def shown_commands(page: Path) -> list[list[str]]:
    """The words of each command of the page's bash blocks (line continuations joined, comments
    dropped)."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", page.read_text(), re.S):
        for command in block.replace("\\\n", " ").splitlines():
            words = re.split(r"\s+#", command, maxsplit=1)[0].split()
            if words and not words[0].startswith("#"):
                commands.append(words)
    return commands


def project_command(words: list[str]) -> str | None:
    """The project's own program a command runs: `scripts/...`, `alertdist-...` (after any
    environment settings, with or without `uv run`), or `python -m <module>`."""
    for at, word in enumerate(words):
        if word.startswith(("scripts/", "alertdist-")):
            return word
        if word == "python" and words[at + 1 : at + 2] == ["-m"]:
            return f"-m {words[at + 2]}"
    return None


PROGRAMS = sorted({p for page in PAGES for w in shown_commands(page) if (p := project_command(w))})


def test_the_pages_show_the_project_s_commands() -> None:
    assert {"scripts/postdeploy", "alertdist-broker-kit", "alertdist-connection-test"} <= set(PROGRAMS)


@pytest.mark.parametrize("program", PROGRAMS)
def test_every_command_shown_exists_and_answers_help(
    program: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if program.startswith("scripts/"):
        assert (ROOT / program).is_file()
        assert (ROOT / program).stat().st_mode & 0o111
        return
    if program.startswith("-m "):
        assert importlib.util.find_spec(program.removeprefix("-m ")) is not None
        return
    assert program in ENTRY_POINTS, f"{program} is not a console script of the project"
    module, function = ENTRY_POINTS[program].split(":")
    monkeypatch.setattr("sys.argv", [program, "--help"])
    with pytest.raises(SystemExit) as exit_:
        getattr(importlib.import_module(module), function)()
    assert exit_.value.code in (0, None)
    assert "usage" in capsys.readouterr().out.lower()


def test_the_readme_s_picture_is_drawn_from_the_code() -> None:
    drawn = runpy.run_path(str(ROOT / "docs" / "architecture.py"))["draw"]()
    assert (ROOT / "docs" / "architecture.svg").read_text() == drawn
    assert "lsst-alerts-v11" in drawn
    assert "fink-&lt;facility&gt;" in drawn
