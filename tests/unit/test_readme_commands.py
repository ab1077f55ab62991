"""Every `mtbench` command of the README's bash blocks still parses, and each `mtbench
run` among them still makes a valid run configuration (names, flags, model specs and
their options), so a change of flags cannot break a documented command unseen."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)  # line continuations
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith("mtbench "):
                commands.append(line)
    return commands


def test_the_readme_has_commands_to_check() -> None:
    assert len(readme_commands()) >= 15


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_parses_and_validates(command: str) -> None:
    from mtbench.cli import _config_from_args, build_parser

    command = re.sub(r"\$\([^)]*\)|\$\w+", "x", command)  # the SLURM example's shell variables
    words = shlex.split(command, comments=True)[1:]
    args = build_parser().parse_args(words)
    if args.command == "run":
        cfg = _config_from_args(args)
        assert cfg.is_checked()
