"""Why only n − m matters: R(α)ᵀ R(β) = R(β − α), proved by SymPy, and the score pair by pair.

Both the score stage (to pick the tidy form) and the explanations (to print it) need these.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import positional

ALPHA, BETA = sp.symbols("alpha beta", real=True)
WORK_DPS = 50


def relative_identity() -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """R(α)ᵀ R(β), R(β - α), and SymPy's trigsimp of their difference (the zero matrix)."""
    product = positional.rotation(ALPHA).T * positional.rotation(BETA)
    target = positional.rotation(BETA - ALPHA)
    return product, target, sp.trigsimp(product - target)


def relative_terms(q, k, angles, delta):
    """qᵀ R_Δ k pair by pair: (q·k of the pair)·cos(Δθ_i) + (q_{2i+1}k_{2i} - q_{2i}k_{2i+1})·sin(Δθ_i)."""
    terms = []
    for p, theta in enumerate(angles):
        q0, q1, k0, k1 = q[2 * p], q[2 * p + 1], k[2 * p], k[2 * p + 1]
        terms += [(q0 * k0 + q1 * k1) * sp.cos(delta * theta), (q1 * k0 - q0 * k1) * sp.sin(delta * theta)]
    return terms


def same_value(a, b) -> bool:
    """Equal to WORK_DPS - 10 digits; with letters, coefficient by coefficient of the polynomial."""
    if a == b:
        return True
    difference = sp.expand(a - b)
    symbols = sorted(difference.free_symbols, key=str)
    parts = sp.Poly(difference, *symbols).coeffs() if symbols else [difference]
    return all(abs(sp.N(part, WORK_DPS)) < sp.Float(10) ** (-(WORK_DPS - 10)) for part in parts)
