"""The rope topic's values, from derive.exact.positional, and its misconceptions."""

from __future__ import annotations

import sympy as sp

from derive.exact import positional, vectors
from derive.model import Mistake
from derive.topics.rope.relative import relative_terms, same_value

ALIBI_SLOPE = sp.Rational(1, 2)  # the first head of eight in ALiBi: slopes 1/2, 1/4, ..., 1/256


def dot(a, b):
    return sp.expand(vectors.dot(a, b))


def angles(v):
    return positional.frequencies(v.d, v.base)


def q_rotated(v):
    return positional.rope(v.q, v.m, v.angles)


def k_rotated(v):
    return positional.rope(v.k, v.n, v.angles)


def score(v):
    raw = dot(v.q_rotated, v.k_rotated)
    tidy = sp.Add(*relative_terms(v.q, v.k, list(v.angles), v.n - v.m))
    return tidy if same_value(raw, tidy) else raw  # equal by the identity proved in the next step


def relative(v):
    return positional.rope_rotation(list(v.angles), v.n - v.m)


def v_out(v):
    return v.v


def alibi(v):
    return dot(v.q, v.k) - ALIBI_SLOPE * abs(v.n - v.m)


CLOCKWISE_HINT = (
    "R_m turns each pair counter-clockwise: the new first entry is x·cos(mθ_i) − y·sin(mθ_i), "
    "the new second entry x·sin(mθ_i) + y·cos(mθ_i)."
)
POSITIVE_EXPONENT = Mistake(
    "positive-exponent",
    "θ_i = base^(−2i/d): the exponent is negative, so later pairs turn more slowly.",
    lambda v: positional.divisors(v.d, v.base),
)
Q_CLOCKWISE = Mistake("clockwise", CLOCKWISE_HINT, lambda v: positional.rope(v.q, -v.m, v.angles))
K_CLOCKWISE = Mistake("clockwise", CLOCKWISE_HINT, lambda v: positional.rope(v.k, -v.n, v.angles))
UNROTATED = Mistake(
    "unrotated",
    "Rotate q by its position m and k by its position n before taking the dot product.",
    lambda v: dot(v.q, v.k),
)
ROTATED_VALUES = Mistake(
    "rotated-values",
    "RoPE rotates only queries and keys; the value vector passes through unchanged.",
    lambda v: positional.rope(v.v, v.n, v.angles),
)
