"""JSON as DESIGN.md promises: answers as floats and exact strings, steps as plain text."""

from __future__ import annotations

import json

from derive.numbers import to_exact, to_float
from derive.render.base import Renderer, register
from derive.render.terminal import WIDTH, TerminalRenderer


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
            "answers": {
                name: {"value": to_float(value), "exact": to_exact(value)}
                for name, value in derivation.answers.items()
            },
            "steps": [
                {"name": step.name, "title": step.title, "text": "\n\n".join(text.blocks(step.blocks))}
                for step in derivation.steps
            ],
        }

    def render(self, derivation) -> str:
        return json.dumps(self.as_dict(derivation), indent=2, ensure_ascii=False) + "\n"
