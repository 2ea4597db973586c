"""A worker process per problem changes no byte of a worksheet, and its errors come back as they were."""

from __future__ import annotations

import pickle
import sys

import pytest

from derive.errors import InputError
from derive.worksheet import answers, classroom, folder, layout, manifest, parts, spec

SPEC = spec.Spec(
    "Week 3",
    7,
    2,
    (
        spec.Problem("softmax", ("softmax",), 1),
        spec.Problem("attention", ("scores", "weights"), 1),
        spec.Problem("layer-norm", ("mean", "output"), 1),
    ),
)
STUDENTS = (spec.Student("a1", "Ada"), spec.Student("b2", "O'Brien & <b>Ünal</b>"), spec.Student("c3", ""))


def test_the_files_are_the_same_with_one_process_or_several(monkeypatch):
    monkeypatch.setattr(parts, "_cores", lambda: 1)
    alone = folder.files(SPEC, STUDENTS)
    monkeypatch.setattr(parts, "_cores", lambda: 3)
    shared = folder.files(SPEC, STUDENTS)
    assert alone.keys() == shared.keys()
    for name in alone:
        assert alone[name] == shared[name], name


def test_the_parts_are_what_the_whole_sheets_give():
    """The per-problem pieces (made in workers) put together equal the sheet-at-a-time functions."""
    sheets = classroom.build(SPEC, STUDENTS)
    columns = parts.columns(SPEC, STUDENTS, workers=2)
    entries = []
    for sheet, row in zip(sheets, zip(*columns)):
        page = layout.sheet_page(SPEC, sheet.student, sheet.sheet_id, [p.sheet for p in row])
        assert page == layout.sheet_context(SPEC, sheet)
        key = layout.key_page(SPEC, sheet.student, sheet.sheet_id, [p.key for p in row])
        assert key == layout.key_context(SPEC, sheet)
        blank = answers.assembled(SPEC, sheet.student, sheet.sheet_id, [p.answers for p in row])
        assert blank == answers.render(SPEC, sheet)
        entries.append((sheet.student, sheet.sheet_id, [p.manifest for p in row]))
    assert manifest.text(manifest.assembled(SPEC, entries)) == manifest.render(SPEC, sheets)


def _refuses(spec, index, students):
    raise InputError("--roster", f"problem {index} refused")


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_an_error_in_a_worker_arrives_as_it_was_raised(monkeypatch):
    monkeypatch.setattr(parts, "column", _refuses)
    with pytest.raises(InputError) as raised:
        parts.columns(SPEC, STUDENTS, workers=2)
    assert (raised.value.option, raised.value.message) == ("--roster", "problem 0 refused")


def test_input_errors_survive_pickling():
    error = pickle.loads(pickle.dumps(InputError("--students", "give a number")))
    assert isinstance(error, InputError) and str(error) == "--students: give a number"
