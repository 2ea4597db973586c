"""Position-wise feed-forward network: level 1 one token through ReLU with small integer weights,
level 2 two tokens and d_ff = 4, level 3 decimals through GELU (tanh form, calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

MIN_EFFECT = 0.1  # how much the activation must change some output


def _network(rng, tokens, d_model, d_ff, low, high):
    return {
        "x": draw.matrix_text(draw.int_matrix(rng, tokens, d_model, -2, 2)),
        "w1": draw.matrix_text(draw.int_matrix(rng, d_model, d_ff, low, high)),
        "b1": draw.vector_text(draw.nonzero_row(rng, d_ff, -1, 1)),
        "w2": draw.matrix_text(draw.int_matrix(rng, d_ff, d_model, low, high)),
        "b2": draw.vector_text(draw.nonzero_row(rng, d_model, -1, 1)),
        "activation": "relu",
    }


def level_1(rng):
    return _network(rng, 1, 2, 3, -1, 2)


def level_2(rng):
    return _network(rng, 2, 2, 4, -2, 2)


def level_3(rng):
    return {
        "x": draw.vector_text(draw.tenths(rng, 2, -20, 20)),
        "w1": draw.matrix_text(draw.tenths_matrix(rng, 2, 3, -15, 15)),
        "b1": draw.vector_text(draw.tenths(rng, 3, -5, 5)),
        "w2": draw.matrix_text(draw.tenths_matrix(rng, 3, 2, -15, 15)),
        "b2": draw.vector_text(draw.tenths(rng, 2, -5, 5)),
        "activation": "gelu-tanh",
    }


def suitable(values, level):
    """Some hidden units negative and some positive, so the activation matters: the output must
    differ from the one without any activation (whose negative units might cancel in W_2)."""
    hidden = list(values.hidden)
    if not (any(h < 0 for h in hidden) and any(h > 0 for h in hidden) and any(values.output)):
        return False
    bias = values.b2 if values.b2 is not None else sp.zeros(1, values.W2.cols)
    linear = values.hidden * values.W2 + sp.Matrix.vstack(*[bias] * values.hidden.rows)
    return max(abs(float(a - b)) for a, b in zip(values.output, linear)) >= MIN_EFFECT


SYMBOLS = {
    name: sp.Symbol(symbol) for name, symbol in (("x", "x"), ("w1", "W_1"), ("b1", "b_1"), ("w2", "W_2"))
}
SYMBOLS.update({"b2": sp.Symbol("b_2"), "activation": None})


def task(given):
    name = {"relu": "ReLU, max(0, h)", "gelu-tanh": "GELU in its tanh form"}[given["activation"]]
    return f"Feed-forward network FFN(x) = f(x W_1 + b_1) W_2 + b_2, with f = {name}."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
