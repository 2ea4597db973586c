"""Rotary position embedding: level 1 one pair (d = 2, angle = position in radians) with small
integers, level 2 two pairs with base 100 (frequencies 1 and 1/10), level 3 decimals with the
standard base 10000."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

SYMBOLS = {name: sp.Symbol(name) for name in ("q", "k", "m", "n", "v")}
SYMBOLS["base"] = sp.Symbol("b")


def _positions(rng, high):
    m, n = rng.sample(range(high + 1), 2)
    return {"m": str(m), "n": str(n)}


def level_1(rng):
    return {
        "q": draw.vector_text(draw.nonzero_row(rng, 2, -3, 3)),
        "k": draw.vector_text(draw.nonzero_row(rng, 2, -3, 3)),
        **_positions(rng, 3),
    }


def level_2(rng):
    return {
        "q": draw.vector_text(draw.nonzero_row(rng, 4, -2, 3)),
        "k": draw.vector_text(draw.nonzero_row(rng, 4, -2, 3)),
        **_positions(rng, 4),
        "base": "100",
    }


def level_3(rng):
    return {
        "q": draw.vector_text(draw.tenths(rng, 4, -20, 20)),
        "k": draw.vector_text(draw.tenths(rng, 4, -20, 20)),
        **_positions(rng, 10),
    }


def moot(given):
    """With one pair (d = 2) the frequency is 1 whatever the sign of its exponent."""
    return {"positive-exponent"} if len(given["q"].split()) == 2 else set()


def suitable(values, level):
    """Neither vector has a zero pair (a pair of zeros does not rotate)."""
    return all(
        any(vector[i : i + 2])
        for vector in (list(values.q), list(values.k))
        for i in (0, 2)[: len(values.q) // 2]
    )


def task(given):
    return (
        "Rotary position embedding: rotate each pair of entries of the query q (at position m) and of the "
        "key k (at position n) by the position times θ_i = b^(−2i/d), then take the score q'·k'."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
