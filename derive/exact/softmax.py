"""Exact softmax, row by row: with a temperature, a mask of allowed entries, and the stable form.

The twin of ``derive.forward.softmax`` in SymPy. Rows are the lines the softmax runs along
(``axis=-1``), as in attention; ``axis=0`` runs down the columns (the wrong-axis misconception).
A mask is anything indexable as ``mask[i][j]`` (nested lists, tuples, a NumPy bool array), True
where the entry takes part, as in ``derive.forward``: masked entries get weight exactly 0, the
value e^(-∞) would give.
"""

from __future__ import annotations

import sympy as sp


def row_max(row):
    """The largest entry of a row of exact numbers (compared at 30 digits); ``Max(a, b, …)``
    when the row holds symbols."""
    if any(sp.sympify(e).free_symbols for e in row):
        return sp.Max(*row)
    return max(row, key=lambda e: sp.N(e, 30))


def apply_temperature(z: sp.Matrix, temperature=1) -> sp.Matrix:
    """z / T: a temperature above 1 flattens the distribution, below 1 sharpens it."""
    return z / temperature


def exponentials(z: sp.Matrix) -> sp.Matrix:
    """e^(z_ij) entry by entry: the numerators of the softmax."""
    return z.applyfunc(sp.exp)


def row_sums(e: sp.Matrix) -> sp.Matrix:
    """Σ_j e_ij as a column, one normaliser per row."""
    return sp.Matrix([[sum(e.row(r))] for r in range(e.rows)])


def softmax(z: sp.Matrix, temperature=1, mask=None, axis: int = -1) -> sp.Matrix:
    """e^(z_ij / T) over the sum of its line's exponentials, over the allowed entries only."""
    if axis in (0, -2):
        transposed = None if mask is None else [[mask[i][j] for i in range(z.rows)] for j in range(z.cols)]
        return softmax(z.T, temperature, transposed).T
    z = apply_temperature(z, temperature) if temperature != 1 else z
    out = sp.zeros(z.rows, z.cols)
    for i in range(z.rows):
        cells = [j for j in range(z.cols) if mask is None or mask[i][j]]
        total = sp.Add(*[sp.exp(z[i, j]) for j in cells])
        for j in cells:
            out[i, j] = sp.exp(z[i, j]) / total
    return out


def stable_softmax(z: sp.Matrix, temperature=1) -> sp.Matrix:
    """Softmax of each row with the row's maximum m subtracted first: e^(z_i - m) / Σ_j e^(z_j - m).

    Equal to ``softmax``, and written as the numerically stable computation is (the exponents are
    at most 0); ``derive.forms`` writes the same row with nothing evaluated, for display.
    """
    z = apply_temperature(z, temperature) if temperature != 1 else z
    rows = []
    for r in range(z.rows):
        row = z.row(r)
        exps = [sp.exp(e - row_max(row)) for e in row]
        total = sp.Add(*exps)
        rows.append([sp.Mul(e, sp.Pow(total, -1)) for e in exps])
    return sp.Matrix(rows)


def unnormalised(z: sp.Matrix, mask=None) -> sp.Matrix:
    """e^(z_ij) over the allowed entries, 0 elsewhere: the softmax's numerators, never divided by
    their sum (the not-normalised misconception)."""
    return sp.Matrix(
        z.rows, z.cols, lambda i, j: sp.exp(z[i, j]) if mask is None or mask[i][j] else sp.Integer(0)
    )
