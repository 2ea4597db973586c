"""Every file a user names is read only when it is a regular file: a FIFO would block forever.

Each command gets a FIFO where its file belongs and must answer with one line and exit 2 at once
(no writer ever opens the FIFO, so a blocking read would hang the test)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture
def fifo(tmp_path):
    """A FIFO named with the given suffix (commands tell files apart by their extension)."""

    def make(suffix: str):
        path = tmp_path / f"pipe{suffix}"
        os.mkfifo(path)
        return path

    return make


def _worksheet(tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'title = "T"\nseed = 1\ndecimals = 2\n[[problem]]\ntopic = "softmax"\nask = ["softmax"]\n'
    )
    out = tmp_path / "ws"
    subprocess.run(
        [sys.executable, "-m", "derive", "worksheet", str(spec), "--out", str(out), "--students", "1"],
        check=True,
        capture_output=True,
    )
    return out


def _commands(tmp_path, fifo):
    folder = _worksheet(tmp_path)
    return [
        ["worksheet", str(fifo(".toml")), "--out", str(tmp_path / "new"), "--students", "1"],
        [
            "worksheet",
            str(tmp_path / "spec.toml"),
            "--out",
            str(tmp_path / "new2"),
            "--roster",
            str(fifo(".csv")),
        ],
        ["check", str(fifo("-answers.toml"))],
        ["check", str(folder / "answers" / "s01.toml"), "--manifest", str(fifo(".json"))],
        ["grade", str(folder), "--responses", str(fifo("-responses.csv")), "-o", str(tmp_path / "g.csv")],
        ["wordpiece-train", "--corpus-file", str(fifo(".txt"))],
        ["embeddings", "--vectors-file", str(fifo("-vectors.txt")), "--words", "a b"],
    ]


def test_a_fifo_is_refused_in_one_line_without_hanging(tmp_path, fifo):
    for argv in _commands(tmp_path, fifo):
        done = subprocess.run(
            [sys.executable, "-m", "derive", *argv], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 2, (argv, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in done.stderr, (argv, done.stderr)
        assert "regular file" in done.stderr, (argv, done.stderr)
