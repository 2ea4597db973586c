"""Multi-head attention: level 1 two tokens, d_model = 2 and two heads (d_k = 1), level 2 d_model = 4
with two heads (d_k = 2), level 3 decimals."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw


def _weights(rng, size, low, high):
    return {
        name: draw.matrix_text(draw.int_matrix(rng, size, size, low, high))
        for name in ("wq", "wk", "wv", "wo")
    }


def level_1(rng):
    return {"x": draw.matrix_text(draw.int_matrix(rng, 2, 2, -2, 2)), **_weights(rng, 2, -1, 1), "heads": "2"}


def level_2(rng):
    tokens = rng.choice([2, 3])
    return {
        "x": draw.matrix_text(draw.int_matrix(rng, tokens, 4, -1, 1)),
        **_weights(rng, 4, -1, 1),
        "heads": "2",
    }


def level_3(rng):
    weights = {
        name: draw.matrix_text(draw.tenths_matrix(rng, 4, 4, -10, 10)) for name in ("wq", "wk", "wv", "wo")
    }
    return {"x": draw.matrix_text(draw.tenths_matrix(rng, 2, 4, -10, 10)), **weights, "heads": "2"}


def suitable(values, level):
    """No row of scaled scores, in any head, all equal (uniform weights whatever the method)."""
    scaled = values.scaled  # the heads stacked: (heads · tokens) × tokens
    return all(len(set(scaled.row(r))) > 1 for r in range(scaled.rows))


SYMBOLS = {
    name: sp.Symbol(symbol) for name, symbol in (("x", "X"), ("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))
}
SYMBOLS.update({"wo": sp.Symbol("W_O"), "heads": sp.Symbol("h")})


def task(given):
    return (
        "Multi-head self-attention with h heads: Q = X W_Q, K = X W_K, V = X W_V, split by columns into heads "
        "of width d_k = d_model / h, attend in each head with 1/√d_k, concatenate, multiply by W_O."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
