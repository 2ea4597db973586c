"""Exact sinusoidal positional encodings, their shift rotations, and rotary embeddings (RoPE).

The twin of ``derive.forward.sinusoidal_positional_encoding`` in SymPy, with the pieces a student
computes on the way: pair i has the divisor base^(2i/d_model) (its frequency is the reciprocal),
position pos in pair i has the angle pos / divisor, and PE takes sin of it in dimension 2i and cos
in 2i + 1 (the paper's interleaved layout) or all sines then all cosines (the concatenated layout
of a popular framework tutorial). Positions count from 0; vectors are rows.
"""

from __future__ import annotations

import sympy as sp

LAYOUTS = ("interleaved", "concatenated")


def divisors(d_model: int, base=10000) -> sp.Matrix:
    """(1, d_model/2): base^(2i/d_model), the number pair i divides the position by."""
    base = sp.sympify(base)
    return sp.Matrix([[base ** sp.Rational(2 * k, d_model) for k in range(d_model // 2)]])


def frequencies(d_model: int, base=10000) -> sp.Matrix:
    """(1, d_model/2): base^(−2i/d_model), the radians pair i turns per position (RoPE's θ_i)."""
    base = sp.sympify(base)
    return sp.Matrix([[base ** sp.Rational(-2 * k, d_model) for k in range(d_model // 2)]])


def angles(n_positions: int, d_model: int, base=10000) -> sp.Matrix:
    """(n_positions, d_model/2): pos / base^(2i/d_model)."""
    pair_divisors = divisors(d_model, base)
    return sp.Matrix(n_positions, d_model // 2, lambda p, k: p / pair_divisors[0, k])


def dimension_of(pair: int, cosine: bool, pairs: int, layout: str = "interleaved") -> int:
    """The column that holds the sine (or cosine) of pair ``pair`` among ``pairs`` pairs."""
    if layout == "interleaved":
        return 2 * pair + cosine
    if layout == "concatenated":
        return pair + pairs * cosine
    raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")


def encode_angles(angle_table: sp.Matrix, layout: str = "interleaved", evaluate: bool = True) -> sp.Matrix:
    """(P, d/2) angles -> (P, d): the sine and the cosine of every angle, placed as ``layout`` says.

    ``evaluate=False`` keeps sin and cos unevaluated: at rational multiples of pi SymPy would
    otherwise spend a tenth of a second each writing nested radicals no one reads.
    """
    rows, pairs = angle_table.shape
    out = sp.zeros(rows, 2 * pairs)
    for p in range(rows):
        for k in range(pairs):
            out[p, dimension_of(k, False, pairs, layout)] = sp.sin(angle_table[p, k], evaluate=evaluate)
            out[p, dimension_of(k, True, pairs, layout)] = sp.cos(angle_table[p, k], evaluate=evaluate)
    return out


def sinusoidal_positional_encoding(
    n_positions: int, d_model: int, base=10000, layout: str = "interleaved"
) -> sp.Matrix:
    """(n_positions, d_model): PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(...)."""
    return encode_angles(angles(n_positions, d_model, base), layout)


def sinusoidal_vector(position, pair_frequencies) -> sp.Matrix:
    """(1, 2·len): sin(ω_i·pos), cos(ω_i·pos) pair by pair; symbols allowed (for the proofs)."""
    return sp.Matrix([[f(omega * position) for omega in pair_frequencies for f in (sp.sin, sp.cos)]])


def rotation(angle, evaluate: bool = True) -> sp.Matrix:
    """The 2 × 2 counter-clockwise rotation by ``angle``: (x, y) -> (x cos − y sin, x sin + y cos);
    with ``evaluate=False`` cos 0 and sin(β − α) stay as written."""
    c, s = sp.cos(angle, evaluate=evaluate), sp.sin(angle, evaluate=evaluate)
    return sp.Matrix([[c, -s], [s, c]])


def shift_block(angle, evaluate: bool = True) -> sp.Matrix:
    """Maps the pair (sin a, cos a) to (sin(a + angle), cos(a + angle)): the transposed rotation."""
    c, s = sp.cos(angle, evaluate=evaluate), sp.sin(angle, evaluate=evaluate)
    return sp.Matrix([[c, s], [-s, c]])


def shift_matrix(pair_frequencies, offset) -> sp.Matrix:
    """(d, d) block-diagonal M_k with PE(p + k)ᵀ = M_k PE(p)ᵀ for the interleaved encoding."""
    return sp.diag(*[shift_block(omega * offset) for omega in pair_frequencies])


def rope_rotation(thetas, position) -> sp.Matrix:
    """(d, d) block-diagonal R_position: pair i turns counter-clockwise by position·θ_i."""
    return sp.diag(*[rotation(position * theta) for theta in thetas])


def rope(x: sp.Matrix, position, thetas) -> sp.Matrix:
    """(1, d) -> (1, d): RoPE of a row vector, x R_positionᵀ (RoFormer's R x with x as a column)."""
    return (rope_rotation(list(thetas), position) * x.T).T
