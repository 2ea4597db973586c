"""Positional-encoding properties: bases chosen so that every frequency base^(−2i/d_model) is a
simple fraction (a square base for d_model = 4, a cube for 6), so the rotation's and the dot
products' angles are fractions and a sine/cosine table does the rest; level 3 uses larger bases,
up to the standard 10000, and wider models.

d_model is at least 4: with one pair the frequency is 1 and its inversion is 1 too, so the
frequency could not be asked. The shift k is at least 1 (k = 0 rotates nothing, and the rotation
and its transpose would agree). Few inputs describe this topic, so a class of more than about 30
shares some variants.
"""

from __future__ import annotations

import sympy as sp

SQUARES = (4, 9, 16, 25, 36, 49, 64, 81, 100)
CUBES = (8, 27, 64, 125, 216, 343, 512, 729, 1000)
BASES = (100, 500, 1000, 2000, 5000, 10000)


def level_1(rng):
    return {"d_model": "4", "base": str(rng.choice(SQUARES)), "offset": str(rng.randint(1, 4))}


def level_2(rng):
    return {"d_model": "6", "base": str(rng.choice(CUBES)), "offset": str(rng.randint(1, 5))}


def level_3(rng):
    return {
        "d_model": str(rng.choice([4, 6, 8])),
        "base": str(rng.choice(BASES)),
        "offset": str(rng.randint(2, 20)),
    }


SYMBOLS = {"d_model": sp.Symbol("d_model"), "base": sp.Symbol("b"), "offset": sp.Symbol("k")}


def task(given):
    return (
        "Sinusoidal positional encoding, PE(p, 2i) = sin(p·ω_i) and PE(p, 2i+1) = cos(p·ω_i) with "
        "ω_i = b^(−2i/d_model), angles in radians: the frequencies ω_i, the wavelengths 2π/ω_i, the matrix "
        "M_k with PE(p + k) = M_k·PE(p) (PE(p) as a column), and the dot products PE(p)·PE(q) for p, q = 0 … 3."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
