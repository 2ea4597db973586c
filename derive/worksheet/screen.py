"""Is a variant fit for a class? Every named misconception must give a visibly different answer.

The values come from the topic's own stages (``Stage.compute`` and ``Mistake.compute``), so the
check is the grader's view: a misconception whose answer rounds to the right one at the sheet's
decimals could not be told apart, and the variant is drawn again. A word answer (a token, a list
of tokens) is told apart by equality, as the grader compares it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import sympy as sp

from derive.api import prepare
from derive.grading.precision import places
from derive.model import Givens, Topic, Values

WORK_DIGITS = 20
MARGIN_UNITS = 2


def stages_until(topic: Topic, last: str | None) -> tuple:
    """The stages up to and including ``last`` (all of them when ``last`` is None)."""
    names = [stage.name for stage in topic.stages]
    return topic.stages if last is None else topic.stages[: names.index(last) + 1]


def stage_values(topic: Topic, raw: Mapping[str, str], last: str | None = None) -> Values:
    """The givens and each stage's exact value up to ``last``, without building explanations (fast)."""
    return values_from(topic, prepare(topic, raw), last)


def values_from(topic: Topic, givens: Givens, last: str | None = None) -> Values:
    """As :func:`stage_values`, from givens already prepared."""
    values = Values(givens.values)
    for stage in stages_until(topic, last):
        values = values.updated(**{stage.name: stage.compute(values)})
    return values


_FUNCTIONS = {
    sp.exp: math.exp,
    sp.sin: math.sin,
    sp.cos: math.cos,
    sp.acos: math.acos,
    sp.erf: math.erf,
    sp.tanh: math.tanh,
}


def to_float(expr: Any) -> float:
    """A double-precision value of an exact number, walking the tree (much faster than evalf).

    Double precision is ample here: answers are compared at a few decimals.
    """
    if isinstance(expr, (int, float)):
        return float(expr)
    return _node_float(expr)


@functools.lru_cache(maxsize=1 << 16)
def _node_float(expr: sp.Basic) -> float:
    """Cached: a row's sum of exponentials recurs in every weight and output entry of the row,
    in the right answer and in each misconception's, and in the key's rounding."""
    if expr.is_Rational or expr.is_Float:
        return float(expr)
    if expr.is_Add:
        return math.fsum(to_float(a) for a in expr.args)
    if expr.is_Mul:
        return math.prod(to_float(a) for a in expr.args)
    if expr.is_Pow:
        return to_float(expr.base) ** to_float(expr.exp)
    function = _FUNCTIONS.get(type(expr))
    if function is not None:
        return function(to_float(expr.args[0]))
    return float(sp.N(expr, WORK_DIGITS))


def _entries(value: Any) -> list:
    if isinstance(value, sp.MatrixBase):
        return [entry for row in value.tolist() for entry in row]  # not list(): it indexes entry by entry
    return list(value) if isinstance(value, (list, tuple)) else [value]


def words(value: Any) -> tuple[str, ...] | None:
    """The entries of a word answer (a chosen token, a list of tokens), or None for a number."""
    entries = _entries(value)
    return tuple(entries) if entries and all(isinstance(e, str) for e in entries) else None


def floats(value: Any) -> list[float] | None:
    """The entries as floats, or None when a value is not a finite number (text is never parsed)."""
    out = []
    for entry in _entries(value):
        if isinstance(entry, str):
            return None
        try:
            number = to_float(sp.sympify(entry))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError, AttributeError):
            return None
        if isinstance(number, complex) or not math.isfinite(number):
            return None
        out.append(number)
    return out


def shape(value: Any) -> tuple[int, int]:
    if isinstance(value, sp.MatrixBase):
        return value.shape
    if isinstance(value, (list, tuple)):
        return (1, len(value))
    return (1, 1)


def apart(truth: Any, other: Any, decimals: int, expected: list[float] | None = None) -> bool:
    """True when ``other`` cannot pass for ``truth`` at this many decimals (or is not comparable);
    ``expected`` is ``floats(truth)`` when the caller has it already.

    An answer too small to show at the decimals (a learning rate of 0.0007) is graded to
    significant figures (derive.grading.precision.places), so it is screened at those places."""
    if other is None or shape(truth) != shape(other):
        return True
    if words(truth) is not None:
        return words(truth) != words(other)
    expected = floats(truth) if expected is None else expected
    candidate = floats(other)
    if expected is None or candidate is None:
        return True
    unit = 10.0 ** -places(decimals, max(abs(e) for e in expected))
    return max(abs(a - b) for a, b in zip(expected, candidate)) > MARGIN_UNITS * unit


def confusions(
    topic: Topic, values: Values, decimals: int, moot: Iterable[str] = (), last: str | None = None
) -> list[str]:
    """``stage:mistake`` for every misconception, up to stage ``last``, whose answer would pass for the right one."""
    ignored = set(moot)
    found = []
    for stage in stages_until(topic, last):
        if not stage.answer:
            continue
        truth = values[stage.name]
        if truth is None:  # an optional stage these inputs leave out (plain SGD keeps no m)
            continue
        expected = floats(truth) if stage.mistakes else None
        for mistake in stage.mistakes:
            if mistake.id in ignored:
                continue
            try:
                candidate = mistake.compute(values)
            except (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError):
                continue
            if not apart(truth, candidate, decimals, expected):
                found.append(f"{stage.name}:{mistake.id}")
    return found


def finite(topic: Topic, values: Values) -> bool:
    """Every answer computed is a finite number (no division by zero, no overflow) or words; an
    optional stage these inputs leave out has no answer."""
    computed = (values.get(s.name) for s in topic.stages if s.answer)
    return all(floats(v) is not None or words(v) is not None for v in computed if v is not None)
