"""The patches topic's values: the patch split, the projection (derive.exact.linear), the class
token and the position embeddings (derive.exact.positional), and the misconceptions."""

from __future__ import annotations

import random

import sympy as sp

from derive.exact import linear, positional
from derive.model import Mistake

BASE = 10000


def seeded_projection(rows: int, cols: int, seed: int) -> sp.Matrix:
    """Small exact weights in {-1, 0, 1}; random.random() is stable across Python versions."""
    rng = random.Random(seed)
    return sp.Matrix(rows, cols, lambda r, c: sp.Integer(int(rng.random() * 3) - 1))


def cut(image: sp.Matrix, P: int, column_major: bool = False) -> sp.Matrix:
    """(H, W) -> (n, P²): the P×P patches in reading order, each flattened row by row."""
    rows = []
    for top in range(0, image.rows, P):
        for left in range(0, image.cols, P):
            block = image[top : top + P, left : left + P]
            rows.append(list(block.T if column_major else block))
    return sp.Matrix(rows)


def patches(v):
    return cut(v.image, v.P)


def projected(v):
    return linear.linear(v.patches, v.W_E)


def with_cls(v):
    return v.cls.col_join(v.projected)


def positions(v):
    if v.E_pos is not None:
        return v.E_pos
    return positional.sinusoidal_positional_encoding(v.n + 1, v.D, BASE)


def output(v):
    return v.with_cls + v.positions


COLUMN_MAJOR = Mistake(
    "column-major-patches",
    "Flatten each patch row by row (left to right, then the next row), not column by column.",
    lambda v: cut(v.image, v.P, column_major=True),
)
CLS_APPENDED = Mistake(
    "cls-appended",
    "The class token goes in front, as row 0, before the patches.",
    lambda v: v.projected.col_join(v.cls),
)
NO_POSITIONS = Mistake(
    "no-positions",
    "Add the position embedding of each row (the class token's too) to the tokens.",
    lambda v: v.with_cls,
)
