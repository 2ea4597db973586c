"""A SymPy printer for Typst math: the same forms as ``derive.printing.latex``, in Typst syntax.

It follows ``sympy/printing``: one ``_print_<Class>`` method per construct, dispatched through
the MRO. Unevaluated sums and products are kept as written (``order="none"``, a ``dot.op``
between factors), fractions are ``frac(a, b)``, matrices ``mat(delim: "[", ...)``.

Use ``typst(expr)`` for the body of ``$ ... $``; ``string(text)`` quotes any text for math.
Every name that is not a single letter, a digit run or a Greek letter is quoted, so nothing
a user typed can reach Typst's own syntax.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence_traditional
from sympy.printing.printer import Printer

from derive.printing import hidden_product, moved_by_fraction, negative_factor, written_halves

_SETTINGS = {"order": "none", "full_prec": True}

_GREEK = {
    name: name
    for name in (
        "alpha beta gamma delta zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
        "upsilon chi psi omega Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi "
        "Omicron Pi Rho Sigma Tau Upsilon Phi Chi Psi Omega"
    ).split()
}
# SymPy's LaTeX prints \epsilon and \phi, the lunate and loop forms; Typst calls those ".alt".
_GREEK.update({"epsilon": "epsilon.alt", "phi": "phi.alt", "lamda": "lambda", "Lamda": "Lambda"})
_GREEK.update({"varepsilon": "epsilon", "varphi": "phi", "vartheta": "theta.alt"})

_ACCENTS = ("ddot", "hat", "bar", "tilde", "vec", "dot", "check", "breve")
_TYPST_ACCENTS = {"bar": "macron", "ddot": "dot.double"}  # Typst's bar(x) is |x|; it has no ddot
_OPERATORS = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "log": "log",
    "ln": "ln",
    "asin": "arcsin",
    "acos": "arccos",
    "atan": "arctan",
    "Max": "max",
    "Min": "min",
    "max": "max",
    "min": "min",
}
_RELATIONS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_LETTER = re.compile(r"[A-Za-z]")
_DIGITS = re.compile(r"[0-9]+")
_WORD = re.compile(r"[A-Za-z]+")
_INDEX = re.compile(r"\(?[A-Za-z0-9]+\)?")


def string(text: str) -> str:
    """A Typst string literal: shown as upright text in math, never interpreted."""
    text = " ".join(str(text).split())
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class TypstPrinter(Printer):
    """Typst math source for SymPy expressions, laid out as ``derive.printing.latex`` lays them out."""

    printmethod = "_typst"
    _default_settings = {"order": None, "full_prec": True, "mul_symbol": "dot.op"}

    def emptyPrinter(self, expr):
        """Anything that is not SymPy is shown as quoted text."""
        return string(str(expr))

    # -- names -------------------------------------------------------------------------------
    def _word(self, text: str) -> str:
        """One part of a name (its base, a subscript or a superscript)."""
        if text in _GREEK:
            return _GREEK[text]
        if _LETTER.fullmatch(text) or _DIGITS.fullmatch(text):
            return text
        if _WORD.fullmatch(text):
            return f"italic({string(text)})"
        if _INDEX.fullmatch(text) and text.count("(") == text.count(")"):
            inner = text.strip("()")
            shown = self._word(inner) if _WORD.fullmatch(inner) or _DIGITS.fullmatch(inner) else string(inner)
            return f"({shown})" if text.startswith("(") else shown
        return string(text)

    def _base(self, text: str) -> str:
        primes = len(text) - len(text.rstrip("'"))
        text = text.rstrip("'")
        for accent in _ACCENTS:
            if text.endswith(accent) and len(text) > len(accent):
                return (
                    f"{_TYPST_ACCENTS.get(accent, accent)}({self._base(text[: -len(accent)])})" + "'" * primes
                )
        return self._word(text) + "'" * primes

    def _name(self, name: str) -> str:
        base, supers, subs = split_super_sub(name)
        out = self._base(base) if base else string(name)
        if subs:
            out += "_(" + " ".join(self._word(s) for s in subs) + ")"
        if supers:
            out += "^(" + " ".join(self._word(s) for s in supers) + ")"
        return out

    def _print_Symbol(self, expr):
        return self._name(expr.name)

    _print_Dummy = _print_MatrixSymbol = _print_IndexedBase = _print_Symbol

    def _print_Str(self, expr):
        return string(expr.name)

    def _print_str(self, expr):
        return string(expr)

    # -- numbers -----------------------------------------------------------------------------
    def _print_Integer(self, expr):
        return str(expr.p)

    def _print_Rational(self, expr):
        if expr.q == 1:
            return str(expr.p)
        sign = "-" if expr.p < 0 else ""
        return f"{sign}frac({abs(expr.p)}, {expr.q})"

    def _print_Float(self, expr):
        text = LatexPrinter({"full_prec": True})._print_Float(expr)
        mantissa, times, exponent = text.partition(" \\cdot 10^{")
        return f"{mantissa} times 10^({exponent.rstrip('}')})" if times else mantissa

    def _print_Decimal(self, expr):
        mantissa, _, exponent = expr.text.partition("e")
        return f"{mantissa} times 10^({int(exponent)})" if exponent else mantissa

    def _print_Exp1(self, expr):
        return "e"

    def _print_Pi(self, expr):
        return "pi"

    def _print_ImaginaryUnit(self, expr):
        return "i"

    def _print_Infinity(self, expr):
        return "infinity"

    def _print_NegativeInfinity(self, expr):
        return "-infinity"

    def _print_NaN(self, expr):
        return string("NaN")

    def _print_BooleanTrue(self, expr):
        return string("True")

    def _print_BooleanFalse(self, expr):
        return string("False")

    # -- arithmetic --------------------------------------------------------------------------
    def parenthesize(self, item, level, strict=False):
        text = self._print(item)
        value = precedence_traditional(item)
        return f"({text})" if value < level or (not strict and value <= level) else text

    def _print_Add(self, expr, order=None):
        terms = list(expr.args) if self.order == "none" else self._as_ordered_terms(expr, order=order)
        out = ""
        for index, term in enumerate(terms):
            if index and not hidden_product(term) and term.could_extract_minus_sign():
                out += " - "
                term = -term
            elif index:
                out += " + "
            text = self._print(term)
            if term.is_Add or term.is_Relational:
                text = f"({text})"
            out += text
        return out

    def _needs_mul_brackets(self, factor, first: bool, last: bool) -> bool:
        if factor.is_Mul:
            return not first and factor.could_extract_minus_sign()
        if precedence_traditional(factor) < PRECEDENCE["Mul"] or factor.is_Relational:
            return True
        if not first and negative_factor(factor):
            return True
        return not last and factor.has(sp.Sum)

    def _product(self, factors) -> str:
        separator = f" {self._settings['mul_symbol']} "
        parts = []
        for index, factor in enumerate(factors):
            text = self._print(factor)
            if self._needs_mul_brackets(factor, index == 0, index == len(factors) - 1):
                text = f"({text})"
            parts.append(text)
        return separator.join(parts)

    def _factors_text(self, expr) -> str:
        """A numerator or denominator: a product spelled out, anything else printed whole."""
        return self._product(list(expr.args)) if expr.is_Mul else self._print(expr)

    def _written(self, factors) -> str:
        if len(factors) > 1:
            return self._print(sp.Mul(*factors, evaluate=False))
        return self._print(factors[0] if factors else sp.S.One)

    def _print_Ratio(self, expr):
        return f"frac({self._print(expr.numerator)}, {self._print(expr.denominator)})"

    def _print_Mul(self, expr):
        if isinstance(expr, sp.Mul) and self.order == "none" and any(moved_by_fraction(a) for a in expr.args):
            top, bottom = written_halves(expr)
            if bottom:
                return f"frac({self._written(top)}, {self._written(bottom)})"
        if isinstance(expr, sp.Mul):
            args = expr.args
            if args[0] is sp.S.One or any(isinstance(a, sp.Number) for a in args[1:]):
                return self._product(args)
        sign = ""
        if expr.could_extract_minus_sign():
            expr = -expr
            sign = "-"
            if expr.is_Add:
                return f"-({self._print(expr)})"
        numerator, denominator = sp.fraction(expr, exact=True)
        if denominator is sp.S.One and sp.Pow(1, -1, evaluate=False) not in expr.args:
            return sign + self._factors_text(expr)
        top = self._factors_text(numerator)
        bottom = self._factors_text(denominator)
        return f"{sign}frac({top}, {bottom})"

    def _print_Pow(self, expr):
        base, exponent = expr.base, expr.exp
        if exponent.is_Rational:
            if abs(exponent.p) == 1 and exponent.q != 1:
                root = (
                    f"sqrt({self._print(base)})"
                    if exponent.q == 2
                    else f"root({exponent.q}, {self._print(base)})"
                )
                return f"frac(1, {root})" if exponent.is_negative else root
            if exponent.is_negative and base.is_commutative and base != 1:
                return self._print_Mul(expr)
        text = self.parenthesize(base, PRECEDENCE["Pow"])
        if (base.is_Symbol and "^" in text) or base.is_Function and not isinstance(base, sp.exp):
            text = f"({text})"
        if isinstance(base, sp.exp):
            text = f"({text})"
        return f"{text}^({self._print(exponent)})"

    def _print_exp(self, expr):
        return f"e^({self._print(expr.args[0])})"

    def _print_Abs(self, expr):
        return f"lr(| {self._print(expr.args[0])} |)"

    def _print_UnevaluatedExpr(self, expr):
        return self._print(expr.args[0])

    def _print_Relational(self, expr):
        rel = _RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {rel} {self._print(expr.rhs)}"

    # -- functions ---------------------------------------------------------------------------
    def _function_name(self, name: str) -> str:
        if name in _OPERATORS:
            return _OPERATORS[name]
        base, supers, subs = split_super_sub(name)
        if base in _GREEK or _LETTER.fullmatch(base):
            return self._name(name)
        out = f"op({string(base)})"
        if subs:
            out += "_(" + " ".join(self._word(s) for s in subs) + ")"
        if supers:
            out += "^(" + " ".join(self._word(s) for s in supers) + ")"
        return out

    def _print_Function(self, expr):
        name = expr.func.__name__
        args = ", ".join(self._print(a) for a in expr.args)
        return f"{self._function_name(name)}({args})"

    def _print_Basic(self, expr):
        args = ", ".join(self._print(a) for a in expr.args)
        name = self._function_name(type(expr).__name__)
        return f"{name}({args})" if expr.args else name

    def _print_Sum(self, expr):
        body = self._print(expr.function)
        if expr.function.is_Add:
            body = f"({body})"
        limits = []
        for var, low, high in expr.limits:
            limits.append(f"sum_({self._print(var)} = {self._print(low)})^({self._print(high)})")
        return " ".join(limits) + " " + body

    def _print_Indexed(self, expr):
        indices = ", ".join(self._print(i) for i in expr.indices)
        return f"{self._print(expr.base)}_({indices})"

    def _print_Tuple(self, expr):
        items = [self._print(a) for a in expr.args]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    _print_tuple = _print_Tuple

    # -- matrices ----------------------------------------------------------------------------
    def _cell(self, entry) -> str:
        """A matrix entry; fractions and blocks keep full size, as they would in LaTeX's bmatrix."""
        text = self._print(entry)
        return f"display({text})" if "frac(" in text or "mat(" in text else text

    def _print_MatrixBase(self, expr):
        rows = [", ".join(self._cell(entry) for entry in row) for row in expr.tolist()]  # .row(r) copies
        return 'mat(delim: "[", ' + "; ".join(rows) + ")"

    _print_ImmutableDenseMatrix = _print_MutableDenseMatrix = _print_MatrixBase

    def _print_BlockMatrix(self, expr):
        return self._print(expr.blocks)

    def _print_Transpose(self, expr):
        inner = expr.arg
        text = self.parenthesize(inner, PRECEDENCE["Pow"], strict=True)
        if "^" in text or not (inner.is_Symbol or isinstance(inner, (sp.MatrixSymbol, sp.BlockMatrix))):
            if not text.startswith("("):
                text = f"({text})"
        return f"{text}^T"

    def _print_MatMul(self, expr):
        """SymPy's MatMul.could_extract_minus_sign compares the product with its negation, which
        multiplies the matrices out: it is asked once, through the precedence, not once per factor."""
        args = list(expr.args)
        level = precedence_traditional(expr)
        sign = ""
        if args[0].is_Number and args[0].is_extended_negative:  # what could_extract_minus_sign checks
            args = args[1:] if args[0] == -1 else [-args[0], *args[1:]]
            sign = "-"

        def part(arg):
            if isinstance(arg, sp.Mul) and not isinstance(arg, sp.MatMul):
                return self._print(arg)
            return self.parenthesize(arg, level, False)

        return sign + " ".join(part(a) for a in args)

    def _print_MatAdd(self, expr):
        out = ""
        for index, term in enumerate(expr.args):
            text = self._print(term)
            if index and text.startswith("-"):
                out += " - " + text[1:]
            else:
                out += (" + " if index else "") + text
        return out


def typst(expr) -> str:
    """Typst math source for ``expr``, to go between ``$`` signs."""
    return TypstPrinter(_SETTINGS).doprint(expr)


__all__ = ["TypstPrinter", "typst", "string"]
