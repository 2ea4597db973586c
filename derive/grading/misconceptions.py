"""Misconceptions the grader names: each stage's own (``Stage.mistakes``, defined by its topic) and
the generic ones that hold for any topic whose stage declares them.

Generic: ``hard-max`` (the argmax's one-hot for softmax weights) and ``rows-not-summing-to-one``
wherever the stage declares its answer a set of weights (``Stage.distribution``: attention weights
of any topic, softmax outputs, next-token probabilities) and the student's rows do not sum to 1
within their rounding. Declared, not guessed from the values: a row of scores such as ``0.5 0.5``
looks like weights without being any. For weights in letters (``softmax --x "a b"``) the same two
are named: a one-hot row is a hard max whichever letter it took for the largest, and a row of
expressions that does not add up to 1 identically (``symbolic.same``) is not normalised.
"""

from __future__ import annotations

import sympy as sp

from derive.grading import reading, symbolic

ROWS_NOT_SUMMING = "rows-not-summing-to-one"
ROWS_NOT_SUMMING_HINT = (
    "Each row of weights is a probability distribution: its entries must add up to 1. "
    "Divide every exponential by the sum of its own row."
)


def _rows(numbers: list, cols: int) -> list[list]:
    return [numbers[r : r + cols] for r in range(0, len(numbers), cols)]


def is_weights(stage, truth) -> bool:
    """The stage declares its rows probability distributions and this answer has numbers in at least
    two columns (a single entry leaves nothing to normalise or take the argmax of; letters: see
    ``is_symbolic_weights``)."""
    if not stage.distribution or reading.shape(truth)[1] < 2:
        return False
    try:
        for entry in reading.flat(truth):
            reading.number(entry)
    except (TypeError, ValueError):
        return False
    return True


def is_symbolic_weights(stage, truth) -> bool:
    """The stage declares its rows distributions, in at least two columns, and they are in letters."""
    if not stage.distribution or reading.shape(truth)[1] < 2:
        return False
    return any(reading.symbolic(entry) for entry in reading.flat(truth))


def one_hot(given: reading.Written, truth) -> bool:
    """Every row of the student's answer is a single 1 among 0s: for weights in letters, a hard max
    (which letter it took for the largest cannot be known, and does not matter)."""
    if len(given.flat) != len(reading.flat(truth)) or any(reading.symbolic(e) for e in given.flat):
        return False
    cols = reading.shape(truth)[1]
    for row in _rows(list(given.flat), cols):
        if sorted(row) != [0] * (cols - 1) + [1]:
            return False
    return True


def rows_not_summing_symbolically(given: reading.Written, truth) -> bool:
    """A row of the student's answer to weights in letters does not add up to 1 as an expression."""
    if len(given.flat) != len(reading.flat(truth)):
        return False
    cols = reading.shape(truth)[1]
    return any(not symbolic.same(sp.Add(*row), 1) for row in _rows(list(given.flat), cols))


def rows_not_summing(given: reading.Written, truth, rooms: list) -> bool:
    """The student's weights (``truth`` is weights: see ``is_weights``) have a row whose sum is off by
    more than its entries' ``rooms`` (each entry's rounding, at the task's decimals or the coarser
    ones it was written to) allow."""
    if not given.numeric or len(given.flat) != len(reading.flat(truth)):
        return False
    cols = reading.shape(truth)[1]
    numbers = [reading.number(e) for e in given.flat]
    for index, row in enumerate(_rows(numbers, cols)):
        if abs(sum(row) - 1) > sum(rooms[index * cols : (index + 1) * cols]):
            return True
    return False


HARD_MAX = "hard-max"
HARD_MAX_HINT = (
    "Softmax is not argmax: every entry gets its share e^(z_i) / Σ_j e^(z_j), not only the largest "
    "(which gets less than 1)."
)


def hard_max(truth):
    """The weights' argmax one-hot, row by row (ties share their row): what a student who takes the
    largest score only would write. Softmax keeps the order, so the truth's argmax is the scores'."""
    rows, cols = reading.shape(truth)
    numbers = [reading.number(e) for e in reading.flat(truth)]
    out = []
    for row in _rows(numbers, cols):
        top = max(row)
        winners = [n == top for n in row]
        out += [sp.Rational(1, sum(winners)) if w else sp.Integer(0) for w in winners]
    return sp.Matrix(rows, cols, out)
