"""Every command the README shows runs (placeholders such as DIR aside) and the check example passes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
COMMANDS = [
    line.split("  #")[0].strip()
    for block in BLOCKS
    for line in block.splitlines()
    if line.startswith("derive ") and "DIR" not in line and "path/to" not in line and "..." not in line
]


def test_the_readme_opens_with_the_two_commands():
    first_block = BLOCKS[0]
    assert "make demo" in first_block and "make test" in first_block


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs(command, cli):
    code, out, err = cli(*shlex.split(command)[1:])
    graded = command.startswith("derive check")
    assert code in ((0, 1) if graded else (0,)), err
    assert out and not err
