"""What each softmax stage shows a student: the exponentials, their sum, the probabilities, the stable form."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, needs_approx, prose, same, unevaluated_sum
from derive.forms import softmax_entries
from derive.topics.softmax.stages import shifted_logits

x_i, z_i, z_j, T, p_i, m = sp.symbols("x_i z_i z_j T p_i m")
SOFTMAX_Z = sp.Function("softmax")(sp.Symbol("z"))
j, n = sp.symbols("j n", integer=True, positive=True)
FLOAT64_MAX = sp.Float("1.7976931348623157e308")


def intro(x, temperature) -> tuple:
    word = "vector" if x.rows == 1 else f"{x.rows}×{x.cols} matrix (taken row by row)"
    return (
        prose(
            "Softmax turns a row of real numbers into probabilities: each becomes positive "
            "and the row sums to 1, while larger inputs keep larger shares. The input is the "
            f"{word} below, with temperature {{T}}.",
            T=same(T, temperature),
        ),
        eq(sp.Symbol("x"), x),
        eq(p_i, sp.exp(z_i) / sp.Sum(sp.exp(z_j), (j, 1, n))),
        prose("where {z} are the logits divided by the temperature.", z=same(z_i, x_i / T)),
    )


def scale(v):
    if v.T == 1:
        return (
            prose("With {T} the logits are the inputs themselves: {z}.", T=same(T, 1), z=same(z_i, x_i)),
            eq(sp.Symbol("z"), v.z),
        )
    return (
        prose(
            "Divide every input by the temperature {T}. A temperature above 1 flattens "
            "the distribution; below 1 it sharpens it.",
            T=same(T, v.T),
        ),
        eq(sp.Symbol("z"), sp.Symbol("x") / v.T, v.z, approx=v.z if needs_approx(v.z) else None),
    )


def exponentiate(v):
    blocks = [
        prose(
            "Exponentiate every logit. Each {e} is positive, so no probability can be negative.",
            e=sp.exp(z_i),
        )
    ]
    blocks.append(eq(sp.exp(sp.Symbol("z")), v.exp, approx=v.exp))
    if not v.exp.free_symbols and max(sp.N(e, 30) for e in v.exp) > FLOAT64_MAX:
        blocks.append(
            prose(
                "These exponentials exceed the largest float64 number (about {big}), so a direct "
                "floating-point computation would overflow to infinity. The stable form below avoids this.",
                big=sp.Float("1.8e308", 2),
            )
        )
    return tuple(blocks)


def total(v):
    blocks = [prose("Add the exponentials of each row; this is the normaliser.")]
    for r in range(v.exp.rows):
        blocks.append(
            eq(sp.Sum(sp.exp(z_j), (j, 1, v.exp.cols)), unevaluated_sum(v.exp.row(r)), approx=v.sum[r, 0])
        )
    return tuple(blocks)


def normalise(v):
    blocks = [prose("Divide each exponential by its row's sum. The results are the probabilities.")]
    blocks.append(eq(SOFTMAX_Z, v.softmax, approx=v.softmax))
    if v.softmax.free_symbols:
        blocks.append(
            prose(
                "Check: in every row the numerators add up to the denominator, so the row sums to {one}.",
                one=1,
            )
        )
        return tuple(blocks)
    sums = [sum(sp.N(e, 30) for e in v.softmax.row(r)) for r in range(v.softmax.rows)]
    blocks.append(
        prose(
            "Check: every row sums to {one} (up to rounding of the decimals).", one=sp.Integer(round(sums[0]))
        )
    )
    return tuple(blocks)


def _written_rows(shifted: sp.Matrix) -> sp.Matrix:
    """Each row as e^{s_j} / (e^{s_1} + … + e^{s_n}), numerators on top and nothing evaluated."""
    return sp.Matrix([softmax_entries(shifted.row(r)) for r in range(shifted.rows)])


def stable(v):
    if v.z.free_symbols:
        return _stable_symbolic(v)
    return (
        prose(
            "Subtracting the row maximum {m} first gives the same probabilities, because the "
            "factor {em} cancels between numerator and denominator:",
            m=m,
            em=sp.exp(-m),
        ),
        eq(
            sp.exp(z_i) / sp.Sum(sp.exp(z_j), (j, 1, n)), sp.exp(z_i - m) / sp.Sum(sp.exp(z_j - m), (j, 1, n))
        ),
        prose(
            "Here the shifted logits are {s}: every exponent is at most 0, so every exponential "
            "lies in (0, 1] and nothing can overflow.",
            s=shifted_logits(v.z),
        ),
        eq(SOFTMAX_Z, _written_rows(shifted_logits(v.z)), approx=v.stable),
    )


def _stable_symbolic(v):
    """With letters the maximum is not known: the shift is written with m, the row's largest logit."""
    shifted = v.z.applyfunc(lambda e: e - m)
    return (
        prose(
            "Subtracting the row maximum {m} first gives the same probabilities, because the "
            "factor {em} cancels between numerator and denominator. For letters, {m} is whichever "
            "logit of the row is largest:",
            m=m,
            em=sp.exp(-m),
        ),
        eq(
            sp.exp(z_i) / sp.Sum(sp.exp(z_j), (j, 1, n)), sp.exp(z_i - m) / sp.Sum(sp.exp(z_j - m), (j, 1, n))
        ),
        prose(
            "Every exponent is then at most 0, so every exponential lies in (0, 1] and nothing can overflow:"
        ),
        eq(SOFTMAX_Z, _written_rows(shifted)),
    )
