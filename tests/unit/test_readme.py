"""The README keeps its two set-up commands at the top and each section once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_two_setup_commands_open_the_readme() -> None:
    first_block = README.read_text().split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    assert commands == ["scripts/run-local.sh", "scripts/test.sh"]
    for command in commands:
        assert (README.parent / command).is_file()


def test_every_section_appears_once() -> None:
    text = README.read_text()
    headings = Counter(line for line in text.splitlines() if line.startswith("#"))
    assert headings, "no sections"
    assert [h for h, n in headings.items() if n > 1] == []
    assert len(text.splitlines()) < 2000  # an edit that multiplied the text would show here
