"""JSON as DESIGN.md promises: answers as floats and exact strings, steps as plain text."""

from __future__ import annotations

import json

from derive.numbers import to_exact, to_float
from derive.render import terminal
from derive.render._blocks import kind


def as_dict(derivation, precision: int = 4) -> dict:
    return {
        "topic": derivation.topic,
        "title": derivation.title,
        "params": dict(derivation.params),
        "result": derivation.result,
        "answers": {
            name: {"value": to_float(value), "exact": to_exact(value)}
            for name, value in derivation.answers.items()
        },
        "steps": [
            {
                "name": step.name,
                "title": step.title,
                "text": "\n\n".join(
                    terminal.block_text(b, precision, terminal.WIDTH)
                    for b in step.blocks
                    if kind(b) != "figure"
                ),
            }
            for step in derivation.steps
        ],
    }


def render(derivation, precision: int = 4) -> str:
    return json.dumps(as_dict(derivation, precision), indent=2, ensure_ascii=False) + "\n"
