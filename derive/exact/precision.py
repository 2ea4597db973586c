"""How exact values are compared and carried: the working precision and the 50-digit fallback.

``WORK_DPS`` digits order and compare exact values and turn them into floats for NumPy. An exact
entry that grows past ``BIG`` nodes (a long attention sum, the LayerNorm of a row of roots) would
nest again at every later step, so it is carried as a ``DIGITS``-digit decimal instead: far beyond
any hand calculation, and exact enough for the checker, which compares to 30 digits.
"""

from __future__ import annotations

import sympy as sp

WORK_DPS = 30
DIGITS = 50
TINY = sp.Float(10) ** (10 - DIGITS)
BIG = 200  # nodes: an exact entry beyond this is carried as DIGITS digits


def floats(matrix):
    """A SymPy matrix as a float64 NumPy array (through WORK_DPS digits), for references."""
    import numpy as np

    return np.array(matrix.evalf(WORK_DPS).tolist(), dtype=float)


def nodes_over(entry, limit: int) -> bool:
    return any(i > limit for i, _ in enumerate(sp.preorder_traversal(entry)))


def chop(value):
    """A DIGITS-digit result that is zero up to rounding noise (an exact cancellation) becomes exactly 0."""
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(chop)
    return sp.Integer(0) if value.is_Float and abs(value) < TINY else value


def numeric(value: sp.Matrix) -> sp.Matrix:
    return value.applyfunc(lambda e: sp.N(e, DIGITS))


def settle(value: sp.Matrix) -> sp.Matrix:
    """Exact while every entry stays small enough to read and evaluate; otherwise DIGITS digits throughout."""
    return chop(numeric(value) if any(nodes_over(e, BIG) for e in value) else value)


def matmul(a: sp.Matrix, b: sp.Matrix) -> sp.Matrix:
    """a·b, exact while small; otherwise from the DIGITS-digit factors (cheaper than evaluating the sums)."""
    exact = a * b
    return chop(numeric(a) * numeric(b) if any(nodes_over(e, BIG) for e in exact) else exact)
