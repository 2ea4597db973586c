"""Atomic, no-clobber writes: never overwrite without --force, not even under a race; one-line errors."""

from __future__ import annotations

import os
import threading

import pytest
from conftest import require

from derive.errors import InputError, OutputError
from derive.output import check_target, write_atomic


def test_a_new_file_is_written_whole_with_no_temporary_left(tmp_path):
    target = write_atomic(tmp_path / "a.md", "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.md"]
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_an_existing_file_needs_force(tmp_path):
    target = tmp_path / "a.md"
    target.write_text("keep")
    with pytest.raises(InputError, match="exists; pass --force"):
        write_atomic(target, "new")
    assert target.read_text() == "keep" and len(list(tmp_path.iterdir())) == 1
    write_atomic(target, b"new", force=True)
    assert target.read_text() == "new"


def test_two_racing_writers_of_a_new_file_never_both_succeed(tmp_path):
    """Many threads write the same new name at once, round after round: exactly one wins."""
    for round_number in range(30):
        target = tmp_path / f"race-{round_number}.txt"
        start = threading.Barrier(8)
        won, refused = [], []

        def write(index, target=target, start=start, won=won, refused=refused):
            start.wait()
            try:
                write_atomic(target, f"writer {index}\n" * 2000)
                won.append(index)
            except InputError:
                refused.append(index)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(won) == 1 and len(refused) == 7, (won, refused)
        assert target.read_text() == f"writer {won[0]}\n" * 2000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"race-{i}.txt" for i in range(30))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_force_never_replaces_what_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        write_atomic(fifo, "x", force=True)
    assert fifo.is_fifo()
    with pytest.raises(InputError, match="is a folder"):
        write_atomic(tmp_path, "x", force=True)
    with pytest.raises(InputError, match="not a regular file"):
        check_target("/dev/null", force=True)


@pytest.mark.parametrize(
    "path,message",
    [
        ("missing/a.md", "does not exist"),
        ("x" * 300 + ".md", "too long"),
    ],
)
def test_bad_targets_are_refused_before_anything_is_written(tmp_path, path, message):
    with pytest.raises(InputError, match=message):
        check_target(tmp_path / path)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_a_one_line_output_error(tmp_path):
    with pytest.raises((InputError, OutputError)) as error:
        write_atomic("/proc/derive-test.md", "x")
    assert "\n" not in str(error.value) and "/proc/derive-test.md" in str(error.value)


def test_the_cli_refuses_a_bad_target_before_computing_or_drawing(cli, tmp_path):
    target = tmp_path / "missing" / "pe.md"
    code, _, err = cli("positional-encoding", "--example", "small", "-o", str(target))
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    assert list(tmp_path.iterdir()) == [], "no figure folder or PNG was written"
    code, _, err = cli("softmax", "--x", "1 2 3", "-f", "terminal", "-o", "/dev/null", "--force")
    assert code == 2 and "not a regular file" in err


def test_a_read_only_folder_is_a_one_line_error_exit_2(cli, tmp_path, monkeypatch):
    """As root a chmod'ed folder is still writable, so the OS's refusal is simulated where it happens."""
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    code, out, err = cli("softmax", "--x", "1 2 3", "-o", str(tmp_path / "s.md"))
    assert code == 2 and err.count("\n") == 1 and "Permission denied" in err and "s.md" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["x" * 256 + ".md", "/proc/derive-test.md", "/proc/version"])
def test_long_names_and_proc_are_one_line_errors_exit_2(cli, name):
    code, out, err = cli("softmax", "--x", "1 2 3", "-f", "markdown", "-o", name, "--force")
    assert code == 2 and err.count("\n") == 1 and out == "", err


def test_figures_go_in_place_only_after_the_document_is_made(cli, tmp_path):
    require("matplotlib")
    figures = tmp_path / "pe-figures"
    figures.mkdir()
    (figures / "positional-encoding.png").write_bytes(b"keep")
    code, _, err = cli("positional-encoding", "--example", "small", "-o", str(tmp_path / "pe.md"))
    # the figure folder is the default one beside -o's file, so the error names --output
    assert code == 2 and "--output" in err and "positional-encoding.png" in err and "--force" in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["pe-figures", "positional-encoding.png"]
    assert (figures / "positional-encoding.png").read_bytes() == b"keep"


def test_figures_are_taken_back_when_the_document_cannot_be_written(cli, tmp_path, monkeypatch):
    require("matplotlib")
    import derive.output

    def fail(*args, **kwargs):
        raise OutputError("--output: could not write pe.md: No space left on device")

    monkeypatch.setattr(derive.output, "write_atomic", fail)
    code, _, err = cli("positional-encoding", "--example", "small", "-o", str(tmp_path / "pe.md"))
    assert code == 2 and "No space left" in err
    assert list(tmp_path.iterdir()) == [], "the PNGs and their folder were removed again"


def test_a_figure_folder_in_a_missing_folder_is_refused_before_anything_is_computed(cli, tmp_path):
    code, _, err = cli(
        "positional-encoding", "--example", "small", "-f", "markdown", "--figures", str(tmp_path / "a" / "b")
    )
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    assert list(tmp_path.iterdir()) == []
