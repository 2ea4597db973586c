"""One student's problems graded: from their answer file, or from responses, against the manifest.

With a manifest the inputs are the manifest's (a student who edits a ``given`` is graded on the
numbers they were handed, and the edit is reported), and the asked ids are the manifest's (one left
out is ``blank``). Without one, the file's own inputs are used and every answer it holds is graded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from derive import registry
from derive.errors import InputError
from derive.grading.answer_file import Assigned, Problem
from derive.grading.precision import Precision
from derive.grading.report import Report


@dataclass(frozen=True)
class Graded:
    number: int
    topic: str
    report: Report


def _edits(given: Mapping[str, str], assigned: Assigned) -> list[str]:
    names = sorted(set(given) | set(assigned.given))
    return [
        f"given {name} was changed from the sheet's value; the sheet's is used"
        for name in names
        if " ".join(str(given.get(name, "")).split()) != " ".join(str(assigned.given.get(name, "")).split())
    ]


def _prepared(topic, given: Mapping[str, str], where):
    from derive.api import prepare

    try:
        return prepare(topic, dict(given))
    except InputError as error:
        key = error.option.lstrip("-").replace("-", "_")
        raise InputError(where(key), error.message) from None


def grade_problems(
    problems: tuple[Problem, ...],
    precision: Precision,
    assigned: tuple[Assigned, ...] | None = None,
    path: Path | str = "answers",
    line_of=None,
) -> tuple[Graded, ...]:
    """Each problem graded (unreadable answers are verdicts, not errors); structural mismatches with
    the manifest (another topic, another number of problems) are InputErrors naming the file."""
    from derive.grading.grader import grade

    if assigned is not None and len(problems) != len(assigned):
        raise InputError(str(path), f"{len(problems)} problems, but the sheet handed out has {len(assigned)}")
    graded = []
    for index, problem in enumerate(problems):

        def where(key, number=problem.number):
            return f"{path}:{line_of(number, key)}" if line_of else f"{path}: problem {number}"

        if assigned is None:
            topic, given, answers, notes = problem.topic, problem.given, dict(problem.answers), []
            if not answers:
                raise InputError(where("answers"), "no answers to grade in this problem")
        else:
            sheet = assigned[index]
            if problem.topic != sheet.topic:
                raise InputError(
                    where("topic"), f"topic {problem.topic!r}, but the sheet's problem is {sheet.topic}"
                )
            topic, given = sheet.topic, sheet.given
            answers = {name: problem.answers.get(name, "") for name in sheet.ask}
            notes = [] if problem.given is None else _edits(problem.given, sheet)
            notes += [
                f"{name} was not asked; not graded" for name in problem.answers if name not in sheet.ask
            ]
        chosen = registry.get(topic)
        report = grade(chosen, _prepared(chosen, given, where), answers, precision, strict=False)
        graded.append(Graded(problem.number, topic, replace(report, notes=tuple(notes))))
    return tuple(graded)
