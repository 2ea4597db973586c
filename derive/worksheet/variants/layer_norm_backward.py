"""LayerNorm backward: level 1 four integers whose standard deviation is 1 or 2 (so x̂ is ±1 and dx
a fraction), with an integer dy; level 2 two tokens whose standard deviations may be √2 or √3, with
an integer γ; level 3 three decimals with PyTorch's default ε = 10⁻⁵ (calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

MIN_GRADIENT = 0.1

# Four deviations from the mean, summing to 0: population variance 1 or 4, then also 2 or 3.
WHOLE_SPREAD = ((-1, -1, 1, 1), (-2, -2, 2, 2))
ROOT_SPREAD = WHOLE_SPREAD + ((-2, 0, 0, 2), (-3, 1, 1, 1), (-1, -1, -1, 3))


def _row(rng, patterns=WHOLE_SPREAD):
    """Four integers around a small mean, in random order."""
    mean = rng.randint(-2, 3)
    deviations = list(rng.choice(patterns))
    rng.shuffle(deviations)
    return [mean + d for d in deviations]


def level_1(rng):
    return {
        "x": draw.vector_text(_row(rng)),
        "grad_output": draw.vector_text(draw.nonzero_row(rng, 4, -2, 2)),
        "eps": "0",
    }


def level_2(rng):
    return {
        "x": draw.matrix_text([_row(rng, ROOT_SPREAD), _row(rng, ROOT_SPREAD)]),
        "grad_output": draw.matrix_text(draw.int_matrix(rng, 2, 4, -2, 2)),
        "gamma": draw.vector_text(draw.integers(rng, 4, 1, 3)),
        "eps": "0",
    }


def level_3(rng):
    return {
        "x": draw.vector_text(draw.tenths(rng, 3, -30, 30)),
        "grad_output": draw.vector_text(draw.tenths(rng, 3, -20, 20)),
        "eps": "0.00001",
    }


def suitable(values, level):
    """Every row varies, and dx is not about 0 (dy would then only shift or scale x̂, which LayerNorm
    undoes, and every answer would round to 0)."""
    varies = all(len(set(values.x.row(r))) > 1 for r in range(values.x.rows))
    return varies and max(abs(float(e)) for e in values.dx) > MIN_GRADIENT


SYMBOLS = {
    "x": sp.Symbol("x"),
    "grad_output": sp.Symbol("dy"),
    "gamma": sp.Symbol("gamma"),
    "eps": sp.Symbol("epsilon"),
}


def task(given):
    return (
        "Backpropagate dy through layer normalisation (population variance, ε inside the root): "
        "the gradients of β, of γ and of the input x."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
