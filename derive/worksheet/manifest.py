"""manifest.json: every student's inputs and every answer (value and exact form), for grading."""

from __future__ import annotations

import json

from derive.numbers import to_exact, to_float
from derive.visible import in_json
from derive.worksheet.classroom import Assignment, Sheet
from derive.worksheet.spec import Spec, Student


def as_dict(spec: Spec, sheets: tuple[Sheet, ...]) -> dict:
    return assembled(
        spec,
        [
            (sheet.student, sheet.sheet_id, [problem_entry(item) for item in sheet.assignments])
            for sheet in sheets
        ],
    )


def problem_entry(item: Assignment) -> dict:
    """One student's problem: inputs as typed, what is asked, every answer's value and exact form."""
    return {
        "topic": item.problem.topic,
        "level": item.problem.level,
        "given": dict(item.variant.given),
        "ask": list(item.problem.ask),
        "answers": {
            name: {"value": to_float(value), "exact": to_exact(value)}
            for name, value in item.derivation.answers.items()
        },
    }


def assembled(spec: Spec, students: list[tuple[Student, str, list[dict]]]) -> dict:
    """The manifest from each student's sheet id and problem entries (``problem_entry``)."""
    return {
        "title": spec.title,
        "seed": spec.seed,
        "decimals": spec.decimals,
        "students": [
            {"id": student.id, "name": student.name, "sheet_id": sheet_id, "problems": problems}
            for student, sheet_id, problems in students
        ],
    }


def text(data: dict) -> str:
    return in_json(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False)) + "\n"


def render(spec: Spec, sheets: tuple[Sheet, ...]) -> str:
    return text(as_dict(spec, sheets))
