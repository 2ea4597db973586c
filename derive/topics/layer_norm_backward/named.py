"""LayerNorm's backward pass in letters: the quantities a textbook names, defined once per row.

With letters in x, the mean sits inside the variance, the variance under a root, and that root
under every x̂ and every gradient, so the full expressions run to hundreds of columns. The
explanation therefore names each row's mean μ, variance σ², divisor s = √(σ² + ε), the normalised
entries x̂, the mean ḡ of g and the mean ρ of g x̂, and writes each later step in them. (The numeric
derivation calls ρ c; with letters c is too likely to be an input.) The answers stay the full
expressions in the input letters; ``definitions`` maps every name to its expression, so that
``derive check`` accepts an answer written in either form.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive import inputs
from derive.exact import norms
from derive.notation import indexed


def in_letters(v) -> bool:
    return bool(v.x.free_symbols)


def _name(stem: str, row: int, rows: int, col: int | None = None) -> sp.Symbol:
    """``mu`` or ``mu_2`` (row 2 of several); ``xhat_3`` or ``xhat_23`` (row 2, column 3). Real, as
    the parser makes a student's letters, so a name in an answer is this very symbol."""
    indices = ([row + 1] if rows > 1 else []) + ([col + 1] if col is not None else [])
    return sp.Symbol(indexed(stem, *indices).name if indices else stem, real=True)


@dataclass(frozen=True)
class Row:
    """One row's names."""

    mean: sp.Symbol
    sigma: sp.Symbol  # σ, shown squared: the variance
    spread: sp.Symbol  # s = √(σ² + ε)
    normalized: tuple[sp.Symbol, ...]  # x̂_j
    mean_g: sp.Symbol  # ḡ
    mean_gx: sp.Symbol  # ρ


def rows(rows: int, cols: int) -> tuple[Row, ...]:
    return tuple(
        Row(
            _name("mu", r, rows),
            _name("sigma", r, rows),
            _name("s", r, rows),
            tuple(_name("xhat", r, rows, c) for c in range(cols)),
            _name("gbar", r, rows),
            _name("rho", r, rows),
        )
        for r in range(rows)
    )


def normalized(v) -> sp.Matrix:
    """x̂ as a matrix of its names."""
    return sp.Matrix([list(row.normalized) for row in rows(*v.x.shape)])


def scaled(v, r: int) -> list:
    """g = dy ⊙ γ for row r (no x in it)."""
    return [v.dy[r, c] * v.gamma[c] for c in range(v.x.cols)]


def definitions(v) -> dict[sp.Symbol, sp.Expr]:
    """Every name with its full expression in the input letters (empty when x is numbers)."""
    if not in_letters(v):
        return {}
    mean = norms.mean(v.x)
    variance = norms.variance(v.x, mean)
    out: dict[sp.Symbol, sp.Expr] = {}
    for r, row in enumerate(rows(*v.x.shape)):
        g = scaled(v, r)
        out[row.mean] = mean[r, 0]
        out[row.sigma] = sp.sqrt(variance[r, 0])
        out[row.spread] = sp.sqrt(variance[r, 0] + v.eps)
        out.update(zip(row.normalized, v.normalized.row(r)))
        out[row.mean_g] = sum(g, sp.Integer(0)) / len(g)
        out[row.mean_gx] = sum((a * b for a, b in zip(g, v.normalized.row(r))), sp.Integer(0)) / len(g)
    return out


def refuse_clashes(options) -> None:
    x = options["x"]
    names = {s.name for row in rows(*x.shape) for s in (*row.normalized, *_scalars(row))}
    inputs.refuse_names(options, names, ("x", "grad_output"), "mu, sigma, s, xhat, gbar, rho")


def _scalars(row: Row):
    return (row.mean, row.sigma, row.spread, row.mean_g, row.mean_gx)
