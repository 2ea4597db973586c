"""What each student's problem adds to the files, as plain data, one problem of the spec per process.

Drawing variants, deriving and printing them is most of a worksheet's time, and the problems of
a spec are independent (a variant is drawn again only when the same problem already has it), so
each problem is made for the whole class in its own worker where cores allow. Workers hand back
strings, numbers and dicts only: an unpickled SymPy expression is rebuilt through its
constructors, which may rewrite a form that was built unevaluated. The parts are the same in a
worker as here, so the files are byte-identical either way.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from derive.worksheet import answers, classroom, layout, manifest, variants
from derive.worksheet.spec import Spec, Student


@dataclass(frozen=True)
class Part:
    sheet: dict  # layout.sheet_problem
    key: dict  # layout.key_problem
    manifest: dict  # manifest.problem_entry
    answers: list[str]  # answers.problem_lines


def column(spec: Spec, index: int, students: tuple[Student, ...]) -> list[Part]:
    """Problem ``index`` for every student, in roster order."""
    number = index + 1
    return [
        Part(
            layout.sheet_problem(spec, number, item),
            layout.key_problem(spec, number, item),
            manifest.problem_entry(item),
            answers.problem_lines(number, item),
        )
        for item in classroom.assignments(spec, index, students)
    ]


def columns(
    spec: Spec,
    students: tuple[Student, ...],
    workers: int | None = None,
    meanwhile: Callable[[], object] = lambda: None,
) -> list[list[Part]]:
    """Every problem's column; in forked workers when there are cores and problems to share and
    forking is safe, while this process runs ``meanwhile`` (loading what it needs next)."""
    indices = range(len(spec.problems))
    workers = min(len(indices), _cores() if workers is None else workers)
    if workers < 2 or not _forkable():
        meanwhile()
        return [column(spec, index, students) for index in indices]
    import multiprocessing

    for problem in spec.problems:
        variants.topic_named(problem.topic)  # imported once, before the fork, not in every worker
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending = pool.starmap_async(_attempt, [(spec, index, students) for index in indices], chunksize=1)
        meanwhile()
        made = pending.get()
    failed = next((result for result in made if isinstance(result, Exception)), None)
    if failed is not None:
        raise failed  # the first problem's error, as one process would raise it
    return made


def _attempt(spec: Spec, index: int, students: tuple[Student, ...]) -> list[Part] | Exception:
    """A worker's column, or its error handed back (the pool would raise whichever came first)."""
    try:
        return column(spec, index, students)
    except Exception as error:
        return error


def _forkable() -> bool:
    """Only a process with a single thread is forked (Linux): a thread holding a lock at the fork
    would leave it held in the child. The command forks before Typst or NumPy start their threads;
    a library caller that has them gets one process."""
    if sys.platform != "linux":
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1
