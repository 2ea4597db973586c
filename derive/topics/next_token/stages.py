"""The next-token topic's values and misconceptions: logits, softmax, top-k / top-p, the chosen token.

Every stage reads the earlier stages from ``v`` (the student's own values when checking), and the
filters compare exact values, so ties and the top-p boundary are decided exactly.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.evalf import PrecisionExhausted

from derive.exact.softmax import stable_softmax
from derive.model import Mistake

# --- exact comparisons (values may be transcendental sums of exponentials, or a student's decimals) ---


def sign(value) -> int:
    """The sign, decided by an evaluation SymPy certifies to 30 digits; a difference that cancels
    beyond 2,000 bits is a tie. (``simplify`` was the old tie test: on exponentials of entries near
    1e308 it ran for minutes inside one big-integer operation, past any time budget.)"""
    value = sp.sympify(value)
    if value.is_Rational:
        return int(bool(value > 0)) - int(bool(value < 0))
    try:
        numeric = value.evalf(30, strict=True, maxn=2000)
    except PrecisionExhausted:
        return 0
    return int(bool(numeric > 0)) - int(bool(numeric < 0))


def descending(probs) -> list[int]:
    """Indices by falling probability; ties keep vocabulary order (a stable sort)."""
    return sorted(range(len(probs)), key=lambda n: (-sp.N(probs[n], 40), n))


def top_k(probs, count: int) -> set[int]:
    """Hugging Face's rule: keep every entry at least as large as the k-th largest (ties stay)."""
    threshold = probs[descending(probs)[count - 1]]
    return {n for n, q in enumerate(probs) if sign(q - threshold) >= 0}


def top_p(probs, mass, inclusive: bool = True) -> set[int]:
    """The shortest run of the sorted entries whose sum reaches ``mass``; ``inclusive=False``
    stops before the entry that reaches it (the misconception)."""
    kept, total = set(), sp.Integer(0)
    for n in descending(probs):
        if sign(total - mass) >= 0 or (not inclusive and sign(total + probs[n] - mass) >= 0):
            break
        kept.add(n)
        total += probs[n]
    return kept


def renormalised(probs, kept) -> list:
    """Divide by the kept sum, written relative to the largest kept entry (the stable softmax form)."""
    top = probs[next(n for n in descending(probs) if n in kept)]
    total = sum((probs[n] / top for n in kept), sp.Integer(0))
    return [sp.Mul(q / top, sp.Pow(total, -1)) if n in kept else sp.Integer(0) for n, q in enumerate(probs)]


def filter_distribution(v, nucleus=top_p) -> tuple[list, set[int]]:
    """The renormalised distribution and the kept set, top-k first and then top-p (as in HF)."""
    probs, kept = list(v.probabilities), set(range(len(v.probabilities)))
    if v.k is not None:
        kept = top_k(probs, v.k)
        probs = renormalised(probs, kept)
    if v.p is not None:
        kept = nucleus(probs, v.p)
        if not kept:
            raise ValueError("nothing kept")
        probs = renormalised(probs, kept)
    return probs, kept


def walk(probs, order, threshold) -> int:
    """Inverse-CDF sampling: the first entry in ``order`` whose running sum exceeds ``threshold``."""
    total, last = sp.Integer(0), None
    for n in order:
        total += probs[n]
        last = n if sign(probs[n]) > 0 else last
        if sign(total - threshold) > 0:
            return n
    return last


# --- the stages ---------------------------------------------------------------------------------------


def hidden(v):
    return v.h


def logits(v):
    return v.hidden * v.E.T


def probabilities(v):
    return stable_softmax(v.logits, v.T)


def filtered(v):
    return sp.Matrix([filter_distribution(v)[0]])


def token(v):
    probs = list(v.filtered)
    if v.mode == "greedy":
        return v.words[descending(probs)[0]]
    return v.words[walk(probs, range(len(probs)), v.u)]


# --- misconceptions -------------------------------------------------------------------------------------


def _no_temperature(v):
    return stable_softmax(v.logits)


def _no_renormalise(v):
    kept = filter_distribution(v)[1]
    return sp.Matrix([[q if n in kept else 0 for n, q in enumerate(v.probabilities)]])


def _top_p_exclusive(v):
    if v.p is None:
        return None
    return sp.Matrix([filter_distribution(v, lambda probs, mass: top_p(probs, mass, inclusive=False))[0]])


def _sorted_walk(v):
    if v.mode == "greedy":
        return None
    probs = list(v.filtered)
    return v.words[walk(probs, descending(probs), v.u)]


NO_TEMPERATURE = Mistake(
    "no-temperature", "Divide the logits by the temperature T before the softmax.", _no_temperature
)
NO_RENORMALISE = Mistake(
    "no-renormalise",
    "After removing words, divide the kept probabilities by their sum so they add up to 1 again.",
    _no_renormalise,
)
TOP_P_EXCLUSIVE = Mistake(
    "top-p-exclusive",
    "Top-p keeps the word whose cumulative probability reaches p: the kept sum is at least p.",
    _top_p_exclusive,
)
SORTED_ORDER = Mistake(
    "sorted-order",
    "Walk the cumulative sums in vocabulary order (as numpy's choice does), not sorted by size.",
    _sorted_walk,
)
