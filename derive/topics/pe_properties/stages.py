"""The pe-properties topic's values, from derive.exact.positional, and its misconceptions."""

from __future__ import annotations

import sympy as sp

from derive.exact import positional
from derive.model import Mistake

GRID = 4  # positions 0..3 in the table of dot products


def frequencies(v):
    return positional.frequencies(v.d_model, v.base)


def wavelengths(v):
    return v.frequencies.applyfunc(lambda omega: 2 * sp.pi / omega)


def rotation(v):
    return positional.shift_matrix(v.frequencies, v.k)


def dot_products(v):
    """PE(a)·PE(b) for a, b in 0..3, written as proof 2 gives it: Σ cos((a − b)·ω_i)."""
    return sp.Matrix(GRID, GRID, lambda a, b: sum(sp.cos((a - b) * omega) for omega in v.frequencies))


def _reciprocal(v):
    """base^(2i/d): the frequency upside down, or the wavelength without its 2π."""
    return v.frequencies.applyfunc(lambda omega: 1 / omega)


def _transposed(v):
    return positional.shift_matrix(v.frequencies, v.k).T


def _angle_sum(v):
    return sp.Matrix(GRID, GRID, lambda a, b: sum(sp.cos((a + b) * omega) for omega in v.frequencies))


FREQUENCY_INVERTED = Mistake(
    "frequency-inverted",
    "The frequency is base^(−2i/d_model): it shrinks as i grows, so pair 0 turns fastest.",
    _reciprocal,
)
WAVELENGTH_WITHOUT_2PI = Mistake(
    "wavelength-without-2pi",
    "One full turn is 2π radians: the wavelength is 2π/ω_i = 2π·base^(2i/d_model), not 1/ω_i.",
    _reciprocal,
)
ROTATION_TRANSPOSED = Mistake(
    "rotation-transposed",
    "Each pair is (sin, cos) in that order, so its block is [[cos ωk, sin ωk], [−sin ωk, cos ωk]]; "
    "the transpose (the usual rotation matrix) moves PE(p) back to PE(p − k).",
    _transposed,
)
ANGLE_SUM = Mistake(
    "angle-sum",
    "sin a·sin b + cos a·cos b = cos(a − b): the angles are subtracted, so the result is Σ cos((p − q)·ω_i).",
    _angle_sum,
)
