"""The command-line contract: listing, formats, atomic writes, and one-line errors with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
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
    assert [round(v, 4) for v in values] == [0.0900, 0.2447, 0.6652]


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
        (["softmax", "--x", "1 2", "-f", "docx"], "--format"),
        (["softmax", "--x", "1 2", "-o", "notes.docx"], "--output"),
        (["softmax", "--x", "1 2", "-o", "notes"], "--output"),
        (["softmax", "--x", "1 2", "-f", "latex", "-o", "notes.md"], "--format"),
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


@pytest.mark.parametrize(
    "name,starts",
    [
        ("s.md", "# Softmax"),
        ("s.tex", "\\documentclass"),
        ("S.MARKDOWN", "# Softmax"),
        ("s.txt", "Softmax\n═══"),
    ],
)
def test_output_extension_picks_the_format(cli, tmp_path, name, starts):
    target = tmp_path / name
    code, out, err = cli("softmax", "--x", "1 2 3", "-o", str(target))
    assert code == 0, err
    assert out == "" and target.read_text(encoding="utf-8").startswith(starts)
    assert "\x1b[" not in target.read_text(encoding="utf-8")


def test_output_json_by_extension_is_strict_json(cli, tmp_path):
    target = tmp_path / "s.json"
    assert cli("softmax", "--x", "1000 1001 1002", "-o", str(target))[0] == 0
    data = json.loads(target.read_text(encoding="utf-8"), parse_constant=_refuse)
    assert data["answers"]["exp"]["value"] == [None, None, None]


def _refuse(token):
    raise ValueError(f"not strict JSON: {token}")


def test_an_explicit_format_agreeing_with_the_extension_or_an_unknown_one_is_kept(cli, tmp_path):
    assert cli("softmax", "--x", "1 2 3", "-f", "markdown", "-o", str(tmp_path / "a.md"))[0] == 0
    assert cli("softmax", "--x", "1 2 3", "-f", "json", "-o", str(tmp_path / "a.data"))[0] == 0
    json.loads((tmp_path / "a.data").read_text(encoding="utf-8"))


@pytest.mark.parametrize("args", [["-o", "a.docx"], ["-o", "a"], ["-f", "latex", "-o", "a.md"]])
def test_a_refused_output_writes_nothing(cli, tmp_path, args):
    args = [a if not a.startswith("a") else str(tmp_path / a) for a in args]
    code, _, err = cli("softmax", "--x", "1 2 3", *args)
    assert code == 2 and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_vector_input_gives_vector_answers_and_matrix_input_matrix_answers(cli):
    data = json.loads(cli("softmax", "--x", "1 2 3", "-f", "json")[1])
    vector = data["answers"]
    assert data["params"]["x"] == ["1", "2", "3"], "the echoed input keeps its shape too"
    assert np.shape(vector["softmax"]["value"]) == (3,) and np.shape(vector["softmax"]["exact"]) == (3,)
    assert np.shape(vector["sum"]["value"]) == (1,), "one row sum, without the row dimension"
    one_row = json.loads(cli("softmax", "--x", "[[1, 2, 3]]", "-f", "json")[1])["answers"]
    assert np.shape(one_row["softmax"]["value"]) == (1, 3), "a matrix written with one row stays a matrix"
    matrix = json.loads(cli("softmax", "--x", "1 2 3; 3 2 1", "-f", "json")[1])["answers"]
    assert np.shape(matrix["softmax"]["value"]) == (2, 3) and np.shape(matrix["sum"]["value"]) == (2, 1)
    scalar = json.loads(cli("dot-product", "--a", "1 2", "--b", "3 4", "-f", "json")[1])["answers"]
    assert scalar["dot"]["value"] == 11
    expected = np.exp([1, 2, 3]) / np.exp([1, 2, 3]).sum()
    np.testing.assert_allclose(vector["softmax"]["value"], expected, rtol=1e-12)


def _unwrapped(text: str) -> str:
    """Text without any whitespace, so wrapping (click may break after a hyphen) is undone."""
    return "".join(text.split())


@pytest.mark.parametrize("columns", ["60", "80", "132"])
def test_help_shows_every_topic_summary_whole_within_the_width(cli, monkeypatch, columns):
    from derive import registry

    monkeypatch.setenv("COLUMNS", columns)
    code, out, _ = cli("--help")
    assert code == 0 and "..." not in out.split("Commands:")[1]
    for topic in registry.all_topics():
        assert _unwrapped(topic.summary) in _unwrapped(out), topic.name
    assert max(len(line) for line in out.splitlines()) <= int(columns)


@pytest.mark.parametrize("columns", ["50", "80", "120"])
def test_topics_wraps_to_the_terminal_width_with_a_hanging_indent(cli, monkeypatch, columns):
    from derive import registry

    monkeypatch.setenv("COLUMNS", columns)
    code, out, _ = cli("topics")
    assert code == 0
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= int(columns)
    for topic in registry.all_topics():
        assert _unwrapped(topic.summary) in _unwrapped(out)
        for note in topic.example_notes.values():
            assert _unwrapped(note) in _unwrapped(out)
    continued = [line for line in lines if line and not line.startswith(tuple(registry.names()))]
    assert all(line.startswith(" " * 23) for line in continued), "continuations hang under the summary"


def test_topics_is_80_columns_when_piped():
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [sys.executable, "-m", "derive", "topics"], capture_output=True, text=True, env=env, check=True
    )
    lines = result.stdout.splitlines()
    assert 70 < max(len(line) for line in lines) <= 80


def test_binary_output_goes_to_a_pipe_but_never_to_a_terminal():
    from conftest import require

    command = ["-m", "derive", "softmax", "--x", "1 2", "-f", "pdf"]
    piped = subprocess.run([sys.executable, *command], capture_output=True, check=True)
    assert piped.stdout.startswith(b"%PDF-")
    pexpect = require("pexpect")
    child = pexpect.spawn(sys.executable, command, encoding="utf-8", timeout=120)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "-o FILE" in child.before and "%PDF" not in child.before


def test_the_checker_json_is_strict_too(cli):
    code, out, _ = cli("check", "softmax", "--x", "1000 1001 1002", "--answer", "sum=1", "-f", "json")
    assert code == 1
    entry = json.loads(out, parse_constant=_refuse)["answers"]["sum"]["entries"][0]
    assert entry["expected"] is None and entry["given"] == 1
