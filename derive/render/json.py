"""JSON as DESIGN.md promises: answers as floats and exact strings, steps as plain text.

Strict RFC 8259: a value no float64 can hold is null, with its exact form in ``exact`` and the
reason in ``value_note``; ``allow_nan=False`` makes any stray Infinity or NaN an error, never
output. A hidden character in user text (a control, a bidirectional override) is written as a
``\\u`` escape, never raw (``derive.visible.in_json``). Answers take the input's shape (``Derivation.shaped_answers``): a vector input gives
flat lists, a matrix nested lists, a scalar a number.
"""

from __future__ import annotations

import json

from derive.numbers import float_gaps, to_exact, to_float
from derive.render.base import Renderer, register
from derive.render.terminal import WIDTH, TerminalRenderer
from derive.visible import in_json


class _StepText(TerminalRenderer):
    """A step's text as the terminal shows it, without figures (they are drawn in files)."""

    def visit_Figure(self, block) -> None:
        return None


@register
class JsonRenderer(Renderer):
    name = "json"
    extensions = (".json",)

    def as_dict(self, derivation) -> dict:
        text = _StepText(precision=self.precision, width=WIDTH, exact=self.settings["exact"])
        return {
            "topic": derivation.topic,
            "title": derivation.title,
            "params": dict(derivation.params),
            "result": derivation.result,
            "answers": {name: answer(value) for name, value in derivation.shaped_answers.items()},
            "steps": [
                {"name": step.name, "title": step.title, "text": "\n\n".join(text.blocks(step.blocks))}
                for step in derivation.steps
            ],
        }

    def render(self, derivation) -> str:
        document = json.dumps(self.as_dict(derivation), indent=2, ensure_ascii=False, allow_nan=False)
        return in_json(document) + "\n"


def answer(value) -> dict:
    """``{"value", "exact"}``, and ``"value_note"`` when some value is null though an exact form exists."""
    entry = {"value": to_float(value), "exact": to_exact(value)}
    note = float_gaps(value)
    if note is not None:
        entry["value_note"] = note
    return entry
