"""The dot-product topic's values, from derive.exact.vectors, in the readable exact forms it shows."""

from __future__ import annotations

import sympy as sp

from derive.exact import vectors
from derive.model import Mistake

WORK_DPS = 30
TINY = sp.Float("1e-25", WORK_DPS)


def numeric(value) -> sp.Float:
    return sp.N(value, WORK_DPS)


def is_zero(value) -> bool:
    """Exact when SymPy can decide; otherwise zero to 25 digits (tiny inputs such as 1e-30 are decided)."""
    value = sp.sympify(value)
    known = value.is_zero
    if known is not None or value.free_symbols:
        return bool(known)  # with letters, zero only when SymPy can tell
    return abs(numeric(value)) < TINY


def tidy(value):
    """A readable exact form: rationalised surds, and ±1 recognised even when SymPy does not see it."""
    rationalised = sp.radsimp(value)
    if sp.count_ops(rationalised) <= sp.count_ops(value):
        value = rationalised
    for one in (sp.Integer(1), sp.Integer(-1)):
        if value != one and is_zero(value - one) and sp.simplify(value - one) == 0:
            return one
    return value


def dot(v):
    return vectors.dot(v.a, v.b)


def norm_a(v):
    return vectors.norm(v.a)


def norm_b(v):
    return vectors.norm(v.b)


def cosine(v):
    return tidy(v.dot / (v.norm_a * v.norm_b))


def angle(v):
    return tidy(vectors.angle_degrees(v.cosine))


NORM_HINT = "The length is the square root of the sum of squares: take the square root at the end."
NORM_A_WITHOUT_SQRT = Mistake("norm-without-sqrt", NORM_HINT, lambda v: vectors.sum_of_squares(v.a))
NORM_B_WITHOUT_SQRT = Mistake("norm-without-sqrt", NORM_HINT, lambda v: vectors.sum_of_squares(v.b))
UNNORMALISED_COSINE = Mistake(
    "unnormalised-cosine",
    "Divide the dot product by both lengths, |a|·|b|, to get the cosine.",
    lambda v: v.dot,
)
RADIANS = Mistake(
    "radians", "acos gives radians: multiply by 180/π to get degrees.", lambda v: sp.acos(v.cosine)
)
