"""Sinusoidal positional encoding: bases chosen so that every divisor base^(2i/d) is a whole
number (a square base for d = 4, a cube for d = 6), so the angles are simple fractions and a
sine/cosine table does the rest; level 3 uses larger bases, up to the standard 10000.

Few inputs describe this topic, so a class of more than about 25 shares some variants.
"""

from __future__ import annotations

import sympy as sp

SQUARES = (4, 9, 16, 25, 36, 49, 64, 81, 100)
CUBES = (8, 27, 64, 125, 216, 343, 512, 729, 1000)
BASES = (100, 500, 1000, 2000, 5000, 10000)


def level_1(rng):
    d_model = rng.choice(["2", "4", "4", "4"])
    return {"positions": str(rng.choice([2, 3, 4])), "d_model": d_model, "base": str(rng.choice(SQUARES))}


def level_2(rng):
    return {"positions": str(rng.choice([3, 4, 5])), "d_model": "6", "base": str(rng.choice(CUBES))}


def level_3(rng):
    return {
        "positions": str(rng.choice([3, 4, 5])),
        "d_model": str(rng.choice([4, 6, 8])),
        "base": str(rng.choice(BASES)),
    }


def moot(given):
    """With d_model = 2 there is one frequency, so an index error cannot change the angles, and one
    pair, so both layouts (interleaved, concatenated) give the same table."""
    return {"index-doubled", "wrong-layout"} if given["d_model"] == "2" else set()


SYMBOLS = {"positions": None, "d_model": sp.Symbol("d_model"), "base": sp.Symbol("b")}


def task(given):
    last = int(given["positions"]) - 1
    return (
        f"Sinusoidal positional encoding for positions 0 to {last}: PE(pos, 2i) = sin(pos / b^(2i/d_model)), "
        "PE(pos, 2i+1) = cos(pos / b^(2i/d_model)), angles in radians."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
