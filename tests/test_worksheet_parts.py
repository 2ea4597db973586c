"""A worker process per problem changes no byte of a worksheet, and its errors come back as they were."""

from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess
import sys

import pytest

from derive.errors import InputError
from derive.worksheet import answers, classroom, layout, manifest, parts, spec

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


FRESH = """
import dataclasses, json, os, sys
from derive.errors import InputError
from derive.worksheet import parts, spec
SPEC = spec.Spec("Week 3", 7, 2, (spec.Problem("softmax", ("softmax",), 1),
    spec.Problem("attention", ("scores", "weights"), 1), spec.Problem("layer-norm", ("mean", "output"), 1)))
STUDENTS = (spec.Student("a1", "Ada"), spec.Student("b2", "O'Brien & <b>Ünal</b>"), spec.Student("c3", ""))
assert parts._forkable(), "a fresh interpreter on Linux has one thread: the workers are forked"
if sys.argv[1] == "parts":
    made = parts.columns(SPEC, STUDENTS, workers=3)
    print(json.dumps([[dataclasses.asdict(p) for p in column] for column in made]))
else:
    def refuses(spec, index, students):
        raise InputError("--roster", f"problem {index} refused")
    parts.column = refuses
    try:
        parts.columns(SPEC, STUDENTS, workers=3)
    except InputError as error:
        print(json.dumps([error.option, error.message]))
"""


def _fresh(mode: str):
    """``FRESH`` in a new interpreter: pytest's own process may hold threads (Typst's), and then
    nothing is forked."""
    done = subprocess.run([sys.executable, "-c", FRESH, mode], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_parts_made_in_worker_processes_are_those_made_in_one():
    alone = [[dataclasses.asdict(p) for p in column] for column in parts.columns(SPEC, STUDENTS, workers=1)]
    assert _fresh("parts") == json.loads(json.dumps(alone))


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_the_first_problems_error_in_a_worker_arrives_as_it_was_raised():
    assert _fresh("error") == ["--roster", "problem 0 refused"]


def test_the_parts_are_what_the_whole_sheets_give():
    """The per-problem pieces (made in workers) put together equal the sheet-at-a-time functions."""
    sheets = classroom.build(SPEC, STUDENTS)
    columns = parts.columns(SPEC, STUDENTS, workers=1)
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


def test_input_errors_survive_pickling():
    error = pickle.loads(pickle.dumps(InputError("--students", "give a number")))
    assert isinstance(error, InputError) and str(error) == "--students: give a number"
