"""manifest.json: every student's inputs and every answer (value and exact form), for grading."""

from __future__ import annotations

import json

from derive.numbers import to_exact, to_float
from derive.visible import in_json
from derive.worksheet.classroom import Sheet
from derive.worksheet.spec import Spec


def as_dict(spec: Spec, sheets: tuple[Sheet, ...]) -> dict:
    return {
        "title": spec.title,
        "seed": spec.seed,
        "decimals": spec.decimals,
        "students": [
            {
                "id": sheet.student.id,
                "name": sheet.student.name,
                "sheet_id": sheet.sheet_id,
                "problems": [
                    {
                        "topic": item.problem.topic,
                        "level": item.problem.level,
                        "given": dict(item.variant.given),
                        "ask": list(item.problem.ask),
                        "answers": {
                            name: {"value": to_float(value), "exact": to_exact(value)}
                            for name, value in item.derivation.answers.items()
                        },
                    }
                    for item in sheet.assignments
                ],
            }
            for sheet in sheets
        ],
    }


def render(spec: Spec, sheets: tuple[Sheet, ...]) -> str:
    return in_json(json.dumps(as_dict(spec, sheets), indent=2, ensure_ascii=False, allow_nan=False)) + "\n"
