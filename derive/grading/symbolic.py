"""Whether a symbolic answer equals the true expression: decided soundly, and fast.

The decision, in this order:

1. Both sides are evaluated at ``POINTS`` real points (the symbols are real), to ``DIGITS``
   digits. One point where both are defined and they differ by more than ``TOLERANCE`` of their
   size rejects the answer, whatever ``simplify`` would say: this guards against simplify's false
   positives, and rejects a wrong answer (or a misconception's candidate) without simplifying.
2. Agreement at every point, with at least ``MIN_DEFINED`` of them defined, accepts: this guards
   against simplify's false negatives (erf, max(0, ·), nested exponentials that it leaves
   unsimplified). Two analytic expressions that differ agree only on a set of measure zero, and
   the points are rationals with large prime denominators, so agreement at all of them is no
   accident. A piecewise expression (``max(0, a − b)`` from ReLU, ``Abs``) is not analytic: the
   points must meet both sides of each kink. Signs are drawn per point (the first two all
   positive and all negative), and such expressions get ``KINKED_POINTS`` points, so that a wrong
   answer equal to the truth on one side of a kink (``a − b`` for ``max(0, a − b)``) passes
   only if the 32 seeded points all fall on one side (about 2^-30 for an even split).
   Agreement means equal where both values are rational (no function left), else within
   ``TOLERANCE`` (10^-40) of their size at DIGITS digits; then, at the first point, the exact
   difference is certified 0 by SymPy's strict evaluation to ``CERTIFIED_BITS``, so an answer off
   by 10^-100 is caught; one off by less than about 2^-2000 of its terms is not.
3. Where too few points are defined (each hits a pole), ``simplify(a − b) == 0``
   decides; it runs inside the command's time budget (derive/budget.py).

The points are seeded by the symbols' names: the same answer gets the same verdict every time.
"""

from __future__ import annotations

import random

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

POINTS = 8
KINKED_POINTS = 32
_KINKS = (sp.Max, sp.Min, sp.Abs, sp.Piecewise, sp.sign, sp.Heaviside)
MIN_DEFINED = 4
DIGITS = 50
TOLERANCE = sp.Float("1e-40", DIGITS)  # relative: ten digits above the evaluation's own error
FLOOR = sp.Float("1e-45", DIGITS)  # the size below which a value counts as 0 (evaluation noise)
CERTIFIED_BITS = 2000
_DENOMINATORS = (97, 101, 103, 107, 109, 113, 127, 131, 137, 139)


def points(symbols, count: int = POINTS) -> list[dict]:
    """``count`` assignments of rationals from about 1/10 to 3 in size to ``symbols``."""
    names = sorted(symbols, key=str)
    rng = random.Random("|".join(map(str, names)))
    out = []
    for index in range(count):
        point = {}
        for symbol in names:
            q = rng.choice(_DENOMINATORS)
            size = sp.Rational(rng.randint(q // 10, 3 * q), q)
            sign = 1 if index == 0 else -1 if index == 1 else rng.choice((1, -1))
            point[symbol] = sign * size
        out.append(point)
    return out


def _at(expr, point):
    """``expr`` at ``point``, exact (a Rational where no function is left), or None where it is
    not defined there."""
    try:
        value = expr.xreplace(point)
    except (TypeError, ValueError, ArithmeticError):
        return None
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    return value


def _differ(given, expected) -> bool | None:
    """Exact values compared exactly; others at DIGITS digits (None: not defined there)."""
    if given.is_Rational and expected.is_Rational:
        return given != expected
    try:
        g, e = given.evalf(DIGITS), expected.evalf(DIGITS)
        if g.is_finite is False or e.is_finite is False:
            return None
        gap = abs(sp.N(g - e, DIGITS))
        return bool(gap > max(TOLERANCE * max(abs(g), abs(e)), FLOOR))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _certified_zero(difference) -> bool:
    """The difference at a point shown to be 0 beyond CERTIFIED_BITS: SymPy's strict evaluation
    either certifies a nonzero value or runs out of precision (a difference smaller than about
    2^-CERTIFIED_BITS of the terms is not seen)."""
    if difference.is_Rational:
        return difference == 0
    try:
        return difference.evalf(15, strict=True, maxn=CERTIFIED_BITS) == 0
    except PrecisionExhausted:
        return True
    except (TypeError, ValueError, ArithmeticError):
        return False


def same(given, expected) -> bool:
    """Equal as expressions in real symbols (see the module docstring for how it is decided)."""
    given, expected = sp.sympify(given), sp.sympify(expected)
    symbols = given.free_symbols | expected.free_symbols
    count = KINKED_POINTS if given.has(*_KINKS) or expected.has(*_KINKS) else POINTS
    agreed = []
    for point in points(symbols, count) if symbols else [{}]:
        g, e = _at(given, point), _at(expected, point)
        differ = None if g is None or e is None else _differ(g, e)
        if differ:
            return False
        if differ is False:
            agreed.append(g - e)
    if len(agreed) >= (MIN_DEFINED if symbols else 1):
        return _certified_zero(agreed[0])
    return sp.simplify(given - expected) == 0
