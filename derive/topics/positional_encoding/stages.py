"""The positional-encoding topic's values, from derive.exact.positional, and its misconceptions."""

from __future__ import annotations

import sympy as sp

from derive.exact import positional
from derive.model import Mistake


def divisors(v):
    return positional.divisors(v.d_model, v.base)


def angles(v):
    return positional.angles(v.positions, v.d_model, v.base)


def pe(v):
    return positional.encode_angles(v.angles, v.layout)


def _only_in(layout, compute):
    """A misconception that only makes sense in one layout (its hint names that layout's dimensions)."""
    return lambda v: compute(v) if v.layout == layout else None


def _degrees(v):
    """Unevaluated: sin(pi/60) is only ever compared numerically, and its radicals cost 0.1 s each."""
    return positional.encode_angles(v.angles.applyfunc(lambda a: a * sp.pi / 180), v.layout, evaluate=False)


def _swapped(v):
    """The cosine where the sine belongs and the sine where the cosine belongs, pair by pair."""
    swapped = v.pe.copy()
    pairs = v.d_model // 2
    for k in range(pairs):
        sine, cosine = (positional.dimension_of(k, c, pairs, v.layout) for c in (False, True))
        swapped[:, sine], swapped[:, cosine] = v.pe[:, cosine], v.pe[:, sine]
    return swapped


def _other_layout(v):
    other = "concatenated" if v.layout == "interleaved" else "interleaved"
    return positional.encode_angles(v.angles, other)


def _doubled_angles(v):
    return sp.Matrix(
        v.positions, v.d_model // 2, lambda p, k: p / v.base ** sp.Rational(2 * (2 * k), v.d_model)
    )


def _index_doubled(v):
    def entry(p, k):
        return (sp.sin if k % 2 == 0 else sp.cos)(p / v.base ** sp.Rational(2 * k, v.d_model))

    return sp.Matrix(v.positions, v.d_model, entry)


DOUBLED_HINT = (
    "Dimensions 2i and 2i+1 share the exponent 2i/d_model, with i = dim // 2 the pair number; "
    "do not use 2·dim/d_model."
)
ANGLES_INDEX_DOUBLED = Mistake("index-doubled", DOUBLED_HINT, _only_in("interleaved", _doubled_angles))
DEGREES = Mistake(
    "degrees",
    "The angles are in radians: take sin and cos of them directly (calculator in RAD mode).",
    _degrees,
)
SWAPPED = Mistake(
    "swapped-sin-cos",
    "Even dimensions (0, 2, 4, ...) take sin and odd dimensions take cos, not the other way round.",
    _only_in("interleaved", _swapped),
)
SWAPPED_HALVES = Mistake(
    "swapped-sin-cos",
    "In the concatenated layout the first half of the dimensions takes sin and the second half cos, "
    "not the other way round.",
    _only_in("concatenated", _swapped),
)
PE_INDEX_DOUBLED = Mistake("index-doubled", DOUBLED_HINT, _only_in("interleaved", _index_doubled))
CONCATENATED_FOR_INTERLEAVED = Mistake(
    "wrong-layout",
    "This table uses the interleaved layout (the paper's): dimension 2i is the sine and 2i + 1 the "
    "cosine of pair i. All sines first is the concatenated layout (--layout concatenated).",
    _only_in("interleaved", _other_layout),
)
INTERLEAVED_FOR_CONCATENATED = Mistake(
    "wrong-layout",
    "This table uses the concatenated layout: dimension i is the sine and d_model/2 + i the cosine of "
    "pair i. Alternating sin and cos is the interleaved layout (--layout interleaved).",
    _only_in("concatenated", _other_layout),
)
