"""Dot product and cosine: level 1 vectors with whole-number lengths (Pythagorean triples and
quadruples), level 2 small integers, level 3 decimals."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

WHOLE_LENGTHS = {
    2: ((3, 4), (6, 8), (5, 12), (8, 15)),
    3: ((1, 2, 2), (2, 3, 6), (1, 4, 8), (4, 4, 7), (2, 6, 9)),
}


def _whole_length(rng, size):
    entries = list(rng.choice(WHOLE_LENGTHS[size]))
    rng.shuffle(entries)
    return [e * rng.choice([-1, 1]) for e in entries]


def level_1(rng):
    size = rng.choice([2, 3])
    return {"a": draw.vector_text(_whole_length(rng, size)), "b": draw.vector_text(_whole_length(rng, size))}


def level_2(rng):
    size = rng.choice([3, 4])
    return {
        "a": draw.vector_text(draw.nonzero_row(rng, size, -3, 4)),
        "b": draw.vector_text(draw.nonzero_row(rng, size, -3, 4)),
    }


def level_3(rng):
    size = rng.choice([3, 4])
    return {
        "a": draw.vector_text(draw.tenths(rng, size, -30, 30)),
        "b": draw.vector_text(draw.tenths(rng, size, -30, 30)),
    }


def suitable(values, level):
    """Neither parallel nor perpendicular: both make the cosine too easy (1, -1 or 0)."""
    return values.dot != 0 and abs(values.cosine) != 1


SYMBOLS = {"a": sp.Symbol("a"), "b": sp.Symbol("b")}


def task(given):
    return "Compare a and b: the dot product a·b, the lengths |a| and |b|, the cosine similarity and the angle in degrees."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
