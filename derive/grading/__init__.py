"""Grading hand calculations: one problem (``grade_problem``), an answer file, or a whole class.

``grade_problem("softmax", {"x": "1 2 3"}, {"softmax": "0.09 0.24 0.67"})`` returns a ``Report``:
per asked answer a verdict (``correct``, ``follows-through``, ``imprecise``, ``wrong``, ``blank``,
``unreadable``), its points, the misconception it matches and that misconception's hint. The
precision is the task's (``decimals``, default 2), never the digits the student wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from derive.grading.report import (
    BLANK,
    CORRECT,
    DEFAULT_DECIMALS,
    FOLLOWS_THROUGH,
    IMPRECISE,
    UNREADABLE,
    VERDICTS,
    WRONG,
    AnswerReport,
    Entry,
    Report,
)

__all__ = [
    "BLANK",
    "CORRECT",
    "DEFAULT_DECIMALS",
    "FOLLOWS_THROUGH",
    "IMPRECISE",
    "UNREADABLE",
    "VERDICTS",
    "WRONG",
    "AnswerReport",
    "Entry",
    "Precision",
    "Report",
    "grade_problem",
]


def __getattr__(name: str):
    """``Precision`` is imported on first use: mpmath costs start-up time the CLI does not need."""
    if name == "Precision":
        from derive.grading.precision import Precision

        return Precision
    raise AttributeError(name)


def grade_problem(
    topic,
    given: Mapping[str, Any],
    answers: Mapping[str, str],
    decimals: int = DEFAULT_DECIMALS,
    rtol: float | None = None,
    atol: float | None = None,
    strict: bool = False,
) -> Report:
    """Grade one problem: ``topic`` (a name or a Topic), its inputs as typed on the command line
    (a worksheet's ``given``), and the student's answers by id (text; "" is blank)."""
    from derive import registry
    from derive.api import prepare
    from derive.grading.grader import grade
    from derive.grading.precision import Precision

    chosen = registry.get(topic) if isinstance(topic, str) else topic
    precision = Precision(decimals, rtol, atol)
    return grade(chosen, prepare(chosen, dict(given)), dict(answers), precision, strict=strict)
