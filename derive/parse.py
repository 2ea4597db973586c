"""Parse user-typed numbers, vectors and matrices into exact SymPy values.

User strings are walked as a whitelisted Python syntax tree; nothing is ever passed to
``eval``, ``sympify`` or ``parse_expr``, which would execute arbitrary code.
"""

from __future__ import annotations

import ast
import re
from fractions import Fraction

import sympy as sp

from derive.errors import InputError

MAX_TEXT = 4000
MAX_DEPTH = 12
MAX_EXPONENT = 10_000

_FUNCTIONS = {"sqrt": sp.sqrt, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos}
_NAMES = {"e": sp.E, "pi": sp.pi}


def _number(node: ast.AST, option: str, depth: int = 0, source: str = "") -> sp.Expr:
    if depth > MAX_DEPTH:
        raise InputError(option, "expression is nested too deeply")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        if isinstance(node.value, float):
            literal = ast.get_source_segment(source, node) or repr(node.value)
            exponent = re.search(r"[eE]([+-]?\d+)$", literal)
            if exponent and abs(int(exponent.group(1))) > 1000:
                raise InputError(option, f"exponent too large in {literal[:40]!r}")
            try:
                return sp.Rational(Fraction(literal))
            except (ValueError, ZeroDivisionError):
                raise InputError(option, f"could not read the number {literal[:40]!r}") from None
        return sp.Integer(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _number(node.operand, option, depth + 1, source)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
        left = _number(node.left, option, depth + 1, source)
        right = _number(node.right, option, depth + 1, source)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise InputError(option, "division by zero")
            return left / right
        if not (right.is_number and abs(right) <= 64) or abs(left) > MAX_EXPONENT:
            raise InputError(option, "powers are limited to exponents of at most 64")
        return left**right
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and len(node.args) == 1
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](_number(node.args[0], option, depth + 1, source))
    raise InputError(
        option,
        "expected numbers such as 2, -0.5, 1/3, sqrt(2), e, pi, exp(1), sin(pi/6)",
    )


def _tree(text: str, option: str) -> ast.AST:
    if len(text) > MAX_TEXT:
        raise InputError(option, f"input is longer than {MAX_TEXT} characters")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise InputError(option, f"could not read {_preview(text)!r} as numbers") from None


def _preview(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def parse_scalar(text: str, option: str) -> sp.Expr:
    """A single exact number such as ``0.5``, ``1/3`` or ``sqrt(2)``."""
    text = str(text).strip()
    value = _number(_tree(text, option), option, source=text)
    if not value.is_real:
        raise InputError(option, "expected a real number")
    return value


def _split_entries(text: str) -> list[str]:
    """Split on commas and whitespace that are not inside parentheses."""
    parts, current, depth = [], [], 0
    for char in text:
        depth += (char == "(") - (char == ")")
        if depth == 0 and (char == "," or char.isspace()):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p]


def _row(text: str, option: str) -> list[sp.Expr]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    parts = _split_entries(text)
    if not parts:
        raise InputError(option, "expected at least one number")
    return [parse_scalar(p, option) for p in parts]


def looks_like_matrix(text: str) -> bool:
    """A matrix is written with ';' between rows or as '[[...]]'; anything else is a vector."""
    return ";" in text or text.strip().startswith("[[")


def parse_vector(text: str, option: str) -> list[sp.Expr]:
    """``"1 2 3"``, ``"1, 2, 3"`` or ``"[1, 2, 3]"``."""
    if looks_like_matrix(text):
        raise InputError(option, "expected a vector such as '1 2 3', not a matrix")
    return _row(text, option)


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
    for row in rows:
        row = row.strip()
        if row.startswith("[") and row.endswith("]"):
            row = row[1:-1]
        if row.strip():
            entries.append(_split_entries(row))
    if not entries:
        raise InputError(option, "expected a matrix such as '1 0; 0 1'")
    if len({len(r) for r in entries}) != 1:
        raise InputError(
            option, f"ragged matrix: rows have {', '.join(str(len(r)) for r in entries)} entries"
        )
    return entries


def parse_matrix(text: str, option: str) -> sp.Matrix:
    """``"1 0; 0 1"`` or ``"[[1, 0], [0, 1]]"``; a single row is a 1×n matrix."""
    return sp.Matrix([[parse_scalar(e, option) for e in row] for row in matrix_entries(text, option)])


def parse_vector_or_matrix(text: str, option: str) -> sp.Matrix:
    """A vector becomes a 1×n matrix so that row-wise topics treat both alike."""
    if looks_like_matrix(text):
        return parse_matrix(text, option)
    return sp.Matrix([parse_vector(text, option)])


def parse_tokens(text: str, option: str = "--tokens") -> list[str]:
    """Whitespace-separated token labels; kept as plain text and escaped by every renderer."""
    tokens = text.split()
    if not tokens:
        raise InputError(option, "expected at least one token")
    if any(len(t) > 40 for t in tokens):
        raise InputError(option, "token labels are limited to 40 characters")
    return tokens
