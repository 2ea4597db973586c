"""The two identities of the sinusoidal encoding, checked by SymPy (the residuals must be zero).

Proof 1: M_k·PE(p) − PE(p + k), expanded with the angle-addition identities and simplified.
Proof 2: PE(p)·PE(q) − Σ cos((p − q)·ω_i), simplified the same way. PE vectors are columns here.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import positional

p, q, k = sp.symbols("p q k", integer=True)
w = sp.Symbol("omega", positive=True)


def pe_column(frequencies, position) -> sp.Matrix:
    return positional.sinusoidal_vector(position, frequencies).T


def _zero(expr) -> sp.Expr:
    return sp.simplify(sp.expand(expr, trig=True))


def shift_residual(frequencies=(w,), offset=k) -> sp.Matrix:
    """M_k·PE(p) − PE(p + k), expanded with the angle-addition identities and simplified: 0 if proof 1 holds."""
    rotation = positional.shift_matrix(frequencies, offset)
    return (rotation * pe_column(frequencies, p) - pe_column(frequencies, p + offset)).applyfunc(_zero)


def dot_residual(frequencies=(w,)) -> sp.Expr:
    """PE(p)·PE(q) − Σ cos((p − q)·ω_i), simplified the same way: 0 if proof 2 holds."""
    dot = (pe_column(frequencies, p).T * pe_column(frequencies, q))[0]
    return _zero(dot - sum(sp.cos((p - q) * omega) for omega in frequencies))
