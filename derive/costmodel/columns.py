"""One column per model: every stage computes each model's value from that model's own numbers.

With one model a stage's value is a number; with several (``--preset gpt2,bert-base``) it is a row,
one entry per model, so JSON, the checker and follow-through work unchanged.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from derive.costmodel import formulas
from derive.costmodel.expr import value as evaluate


def fraction(x) -> Fraction:
    """An exact Fraction from an int, Fraction or SymPy number (a student's answer included)."""
    if isinstance(x, Fraction):
        return x
    x = sp.Rational(x) if isinstance(x, (int, sp.Rational)) else sp.Rational(sp.nsimplify(x))
    return Fraction(int(x.p), int(x.q))


def entry(value, i: int):
    return value[i] if isinstance(value, sp.MatrixBase) else value


def numbers(v, i: int) -> dict:
    """The sizes of model ``i`` and every stage value known for it, by symbol name."""
    out = dict(v.models[i].numbers())
    for stage_id, symbol in formulas.SYMBOLS.items():
        if stage_id in v and v[stage_id] is not None:
            out[symbol] = fraction(entry(v[stage_id], i))
    return out


def pack(values) -> sp.Basic:
    """Exact SymPy: a number for one model, a 1 x k row for several; None entries become nan."""
    exact = [
        sp.nan if x is None else sp.Rational(fraction(x).numerator, fraction(x).denominator) for x in values
    ]
    return exact[0] if len(exact) == 1 else sp.Matrix([exact])


def compute(name: str):
    """Stage.compute for an answer id: its formula evaluated for every model."""
    formula = formulas.COMPUTE[name]
    return lambda v: pack([evaluate(formula(m), numbers(v, i)) for i, m in enumerate(v.models)])


def own(name: str, m, n) -> Fraction:
    """The correct value of a stage from the numbers ``n``, for mistakes that change one part of it."""
    return evaluate(formulas.COMPUTE[name](m), n)
