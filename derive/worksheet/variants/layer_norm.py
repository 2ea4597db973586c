"""Layer normalisation: level 1 four integers whose variance is a perfect square (so σ is a whole
number), level 2 adds a learned scale and shift, level 3 two rows of decimals with PyTorch's default ε = 10⁻⁵."""

from __future__ import annotations

import itertools
from functools import cache

import sympy as sp

from derive.worksheet import draw


@cache
def _square_variance_deviations() -> tuple[tuple[int, ...], ...]:
    """Four integer deviations summing to 0 whose mean square is a perfect square above 1."""
    found = []
    for deviations in itertools.product(range(-7, 8), repeat=3):
        last = -sum(deviations)
        row = (*deviations, last)
        if abs(last) > 7 or len(set(row)) < 3:
            continue
        variance, remainder = divmod(sum(d * d for d in row), 4)
        root = int(variance**0.5)
        if not remainder and variance > 1 and root * root == variance:
            found.append(row)
    return tuple(found)


def level_1(rng):
    mean = rng.choice([-3, -2, -1, 1, 2, 3, 4, 5])
    deviations = rng.choice(_square_variance_deviations())
    return {"x": draw.vector_text([mean + d for d in deviations]), "eps": "0"}


def level_2(rng):
    size = rng.choice([3, 4])
    return {
        "x": draw.vector_text(draw.distinct_row(rng, size, -3, 5)),
        "gamma": draw.vector_text(draw.nonzero_row(rng, size, -1, 3)),
        "beta": draw.vector_text(draw.integers(rng, size, -2, 2)),
        "eps": "0",
    }


def level_3(rng):
    size = rng.choice([3, 4])
    return {
        "x": draw.matrix_text(draw.tenths_matrix(rng, 2, size, -30, 30)),
        "gamma": draw.vector_text(draw.tenths(rng, size, 5, 20)),
        "beta": draw.vector_text(draw.tenths(rng, size, -10, 10)),
        "eps": "0.00001",
    }


def suitable(values, level):
    """Every row varies (a constant row has variance 0) and has a mean other than 0."""
    return all(values.variance) and all(values.mean)


SYMBOLS = {
    "x": sp.Symbol("x"),
    "gamma": sp.Symbol("gamma"),
    "beta": sp.Symbol("beta"),
    "eps": sp.Symbol("epsilon"),
}


def task(given):
    text = "Layer-normalise each row of x: subtract its mean, divide by √(variance + ε) (the variance divides by d)"
    return text + (", then scale by γ and shift by β." if "gamma" in given else ".")


LEVELS = {1: level_1, 2: level_2, 3: level_3}
