"""Attention's backward pass in letters: the quantities a textbook names, defined once.

With letters in Q or K every weight is a ratio of exponential sums, and each gradient nests those
sums again, so the full expressions run to hundreds of columns. The explanation therefore names the
scores s_ij, the row sums Z_i, the weights a_ij = e^{s_ij}/Z_i, FlashAttention's row averages
D_i = Σ_k a_ik dA_ik and the score gradients dS_ij, and writes each later step in them. The answers
stay the full expressions in the input letters; ``definitions`` maps every name to its expression,
so that ``derive check`` accepts an answer written in either form.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive import inputs
from derive.forms import Normaliser, normaliser, shown_exp, shown_sum
from derive.notation import indexed

OPTIONS = ("q", "k", "v", "grad_output")


def _name(stem: str, *indices: int) -> sp.Symbol:
    """Real, as the parser makes a student's letters, so a name in an answer is this very symbol."""
    return sp.Symbol(indexed(stem, *indices).name, real=True)


def _allowed(v, i: int, j: int) -> bool:
    return not v.causal or j <= i


@dataclass(frozen=True)
class Names:
    """The named intermediates of one problem, as matrices of symbols (0 where a mask rules out)."""

    scores: sp.Matrix  # (T, T) s_ij
    sums: tuple[Normaliser, ...]  # Z_i = Σ_j e^{s_ij} over the allowed keys
    weights: sp.Matrix  # (T, T) a_ij
    averages: sp.Matrix  # (T, 1) D_i
    dscores: sp.Matrix  # (T, T) dS_ij


def in_letters(v) -> bool:
    """Whether the scores hold letters, so the forward quantities are named rather than written out."""
    return bool(v.scores.free_symbols)


def names(v) -> Names:
    n = v.n
    scores = sp.Matrix(n, n, lambda i, j: _name("s", i + 1, j + 1))
    sums = tuple(normaliser([scores[i, j] for j in range(n) if _allowed(v, i, j)], i + 1) for i in range(n))
    weights = sp.Matrix(n, n, lambda i, j: _name("a", i + 1, j + 1) if _allowed(v, i, j) else 0)
    averages = sp.Matrix(n, 1, lambda i, _: _name("D", i + 1))
    dscores = sp.Matrix(n, n, lambda i, j: _name("dS", i + 1, j + 1) if _allowed(v, i, j) else 0)
    return Names(scores, sums, weights, averages, dscores)


def written_weights(v, named: Names) -> sp.Matrix:
    """a_ij = e^{s_ij}/Z_i, 0 where masked."""
    return sp.Matrix(
        v.n,
        v.n,
        lambda i, j: named.sums[i].over(shown_exp(named.scores[i, j])) if _allowed(v, i, j) else 0,
    )


def written_averages(named: Names, dweights: sp.Matrix) -> sp.Matrix:
    """D_i = Σ_k a_ik dA_ik, in the names of the weights and the weight gradients' own letters."""
    w = named.weights
    return sp.Matrix(
        w.rows, 1, lambda i, _: sp.Add(*(w[i, k] * dweights[i, k] for k in range(w.cols) if w[i, k] != 0))
    )


def written_dscores(named: Names, dweights: sp.Matrix) -> sp.Matrix:
    """dS_ij = a_ij (dA_ij − D_i), the terms of dA_ij written out in one sum (no nested brackets);
    −a_ij D_i where dA_ij is 0."""
    w, d = named.weights, named.averages

    def entry(i, j):
        if w[i, j] == 0:
            return sp.Integer(0)
        terms = [t for t in sp.Add.make_args(dweights[i, j]) if t != 0]
        if not terms:
            return sp.Mul(-1, w[i, j], d[i, 0], evaluate=False)
        return sp.Mul(w[i, j], shown_sum([*terms, -d[i, 0]]), evaluate=False)

    return sp.Matrix(w.rows, w.cols, entry)


def definitions(v) -> dict[sp.Symbol, sp.Expr]:
    """Every name with its full expression in the input letters (empty when the scores are numbers)."""
    if not in_letters(v):
        return {}
    named = names(v)
    out: dict[sp.Symbol, sp.Expr] = {}
    for i in range(v.n):
        out[sp.Symbol(named.sums[i].name.name, real=True)] = named.sums[i].value.xreplace(
            dict(zip(named.scores.row(i), v.scores.row(i)))
        )
        out[named.averages[i, 0]] = sum(
            (v.weights[i, k] * v.dweights[i, k] for k in range(v.n)), sp.Integer(0)
        )
        for j in range(v.n):
            out[named.scores[i, j]] = v.scores[i, j]
            if named.weights[i, j] != 0:
                out[named.weights[i, j]] = v.weights[i, j]
                out[named.dscores[i, j]] = v.dscores[i, j]
    return out


def refuse_clashes(options, n: int) -> None:
    names = {str(s) for s in _all_names(n)}
    inputs.refuse_names(options, names, OPTIONS, "s_ij, Z_i, a_ij, D_i, dS_ij")


def _all_names(n: int):
    for i in range(1, n + 1):
        yield _name("Z", i)
        yield _name("D", i)
        for j in range(1, n + 1):
            yield from (_name(stem, i, j) for stem in ("s", "a", "dS"))
