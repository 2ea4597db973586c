"""Follow-through: a later answer recomputed from the student's own earlier answers.

One slip is counted once: a later answer done right from a wrong earlier one earns its credit. That
credit cannot be gamed: an earlier answer is carried forward only when it is *plausible*: the right
shape, finite, not all zeros, not all one value (nor every row one value) unless the true answer is,
and no larger than ten times the true answer's largest entry (scores of 100 make every softmax
trivially one-hot). An implausible earlier answer is replaced by the true value, so the steps after
it are judged against the truth.

An earlier answer in letters (a derivation from letters) is carried the same way: it is plausible
when it has the right shape, uses only the problem's own letters, is not all zeros and not one
expression throughout unless the truth is (equality decided by ``symbolic.same``). The scale rule
has no meaning for letters; numbers written for a problem in letters are not carried. The later
stage is then recomputed in letters and compared symbolically; letters carry no rounding, so no slack.

Carrying rounded answers forward moves later results a little; ``carried_slack`` measures how far by
moving every earlier answer to the edges of its rounding and recomputing the stage.
"""

from __future__ import annotations

import mpmath
import sympy as sp

from derive.grading import reading, symbolic
from derive.grading.precision import Precision
from derive.model import Values

# Scale beyond which an earlier answer makes the next step trivial rather than wrong.
MAX_SCALE = 10
_PATTERNS = ((1, 1), (-1, -1), (1, -1), (-1, 1))
_COMPUTE_ERRORS = (
    TypeError,
    ValueError,
    ArithmeticError,
    sp.ShapeError,
    IndexError,
    KeyError,
    AttributeError,
)


def safely(compute, values: Values):
    """A stage (or misconception) computed from values it may not accept: None when it cannot."""
    try:
        return compute(values)
    except _COMPUTE_ERRORS:
        return None


def _numbers(value) -> list | None:
    if value is None:
        return None
    try:
        return [reading.number(entry) for entry in reading.flat(value)]
    except (TypeError, ValueError):
        return None


def _constant(numbers: list) -> bool:
    return len(numbers) > 1 and max(numbers) - min(numbers) == 0


def _rows_constant(value, numbers: list) -> bool:
    rows, cols = reading.shape(value)
    if cols < 2 or len(numbers) != rows * cols:
        return False
    return all(_constant(numbers[r * cols : (r + 1) * cols]) for r in range(rows))


def plausible(written: reading.Written, truth) -> bool:
    """Whether a wrong earlier answer may carry credit forward (see the module docstring)."""
    if not written.numeric:
        return True
    if reading.shape(written.value) != reading.shape(truth):
        return False
    if reading.symbolic(truth):
        return _plausible_in_letters(list(written.flat), list(reading.flat(truth)))
    given, true = _numbers(written.value), _numbers(truth)
    if given is None or true is None or len(given) != len(true):
        return False
    if not all(mpmath.isfinite(g) for g in given) or all(g == 0 for g in given):
        return False
    if _constant(given) and not _constant(true):
        return False
    if _rows_constant(written.value, given) and not _rows_constant(truth, true):
        return False
    largest = max(abs(t) for t in true)
    return max(abs(g) for g in given) <= MAX_SCALE * max(largest, 1)


def _all_same(entries: list) -> bool:
    return len(entries) > 1 and all(symbolic.same(e, entries[0]) for e in entries[1:])


def _plausible_in_letters(given: list, true: list) -> bool:
    letters = set().union(*(sp.sympify(t).free_symbols for t in true))
    used = set().union(*(sp.sympify(g).free_symbols for g in given))
    if not used or not used <= letters or len(given) != len(true):
        return False
    if all(symbolic.same(g, 0) for g in given):
        return False
    return not _all_same(given) or _all_same(true)


def _nudged(written: reading.Written, pattern, precision: Precision):
    """The student's value moved to the edge of its rounding, in an alternating sign pattern."""
    value = written.value
    if not isinstance(value, (sp.MatrixBase, sp.Expr)):
        return value
    moved = []
    for index, entry in enumerate(reading.flat(value)):
        step = sp.Rational(str(precision.allowance(reading.number(entry))))
        moved.append(entry + pattern[index % 2] * step)
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value.rows, value.cols, moved)
    return moved[0]


def carried_slack(stage, values: Values, carried: dict, candidate, precision: Precision) -> list | None:
    """Per entry, how far the stage's result moves when the carried answers move within their rounding."""
    if not carried:
        return None
    base = _numbers(candidate)
    if base is None:
        return None
    spread = [mpmath.mpf(0)] * len(base)
    for pattern in _PATTERNS:
        try:
            nudged = values.updated(**{name: _nudged(w, pattern, precision) for name, w in carried.items()})
        except (TypeError, ValueError):
            return None
        moved = _numbers(safely(stage.compute, nudged))
        if moved is None or len(moved) != len(base):
            continue
        spread = [max(s, abs(m - b)) for s, m, b in zip(spread, moved, base)]
    return spread
