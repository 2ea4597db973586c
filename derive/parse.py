"""Parse user-typed numbers, vectors and matrices into exact SymPy values.

User strings are walked as a whitelisted Python syntax tree; nothing is ever passed to
``eval``, ``sympify`` or ``parse_expr``, which would execute arbitrary code.

One bound says what an entry may be, so that no later step (SymPy, mpmath, floats, JSON)
meets a number it cannot handle in a moment. It is checked here, while an entry is built,
for every part of it: text typed for an option, Python values given to the API, and the
answers given to ``derive check``.

- an option's text is at most ``MAX_TEXT`` characters, in ASCII;
- a written number is plain decimal (``12``, ``-0.5``, ``1.5e-3``) with at most
  ``MAX_DIGITS`` digits and an exponent of at most ``MAX_MAGNITUDE``;
- an entry has at most ``MAX_NODES`` parts (numbers, operators, calls), nested at most
  ``MAX_DEPTH`` deep, and powers have exponents of at most ``MAX_POWER``;
- every part of an entry, and every numerator and denominator, lies within
  10^±``MAX_MAGNITUDE`` (zero aside): ``exp(1000)`` passes, ``exp(exp(10))`` does not.

Where a topic's maths stays exact for letters (``symbols=True``), an entry may also hold real
symbols from a whitelist: a Latin letter, a Greek name (``alpha`` … ``omega``; ``lamda`` as
SymPy spells it, since ``lambda`` is a Python keyword), each optionally with a subscript of
one to three letters or digits (``x_1``, ``w_12``, ``s_ij``). The names derivations give their
intermediates parse too, so that an answer may use them: a letter with a hat or bar (``xhat_1``,
``gbar``) and a gradient's name (``dS_12``). ``e`` and ``pi`` stay the
constants, and the functions' names are not symbols. Such an entry may also use the functions a
derivation in letters writes (``_LETTER_FUNCTIONS``: ``log``, ``tanh``, ``erf``, and ``max`` of
two or more parts), so that an answer to ``derive check`` can be written as the derivation is;
``log`` of a number must be of a positive one. Numbers in a symbolic entry are held to
the same bound; the symbolic part itself is bounded by the entry's size.
"""

from __future__ import annotations

import ast
import math
import re
from fractions import Fraction

import mpmath
import sympy as sp

from derive.errors import InputError

MAX_TEXT = 4000
MAX_DIGITS = 40
MAX_MAGNITUDE = 1000
MAX_NODES = 64
MAX_DEPTH = 12
MAX_POWER = 64

_FUNCTIONS = {"sqrt": sp.sqrt, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos}
_LETTER_FUNCTIONS = {"log": sp.log, "tanh": sp.tanh, "erf": sp.erf}
_NAMES = {"e": sp.E, "pi": sp.pi}
_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lamda mu nu xi omicron rho sigma tau "
    "upsilon phi chi psi omega"
).split()
_SYMBOL = re.compile(
    rf"(?:[A-Za-z](?:hat|bar)?|d[A-Z]|{'|'.join(_GREEK)}|{'|'.join(g.capitalize() for g in _GREEK)})(?:_[A-Za-z0-9]{{1,3}})?"
)
_LITERAL = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_EXP_LOG10 = math.log10(MAX_MAGNITUDE * math.log(10))  # exp(x) within the bound: |x| <= 2302.58
_LIMIT = 10**MAX_MAGNITUDE
_BEYOND = f"lies outside 10^±{MAX_MAGNITUDE}, the bound on every part of an entry"
_EXPECTED = "expected numbers such as 2, -0.5, 1/3, sqrt(2), e, pi, exp(1), sin(pi/6)"


def _preview(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _literal(text: str, option: str) -> sp.Rational:
    """A number as written: plain decimal digits only (no 0x10, 1_000, 1j, inf or nan)."""
    match = _LITERAL.fullmatch(text)
    if not match:
        raise InputError(option, f"{_preview(text)!r} is not a plain decimal number such as 16 or 0.25")
    digits = match.group(1).replace(".", "").lstrip("0")
    if len(digits) > MAX_DIGITS:
        raise InputError(option, f"{_preview(text)!r} has more than {MAX_DIGITS} digits")
    exponent = match.group(2)
    if exponent and abs(int(exponent[1:])) > MAX_MAGNITUDE:
        raise InputError(option, f"{_preview(text)!r}: exponents are limited to ±{MAX_MAGNITUDE}")
    return bounded(sp.Rational(Fraction(text)), option, text)


def _log10(value: sp.Expr) -> float | None:
    """log10 |value|, None for zero; ``value``'s parts are bounded, so a few digits are cheap."""
    if value.is_Rational:
        return None if value == 0 else math.log10(abs(value.p)) - math.log10(value.q)
    number = sp.N(value, 15)
    if not isinstance(number, sp.Float):
        return math.inf
    return None if number == 0 else float(mpmath.log10(abs(number._to_mpmath(53))))


def bounded(value: sp.Expr, option: str, text: str) -> sp.Expr:
    """``value`` (the part ``text`` of an entry) if it is real and within 10^±MAX_MAGNITUDE."""
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or value.is_extended_real is False:
        raise InputError(option, f"{_preview(text)!r} is not a real number")
    if value.is_Rational:
        if max(abs(value.p), value.q) > _LIMIT:
            raise InputError(option, f"{_preview(text)!r} {_BEYOND}")
        return value
    if value.free_symbols:
        for number in value.atoms(sp.Rational):
            bounded(number, option, text)
        return value
    magnitude = _log10(value)
    if magnitude is not None and not abs(magnitude) <= MAX_MAGNITUDE:
        raise InputError(option, f"{_preview(text)!r} {_BEYOND}")
    return value


class _Reader:
    """Builds one entry from its syntax tree, checking the bound on every part as it goes."""

    def __init__(self, source: str, option: str, symbols: bool = False):
        self.source = source
        self.option = option
        self.symbols = symbols

    def text(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.source, node) or self.source

    def read(self, node: ast.AST, depth: int = 0) -> sp.Expr:
        if depth > MAX_DEPTH:
            raise InputError(self.option, f"{_preview(self.source)!r} is nested more than {MAX_DEPTH} deep")
        return bounded(self.build(node, depth + 1), self.option, self.text(node))

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return _literal(self.text(node), self.option)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.read(node.operand, depth)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = self.read(node.left, depth), self.read(node.right, depth)
            return self.combine(node, left, right)
        if isinstance(node, ast.Name) and node.id in _NAMES:
            return _NAMES[node.id]
        if isinstance(node, ast.Name) and _SYMBOL.fullmatch(node.id):
            if not self.symbols:
                raise InputError(self.option, f"{node.id!r}: this option takes numbers, not symbols")
            return sp.Symbol(node.id, real=True)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            argument = self.read(node.args[0], depth)
            numeric = not argument.free_symbols
            if numeric and node.func.id == "exp" and (_log10(argument) or -math.inf) > _EXP_LOG10:
                raise InputError(self.option, f"{_preview(self.text(node))!r} {_BEYOND}")
            return _FUNCTIONS[node.func.id](argument)
        if (
            self.symbols
            and isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and not node.keywords
        ):
            return self.letter_function(node, depth)
        raise InputError(
            self.option,
            _EXPECTED
            + (", or symbols such as a, x_1, alpha, with log, tanh, erf, max" if self.symbols else ""),
        )

    def letter_function(self, node: ast.Call, depth: int) -> sp.Expr:
        """``log``, ``tanh``, ``erf`` of one part, ``max`` of two or more: where letters are allowed."""
        name, count = node.func.id, len(node.args)
        if name == "max" and count >= 2:
            return sp.Max(*(self.read(argument, depth) for argument in node.args))
        if name in _LETTER_FUNCTIONS and count == 1:
            argument = self.read(node.args[0], depth)
            if name == "log" and not argument.free_symbols and not argument.is_positive:
                raise InputError(self.option, f"{_preview(self.text(node))!r}: log needs a positive number")
            return _LETTER_FUNCTIONS[name](argument)
        raise InputError(
            self.option, _EXPECTED + ", or symbols such as a, x_1, alpha, with log, tanh, erf, max"
        )

    def combine(self, node: ast.BinOp, left: sp.Expr, right: sp.Expr) -> sp.Expr:
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise InputError(self.option, "division by zero")
            return left / right
        if not (right.is_number and abs(right) <= MAX_POWER):
            raise InputError(self.option, f"powers are limited to exponents of at most {MAX_POWER}")
        if left.free_symbols:
            return left**right
        base = _log10(left)
        if base is None and right.is_negative:
            raise InputError(self.option, "division by zero")
        if base is not None and not abs(base * float(right)) <= MAX_MAGNITUDE:
            raise InputError(self.option, f"{_preview(self.text(node))!r} {_BEYOND}")
        return left**right


_OPERATORS = {ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow}


def _tree(text: str, option: str) -> ast.AST:
    if len(text) > MAX_TEXT:
        raise InputError(option, f"input is longer than {MAX_TEXT} characters")
    if not text.isascii():
        raise InputError(option, f"{_preview(text)!r}: write numbers in plain ASCII")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InputError(option, f"could not read {_preview(text)!r} as numbers") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise InputError(option, f"{_preview(text)!r} has more than {MAX_NODES} parts")
    return tree


def letters(text: str) -> list[str]:
    """The symbol names written in ``text``, in order: what a numbers-only option names when it says
    why letters make no sense there."""
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
    return [w for w in words if w not in _NAMES and w not in _FUNCTIONS and _SYMBOL.fullmatch(w)]


def parse_scalar(text: str, option: str, symbols: bool = False) -> sp.Expr:
    """A single exact number such as ``0.5``, ``1/3`` or ``sqrt(2)``, within the module's bound;
    with ``symbols``, also an expression in whitelisted real symbols such as ``x_1`` or ``2*alpha``."""
    text = str(text).strip()
    return _Reader(text, option, symbols).read(_tree(text, option))


def _joins(text: str, index: int) -> bool:
    """Whether the space at ``index`` sits inside a sum or product (``a + b``, ``a - b``, ``2 * a``)
    rather than between entries (``1 -2`` and ``1 +2`` are two entries)."""
    before, after = text[:index].rstrip(), text[index:].lstrip()
    if before.endswith(("+", "-", "*", "/")):
        return True
    return after.startswith(("*", "/")) or bool(re.match(r"[+-](\s|$)", after))


def _split_entries(text: str) -> list[str]:
    """Split on commas and whitespace that are not inside parentheses nor around an operator."""
    parts, current, depth = [], [], 0
    for index, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and (char == "," or (char.isspace() and not _joins(text, index))):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


def _row(text: str, option: str, symbols: bool = False) -> list[sp.Expr]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    parts = _split_entries(text)
    if not parts:
        raise InputError(option, "expected at least one number")
    return [parse_scalar(p, option, symbols) for p in parts]


def looks_like_matrix(text: str) -> bool:
    """A matrix is written with ';' between rows or as '[[...]]'; anything else is a vector."""
    return ";" in text or text.strip().startswith("[[")


def parse_vector(text: str, option: str, symbols: bool = False) -> list[sp.Expr]:
    """``"1 2 3"``, ``"1, 2, 3"`` or ``"[1, 2, 3]"``."""
    if looks_like_matrix(text):
        raise InputError(option, "expected a vector such as '1 2 3', not a matrix")
    return _row(text, option, symbols)


def matrix_entries(text: str, option: str) -> list[list[str]]:
    """The raw entry strings of a vector or matrix, row by row (a vector is one row)."""
    if len(text) > MAX_TEXT:
        raise InputError(option, f"input is longer than {MAX_TEXT} characters")
    stripped = text.strip()
    if stripped.startswith("[["):
        if not stripped.endswith("]]"):
            raise InputError(option, "unbalanced brackets in matrix")
        rows = re.split(r"\]\s*,\s*\[", stripped[2:-2])
    else:
        rows = stripped.split(";")
    entries = []
    for number, row in enumerate(rows, start=1):
        row = row.strip()
        if row.startswith("[") and row.endswith("]"):
            row = row[1:-1]
        entries.append(_split_entries(row))
        if not entries[-1]:
            where = f"row {number} is empty" if len(rows) > 1 else "no numbers"
            raise InputError(option, f"{where}; expected a matrix such as '1 0; 0 1'")
    if len({len(r) for r in entries}) != 1:
        raise InputError(
            option, f"ragged matrix: rows have {', '.join(str(len(r)) for r in entries)} entries"
        )
    return entries


def parse_matrix(text: str, option: str, symbols: bool = False) -> sp.Matrix:
    """``"1 0; 0 1"`` or ``"[[1, 0], [0, 1]]"``; a single row is a 1×n matrix."""
    rows = matrix_entries(text, option)
    return sp.Matrix([[parse_scalar(e, option, symbols) for e in row] for row in rows])


def parse_vector_or_matrix(text: str, option: str, symbols: bool = False) -> sp.Matrix:
    """A vector becomes a 1×n matrix so that row-wise topics treat both alike."""
    if looks_like_matrix(text):
        return parse_matrix(text, option, symbols)
    return sp.Matrix([parse_vector(text, option, symbols)])


def parse_tokens(text: str, option: str = "--tokens") -> list[str]:
    """Whitespace-separated token labels; kept as plain text and escaped by every renderer."""
    tokens = text.split()
    if not tokens:
        raise InputError(option, "expected at least one token")
    if any(len(t) > 40 for t in tokens):
        raise InputError(option, "token labels are limited to 40 characters")
    return tokens
