"""``derive check TOPIC --answer ID=VALUE``: the terminal's door to ``derive.grading``.

The grading itself (precision, follow-through, misconceptions) lives in ``derive.grading``; this
module reads ``ID=VALUE`` options and renders the report.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence

from derive.errors import InputError
from derive.grading import AnswerReport, Entry, Report
from derive.model import Topic

__all__ = ["AnswerReport", "Entry", "Report", "check", "parse_answers", "render_report"]


def parse_answers(topic: Topic, answers: Sequence[str]) -> dict[str, str]:
    parsed = {}
    for answer in answers:
        name, sep, value = answer.partition("=")
        name = name.strip()
        if not sep or not value.strip():
            raise InputError("--answer", f"expected ID=VALUE, got {answer[:40]!r}")
        if name not in topic.answer_ids:
            raise InputError(
                "--answer", f"unknown answer id {name[:40]!r}; expected one of {', '.join(topic.answer_ids)}"
            )
        if name in parsed:
            raise InputError("--answer", f"answer {name!r} given twice")
        parsed[name] = value
    if not parsed:
        raise InputError("--answer", f"give at least one answer, such as --answer {topic.result}=...")
    return parsed


def check(
    topic: Topic,
    raw_options,
    answers: Sequence[str],
    example: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    decimals: int | None = None,
) -> Report:
    """Judge every ``ID=VALUE`` answer at the task's precision (``decimals``, default 2)."""
    from derive.api import prepare
    from derive.grading.grader import grade
    from derive.grading.precision import DEFAULT_DECIMALS, Precision

    precision = Precision(DEFAULT_DECIMALS if decimals is None else decimals, rtol, atol)
    wanted = parse_answers(topic, answers)
    return grade(topic, prepare(topic, raw_options, example), wanted, precision)


def render_report(report: Report, fmt: str, reveal: bool = False) -> str:
    from derive.grading import display

    return display.render(report, fmt, reveal)


class _CallableModule(types.ModuleType):
    """``derive.check`` is this module and also, called, ``derive.api.check`` (answers by id)."""

    def __call__(self, topic: str, answers, **inputs) -> Report:
        from derive.api import check as check_answers

        return check_answers(topic, answers, **inputs)


sys.modules[__name__].__class__ = _CallableModule
