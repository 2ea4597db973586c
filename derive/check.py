"""Grade a student's hand calculation by re-running the topic's own stages.

Each answer is compared with the exact value. A wrong one is first recomputed from the
student's own earlier answers ("follows through": right method, wrong input, so no error is
counted twice), then tried against every named misconception of its stage.
"""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp

from derive import parse
from derive.api import prepare
from derive.errors import InputError
from derive.model import Topic, Values, run
from derive.numbers import is_array

_DECIMAL = re.compile(r"^[+-]?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")
EXACT_RTOL = 1e-9


@dataclass(frozen=True)
class Entry:
    row: int
    col: int
    given: Any
    expected: Any
    correct: bool
    written: str = ""


@dataclass(frozen=True)
class AnswerReport:
    id: str
    verdict: str  # "correct", "wrong" or "follows-through"
    entries: tuple[Entry, ...]
    shape_note: str | None = None
    mistake: str | None = None
    hint: str | None = None

    @property
    def wrong_entries(self) -> list[tuple[int, int]]:
        return [(e.row, e.col) for e in self.entries if not e.correct]


@dataclass(frozen=True)
class Report:
    topic: str
    items: tuple[AnswerReport, ...] = field(default_factory=tuple)

    @property
    def all_correct(self) -> bool:
        return all(item.verdict == "correct" for item in self.items)

    def item(self, answer_id: str) -> AnswerReport:
        return next(i for i in self.items if i.id == answer_id)


@dataclass(frozen=True)
class _Given:
    """A student's answer: exact values for recomputation, and per-entry tolerances."""

    value: Any
    flat: tuple
    tolerances: tuple
    written: tuple = ()


def _tolerance(raw: str, rtol: float | None, atol: float | None):
    """Half a unit in the last written place, plus half a unit of slack for rounded inputs."""
    if rtol is not None or atol is not None:
        return ("explicit", rtol or 0.0, atol or 0.0)
    match = _DECIMAL.match(raw.strip())
    if not match or not (match.group(1) or match.group(2)):
        return ("explicit", EXACT_RTOL, 0.0)
    exponent = int(match.group(3) or 0)
    decimals = len(match.group(2) or "")
    unit = sp.Integer(10) ** (exponent - decimals)
    return ("absolute", 0.0, unit if decimals else unit / 2)


def _close(given, expected, tolerance, slack=0) -> bool:
    if isinstance(expected, str) or isinstance(given, str):
        return given == expected
    g, e = _mpf(given), _mpf(expected)
    return abs(g - e) <= _allowance(tolerance, e) + slack + mpmath.mpf(10) ** -25


def _mpf(value):
    return mpmath.mpf(value) if isinstance(value, (int, float)) else mpmath.mpf(sp.N(value, 30))


def _allowance(tolerance, reference):
    _, rtol, atol = tolerance
    return _mpf(atol) + _mpf(rtol) * abs(_mpf(reference))


def _flat(value) -> tuple:
    if is_array(value):
        return tuple(value.ravel().tolist())
    if isinstance(value, sp.MatrixBase):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _shape(value) -> tuple[int, int]:
    if is_array(value):
        return tuple(value.shape) if value.ndim == 2 else (1, value.size)
    if isinstance(value, sp.MatrixBase):
        return value.shape
    if isinstance(value, (list, tuple)):
        return (1, len(value))
    return (1, 1)


def _string_list(raw: str) -> list[str]:
    """A JSON list of strings (``["[CLS]", ","]``) or whitespace-separated tokens."""
    text = raw.strip()
    if text.startswith("["):
        try:
            tokens = json.loads(text)
        except ValueError:
            tokens = None
        if isinstance(tokens, list) and all(isinstance(t, str) for t in tokens):
            return tokens
    return text.split()


def _parse_answer(raw: str, expected, rtol, atol) -> _Given:
    """Read the student's text in the shape of the true value (numbers, or token lists)."""
    option = "--answer"
    if isinstance(expected, str):
        return _Given(raw, (raw,), (None,), (raw,))
    if isinstance(expected, (list, tuple)) and expected and isinstance(expected[0], str):
        tokens = _string_list(raw)
        return _Given(list(tokens), tuple(tokens), tuple(None for _ in tokens), tuple(tokens))
    rows = parse.matrix_entries(raw, option)
    values = [[parse.parse_scalar(e, option) for e in row] for row in rows]
    tolerances = tuple(_tolerance(e, rtol, atol) for row in rows for e in row)
    flat = tuple(v for row in values for v in row)
    if is_array(expected):
        import numpy as np

        floats = np.array([float(v) for v in flat])
        value = floats.reshape(expected.shape) if floats.size == expected.size else floats
    elif isinstance(expected, sp.MatrixBase):
        if len(flat) == len(expected):
            value = sp.Matrix(expected.rows, expected.cols, list(flat))
        else:
            value = sp.Matrix(values)
    elif isinstance(expected, (list, tuple)):
        value = [int(v) if v.is_Integer else v for v in flat]
    else:
        if len(flat) != 1:
            raise InputError(option, f"expected a single number, got {len(flat)} values")
        value = flat[0]
    return _Given(value, flat, tolerances, tuple(e.strip() for row in rows for e in row))


def _matches(given: _Given, expected, slack=None) -> tuple[bool, list[Entry], str | None]:
    """Entry by entry; ``slack`` widens each entry's tolerance (rounding carried in from earlier)."""
    exp_flat = _flat(expected)
    if len(given.flat) != len(exp_flat):
        rows, cols = _shape(expected)
        return False, [], f"expected {rows}×{cols} = {len(exp_flat)} values, got {len(given.flat)}"
    cols = _shape(expected)[1]
    entries = []
    for index, (g, e, tol) in enumerate(zip(given.flat, exp_flat, given.tolerances)):
        written = given.written[index] if given.written else str(g)
        extra = slack[index] if slack else 0
        entries.append(Entry(index // cols + 1, index % cols + 1, g, e, _close(g, e, tol, extra), written))
    return all(e.correct for e in entries), entries, None


def _agrees(given: _Given, candidate, slack=None) -> bool:
    try:
        return _matches(given, candidate, slack)[0]
    except (TypeError, ValueError, ArithmeticError):
        return False


_PATTERNS = ((1, 1), (-1, -1), (1, -1), (-1, 1))


def _nudged(given: _Given, pattern) -> Any:
    """The student's value moved to the edge of its own rounding, in a sign pattern."""
    value = given.value
    if not isinstance(value, (sp.MatrixBase, sp.Expr)) or not given.tolerances or given.tolerances[0] is None:
        return value
    flat = list(_flat(value))
    moved = []
    for index, (entry, tolerance) in enumerate(zip(flat, given.tolerances)):
        step = sp.Rational(str(_allowance(tolerance, entry)))
        moved.append(entry + pattern[index % 2] * step)
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value.rows, value.cols, moved)
    return moved[0]


def _carried_rounding(stage, student_values: Values, earlier: dict, candidate) -> list:
    """How far the stage's result moves when the student's inputs move within their rounding."""
    try:
        base = [_mpf(c) for c in _flat(candidate)]
    except (TypeError, ValueError):
        return None
    spread = [mpmath.mpf(0)] * len(base)
    for pattern in _PATTERNS:
        nudged = student_values.updated(**{name: _nudged(g, pattern) for name, g in earlier.items()})
        moved = _safely(stage.compute, nudged)
        if moved is None or len(_flat(moved)) != len(base):
            continue
        try:
            spread = [max(s, abs(_mpf(m) - b)) for s, m, b in zip(spread, _flat(moved), base)]
        except (TypeError, ValueError):
            return None
    return spread


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


def _safely(compute, values: Values):
    try:
        return compute(values)
    except (TypeError, ValueError, ArithmeticError, sp.ShapeError, IndexError, KeyError, AttributeError):
        return None


def check(
    topic: Topic,
    raw_options,
    answers: Sequence[str],
    example: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Report:
    """Judge every given answer; see the module docstring for the order of diagnoses."""
    for name, value in (("--rtol", rtol), ("--atol", atol)):
        if value is not None and not (value >= 0):
            raise InputError(name, "expected a non-negative number")
    wanted = parse_answers(topic, answers)
    givens = prepare(topic, raw_options, example)
    derivation = run(topic, givens)
    truth = derivation.answers
    true_values = Values({**givens.values, **{s.name: s.value for s in derivation.steps}})
    student_values = true_values
    earlier: dict[str, _Given] = {}
    items = []
    for stage in topic.stages:
        if stage.name not in wanted:
            continue
        expected = truth.get(stage.name)
        if expected is None or not _flat(expected):
            raise InputError("--answer", f"{stage.name}: nothing to check with these options")
        given = _parse_answer(wanted[stage.name], expected, rtol, atol)
        ok, entries, shape_note = _matches(given, expected)
        if ok:
            items.append(AnswerReport(stage.name, "correct", tuple(entries)))
        else:
            items.append(_diagnose(stage, given, entries, shape_note, true_values, student_values, earlier))
        student_values = student_values.updated(**{stage.name: given.value})
        earlier[stage.name] = given
    return Report(topic.name, tuple(items))


def _diagnose(stage, given, entries, shape_note, true_values, student_values, earlier) -> AnswerReport:
    """Follow-through first, so an earlier error is never counted again as a misconception here."""
    if earlier:
        candidate = _safely(stage.compute, student_values)
        if candidate is not None and (
            _agrees(given, candidate)
            or _agrees(given, candidate, _carried_rounding(stage, student_values, earlier, candidate) or None)
        ):
            return AnswerReport(stage.name, "follows-through", tuple(entries), shape_note)
    own_inputs = [true_values, student_values] if earlier else [true_values]
    for mistake in stage.mistakes:
        for values in own_inputs:
            candidate = _safely(mistake.compute, values)
            if candidate is not None and _agrees(given, candidate):
                return AnswerReport(stage.name, "wrong", tuple(entries), shape_note, mistake.id, mistake.hint)
    return AnswerReport(stage.name, "wrong", tuple(entries), shape_note)


def render_report(report: Report, fmt: str) -> str:
    from derive import report_format

    return report_format.render(report, fmt)


class _CallableModule(types.ModuleType):
    """``derive.check`` is this module and also, called, ``derive.api.check`` (answers by id)."""

    def __call__(self, topic: str, answers, **inputs) -> Report:
        from derive.api import check as check_answers

        return check_answers(topic, answers, **inputs)


sys.modules[__name__].__class__ = _CallableModule
