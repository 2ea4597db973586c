"""LayerNorm and RMSNorm over each row, exact: the twins of ``forward.functional.layer_norm`` and
``rms_norm``, with their parts (row mean, population variance, standardisation, scale and shift).

Statistics are columns, one entry per row (token). ``carried_layer_norm`` is LayerNorm for values
deep inside a network: rows that already hold roots or exponentials are carried as 50-digit decimals
(see ``derive.exact.precision``), and a row with zero spread gives nan instead of an error.
"""

from __future__ import annotations

import functools

import sympy as sp

from derive.exact.precision import DIGITS, chop

EPS = sp.Rational(1, 100000)  # PyTorch's default 1e-5, exact


def mean(x: sp.Matrix) -> sp.Matrix:
    return sp.Matrix([[sum(x.row(r)) / x.cols] for r in range(x.rows)])  # (T, 1)


def variance(x: sp.Matrix, mean: sp.Matrix, ddof: int = 0) -> sp.Matrix:
    """Σ (x - μ)² / (d - ddof) per row: ddof 0 is LayerNorm's population variance, 1 the sample one."""
    rows = [sum((e - mean[r, 0]) ** 2 for e in x.row(r)) / (x.cols - ddof) for r in range(x.rows)]
    return sp.Matrix([[value] for value in rows])  # (T, 1)


def standardise(x: sp.Matrix, mean: sp.Matrix, variance: sp.Matrix, eps) -> sp.Matrix:
    """(x - μ)/√(σ² + ε) entry by entry."""
    return sp.Matrix(x.rows, x.cols, lambda r, c: (x[r, c] - mean[r, 0]) / sp.sqrt(variance[r, 0] + eps))


def standardise_by_std(x: sp.Matrix, mean: sp.Matrix, variance: sp.Matrix, eps) -> sp.Matrix:
    """(x - μ)/(√σ² + ε): ε added to the standard deviation, outside the root (the Annotated Transformer)."""
    return sp.Matrix(x.rows, x.cols, lambda r, c: (x[r, c] - mean[r, 0]) / (sp.sqrt(variance[r, 0]) + eps))


def scale_shift(normed: sp.Matrix, gamma: sp.Matrix, beta: sp.Matrix) -> sp.Matrix:
    """γ_j x̂_ij + β_j: one learned scale and shift per feature."""
    return sp.Matrix(normed.rows, normed.cols, lambda r, c: gamma[c] * normed[r, c] + beta[c])


def layer_norm(x: sp.Matrix, gamma=None, beta=None, eps=EPS, trace: dict | None = None) -> sp.Matrix:
    """(x - mean) / √(var + ε) · γ + β over each row; ``trace`` receives mean, var, normed and out."""
    record = trace if trace is not None else {}
    record["mean"] = mu = mean(x)  # (T, 1)
    record["var"] = var = variance(x, mu)  # (T, 1)
    record["normed"] = y = standardise(x, mu, var, eps)  # (T, d)
    ones, zeros = sp.ones(1, x.cols), sp.zeros(1, x.cols)
    record["out"] = y = scale_shift(y, ones if gamma is None else gamma, zeros if beta is None else beta)
    return y


def rms(x: sp.Matrix, eps) -> sp.Matrix:
    """√(mean(x²) + ε) per row."""
    return sp.Matrix([[sp.sqrt(sum(e**2 for e in x.row(r)) / x.cols + eps)] for r in range(x.rows)])


def rms_norm(x: sp.Matrix, gamma=None, eps=EPS) -> sp.Matrix:
    """x / RMS(x) · γ: no centring and no β (T5, LLaMA)."""
    root = rms(x, eps)  # (T, 1)
    if gamma is None:
        return sp.Matrix(x.rows, x.cols, lambda r, c: x[r, c] / root[r, 0])
    return sp.Matrix(x.rows, x.cols, lambda r, c: x[r, c] / root[r, 0] * gamma[c])


def carried_row_statistics(m: sp.Matrix) -> tuple[tuple, tuple, tuple]:
    """Per row: its entries (exact if all rational, else 50 digits), mean and population variance.

    Evaluating a row of long exact entries to 50 digits is the slow part of a deep LayerNorm, and a
    layer's explanation asks again for the statistics its LayerNorm computed: the last few are kept.
    """
    return _row_statistics(sp.ImmutableMatrix(m))


@functools.lru_cache(maxsize=16)
def _row_statistics(m: sp.ImmutableMatrix) -> tuple[tuple, tuple, tuple]:
    rows, means, variances = [], [], []
    for r in range(m.rows):
        row = list(m.row(r))
        if not all(sp.sympify(e).is_Rational for e in row):
            row = [sp.N(e, DIGITS) for e in row]
        mu = chop(sum(row) / len(row))
        rows.append(tuple(row))
        means.append(mu)
        variances.append(chop(sum((e - mu) ** 2 for e in row) / len(row)))
    return tuple(rows), tuple(means), tuple(variances)


def carried_layer_norm(m: sp.Matrix, eps) -> sp.Matrix:
    """(x - μ)/√(σ² + ε) per row, γ = 1, β = 0; a zero spread gives nan (0/0) rather than an error."""
    out = []
    for row, mu, var in zip(*carried_row_statistics(m)):
        spread = var + eps
        if chop(spread) == 0:
            out.append([sp.nan] * len(row))
        else:
            out.append([chop((e - mu) / sp.sqrt(spread)) for e in row])
    return sp.Matrix(out)
