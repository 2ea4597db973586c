"""Residual connection x + F(x): level 1 a given sublayer output, level 2 a linear sublayer
F(x) = x W + b, level 3 decimals."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw


def level_1(rng):
    return {
        "x": draw.matrix_text(draw.int_matrix(rng, 2, 2, -3, 3)),
        "sublayer_output": draw.matrix_text(draw.int_matrix(rng, 2, 2, -3, 3)),
    }


def level_2(rng):
    return {
        "x": draw.matrix_text(draw.int_matrix(rng, 2, 2, -2, 3)),
        "w": draw.matrix_text(draw.int_matrix(rng, 2, 2, -2, 2)),
        "b": draw.vector_text(draw.nonzero_row(rng, 2, -2, 2)),
    }


def level_3(rng):
    return {
        "x": draw.matrix_text(draw.tenths_matrix(rng, 2, 3, -30, 30)),
        "w": draw.matrix_text(draw.tenths_matrix(rng, 3, 3, -10, 10)),
        "b": draw.vector_text(draw.tenths(rng, 3, -10, 10)),
    }


def suitable(values, level):
    """A sublayer that changes something: F(x) is not zero anywhere."""
    return all(any(values.sublayer.row(r)) for r in range(values.sublayer.rows))


SYMBOLS = {"x": sp.Symbol("x"), "sublayer_output": sp.Function("F")(sp.Symbol("x"))}
SYMBOLS.update({"w": sp.Symbol("W"), "b": sp.Symbol("b")})


def task(given):
    if "w" in given:
        return "The sublayer is linear, F(x) = x W + b. Compute F(x) and the residual connection x + F(x)."
    return "Add the residual connection: the sublayer's input x plus its output F(x)."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
