"""The command-line contract: listing, formats, atomic writes, and one-line errors with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def test_topics_lists_every_topic_with_examples(cli):
    from derive import registry

    code, out, _ = cli("topics")
    assert code == 0
    for name in registry.names():
        assert name in out
    assert "--example overflow" in out


def test_softmax_overflow_example_from_the_issue(cli):
    code, out, _ = cli("softmax", "--x", "1000 1001 1002", "-f", "json")
    assert code == 0
    values = json.loads(out)["answers"]["softmax"]["value"]
    assert [round(v, 4) for v in values[0]] == [0.0900, 0.2447, 0.6652]


def test_output_file_is_written_and_not_overwritten_without_force(cli, tmp_path):
    target = tmp_path / "s.md"
    assert cli("softmax", "--x", "1 2 3", "-f", "markdown", "-o", str(target))[0] == 0
    first = target.read_text()
    assert first.startswith("# Softmax")
    code, _, err = cli("softmax", "--x", "4 5 6", "-f", "markdown", "-o", str(target))
    assert code == 2 and "--force" in err and target.read_text() == first
    assert cli("softmax", "--x", "4 5 6", "-f", "markdown", "-o", str(target), "--force")[0] == 0
    assert target.read_text() != first
    assert [p.name for p in tmp_path.iterdir()] == ["s.md"], "no temporary files left behind"


def test_a_failed_run_overwrites_nothing(cli, tmp_path):
    target = tmp_path / "s.tex"
    target.write_text("keep me")
    code, _, _ = cli("softmax", "--x", "1 2; 3", "-f", "latex", "-o", str(target), "--force")
    assert code == 2 and target.read_text() == "keep me"


@pytest.mark.parametrize(
    "args,option",
    [
        (["softmax", "--x", "__import__('os').system('id')"], "--x"),
        (["softmax", "--x", "1 2; 3"], "--x"),
        (["softmax", "--x", "1 2 3", "--temperature", "0"], "--temperature"),
        (["softmax", "--x", "1 2 3", "--temperature", "-1"], "--temperature"),
        (["softmax"], "--x"),
        (["softmax", "--x", " ".join(["1"] * 17)], "--x"),
        (["softmax", "--example", "nope"], "--example"),
        (["softmax", "--x", "1 2", "-f", "pdf"], "--format"),
        (["softmax", "--x", "1 2", "--precision", "99"], "--precision"),
        (["softmax", "--x", "1 2", "-f", "markdown", "--fragment"], "--fragment"),
        (["check", "softmax", "--x", "1 2", "--answer", "bogus=1"], "--answer"),
        (["check", "softmax", "--x", "1 2", "--answer", "softmax"], "--answer"),
        (["check", "softmax", "--x", "1 2"], "--answer"),
        (["check", "softmax", "--x", "1 2", "--answer", "softmax=os.system"], "--answer"),
        (["nosuchtopic"], "nosuchtopic"),
    ],
)
def test_bad_input_is_one_line_naming_the_option_with_exit_2(cli, args, option):
    code, out, err = cli(*args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("Error: ")
    assert option in err
    assert "Traceback" not in err + out


def test_installed_command_has_no_traceback_on_bad_input():
    result = subprocess.run(
        [sys.executable, "-m", "derive", "softmax", "--x", "__import__('os')"],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Error: --x:") and result.stderr.count("\n") == 1


def test_piped_terminal_output_is_plain_text():
    result = subprocess.run(
        [sys.executable, "-m", "derive", "softmax", "--x", "1 2 3"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "\x1b[" not in result.stdout
    assert "0.0900" in result.stdout and "Step 1." in result.stdout


def test_python_api_and_jupyter_reprs():
    from derive import derive

    d = derive("softmax", x=[1, 2, 3])
    assert d.result == "softmax" and d.topic == "softmax"
    assert d._repr_markdown_().startswith("# Softmax")
    assert "\\documentclass" not in d._repr_latex_() and "bmatrix" in d._repr_latex_()
    assert "0.6652" in str(d)
