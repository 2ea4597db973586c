"""Notation shared by the training topics: ∂L/∂z written as a fraction of partials in every format.

SymPy's ``Derivative`` prints ``d/dz (L)`` or ``Derivative(L, z)`` depending on the printer; a course
writes ``∂L/∂z``. ``Partial`` is a name, not an operation: it never differentiates anything, and each
printer draws it through SymPy's print-method hooks, so no printer needs to know it.
"""

from __future__ import annotations

import sympy as sp

PARTIAL = "∂"


class Partial(sp.Expr):
    """``∂f/∂x`` exactly as written (f and x are symbols or small expressions)."""

    is_commutative = True

    def __new__(cls, numerator, denominator):
        return super().__new__(cls, sp.sympify(numerator), sp.sympify(denominator))

    @property
    def numerator(self) -> sp.Expr:
        return self.args[0]

    @property
    def denominator(self) -> sp.Expr:
        return self.args[1]

    def _latex(self, printer):
        top, bottom = (printer._print(a) for a in self.args)
        return f"\\frac{{\\partial {top}}}{{\\partial {bottom}}}"

    def _pretty(self, printer):
        from sympy.printing.pretty.stringpict import prettyForm

        top, bottom = (prettyForm(*printer._print(a).left(PARTIAL)) for a in self.args)
        return top / bottom

    def _sympystr(self, printer):
        top, bottom = (_one_line(a, printer) for a in self.args)
        return f"{PARTIAL}{top}/{PARTIAL}{bottom}"

    def _typst(self, printer):
        top, bottom = (printer._print(a) for a in self.args)
        return f"frac(partial {top}, partial {bottom})"

    def _mathml_presentation(self, printer):
        dom = printer.dom
        fraction = dom.createElement("mfrac")
        for part in self.args:
            row, sign = dom.createElement("mrow"), dom.createElement("mo")
            sign.appendChild(dom.createTextNode(PARTIAL))
            row.appendChild(sign)
            row.appendChild(printer._print(part))
            fraction.appendChild(row)
        return fraction


def _one_line(expr, printer) -> str:
    """Unicode names (β_j, x̂ᵢ) where SymPy's pretty form fits one line, else the plain string."""
    shown = sp.pretty(expr, use_unicode=True)
    return shown if "\n" not in shown else printer._print(expr)


def partial(numerator, denominator) -> Partial:
    """∂L/∂z from names: strings become symbols (``"z_i"``), expressions are kept."""
    return Partial(*(sp.Symbol(a) if isinstance(a, str) else a for a in (numerator, denominator)))
