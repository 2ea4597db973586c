"""Softmax Jacobian: level 1 three distinct small integer logits (a 3 × 3 Jacobian), level 2 four,
level 3 three decimals (calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

MAX_SHARE = 0.9  # beyond this every entry of J is near 0 and the misconceptions blur


def level_1(rng):
    return {"x": draw.vector_text(draw.distinct_row(rng, 3, -2, 2))}


def level_2(rng):
    return {"x": draw.vector_text(draw.distinct_row(rng, 4, -2, 2))}


def level_3(rng):
    return {"x": draw.vector_text(draw.tenths(rng, 3, -20, 20))}


def suitable(values, level):
    """Distinct logits, and no probability so close to 1 that the Jacobian is almost 0."""
    logits = list(values.z)
    return len(set(logits)) == len(logits) and max(float(p) for p in values.softmax) < MAX_SHARE


SYMBOLS = {"x": sp.Symbol("z")}


def task(given):
    return "Take the softmax p of the logits z and its Jacobian J, the matrix of ∂p_i/∂z_j."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
