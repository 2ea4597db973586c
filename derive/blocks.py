"""Small builders that topics use to write their explanations tersely."""

from __future__ import annotations

import sympy as sp

from derive.model import Equation, Figure, Prose, Rounded, Table, Text
from derive.numbers import evaluated


def prose(template: str, **fields) -> Prose:
    return Prose(template, fields)


def eq(*parts, approx=None) -> Equation:
    """``approx`` is an exact value; renderers round it to the requested precision. A value
    holding a symbol has no decimals, so its ``≈`` tail is left out."""
    if approx is not None and approx.free_symbols:
        approx = None
    return Equation(tuple(parts), approx)


def table(header, rows) -> Table:
    return Table(tuple(header), tuple(tuple(r) for r in rows))


def heatmap(
    name: str, title: str, values, row_labels, col_labels, xlabel: str = "", ylabel: str = ""
) -> Figure:
    """``values`` may be exact; they are stored as floats so drawing needs no SymPy."""
    floats = [[float(evaluated(v, 15)) for v in row] for row in _rows(values)]
    return Figure(
        name,
        "heatmap",
        title,
        {
            "values": floats,
            "row_labels": [str(r) for r in row_labels],
            "col_labels": [str(c) for c in col_labels],
            "xlabel": xlabel,
            "ylabel": ylabel,
        },
    )


def curves(name: str, title: str, x, series, xlabel: str, ylabel: str, points=None) -> Figure:
    """``points`` maps a label to one (x, y) marked on the curves, such as the step asked about."""
    return Figure(
        name,
        "curves",
        title,
        {
            "x": [float(v) for v in x],
            "series": {k: [float(v) for v in ys] for k, ys in series.items()},
            "xlabel": xlabel,
            "ylabel": ylabel,
            "points": {k: [float(sp.N(x)), float(sp.N(y))] for k, (x, y) in (points or {}).items()},
        },
    )


def vectors(name: str, title: str, arrows) -> Figure:
    """``arrows`` maps a label to a 2-D vector drawn from the origin."""
    return Figure(
        name,
        "vectors",
        title,
        {"vectors": {k: [float(sp.N(v[0])), float(sp.N(v[1]))] for k, v in arrows.items()}},
    )


def paths(name: str, title: str, tracks, circle: bool = False) -> Figure:
    """``tracks`` maps a label to a list of 2-D points, drawn as a line from its first point (a dot)
    to its last (a cross); ``circle`` draws the unit circle behind them."""
    return Figure(
        name,
        "paths",
        title,
        {
            "paths": {k: [[float(x), float(y)] for x, y in points] for k, points in tracks.items()},
            "circle": circle,
        },
    )


def _rows(values):
    if isinstance(values, sp.MatrixBase):
        return values.tolist()
    return [list(r) for r in values]


def rounded(value, at_least: int = 0) -> Rounded:
    """An exact number a table cell or prose field shows in decimals, at the renderer's precision."""
    return Rounded(value, at_least)


def percent(share) -> Rounded:
    """An exact share (a weight) shown in percent, two decimals fewer than the precision; write the
    "%" sign in the text after the field."""
    return Rounded(share, percent=True)


def user(text: str) -> Text:
    return Text(text)


def same(lhs, rhs) -> sp.Expr:
    """``lhs = rhs`` as one inline formula, left exactly as written."""
    return sp.Eq(lhs, rhs, evaluate=False)


def unevaluated_dot(a, b) -> sp.Expr:
    """``a₁·b₁ + a₂·b₂ + …`` kept as written, so the substitution step stays visible."""
    terms = [sp.Mul(x, y, evaluate=False) for x, y in zip(a, b)]
    return terms[0] if len(terms) == 1 else sp.Add(*terms, evaluate=False)


def unevaluated_sum(values) -> sp.Expr:
    values = list(values)
    return values[0] if len(values) == 1 else sp.Add(*values, evaluate=False)


def unevaluated_power(base, numerator: int, denominator: int) -> sp.Expr:
    """``base^(numerator/denominator)`` with the fraction left as written (10000^(2/4), not 100)."""
    fraction = sp.Mul(
        sp.Integer(numerator), sp.Pow(sp.Integer(denominator), -1, evaluate=False), evaluate=False
    )
    return sp.Pow(base, fraction, evaluate=False)


def needs_approx(value) -> bool:
    """Whether a ``≈ decimals`` tail adds information beyond the exact form."""
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    if any(sp.sympify(e).free_symbols for e in entries):
        return False
    return not all(sp.sympify(e).is_Rational and sp.sympify(e).q in (1, 2, 4, 5, 10) for e in entries)
