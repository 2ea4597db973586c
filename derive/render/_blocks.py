"""Shared walking of blocks: each format supplies how to print math, text and prose."""

from __future__ import annotations

import string
from collections.abc import Callable

import sympy as sp

from derive.model import Equation, Figure, Prose, Table, Text

_FORMATTER = string.Formatter()


def fill(prose: Prose, literal: Callable[[str], str], inline: Callable[[object], str]) -> str:
    """Escape the trusted literal parts of a paragraph and print each field inline."""
    out = []
    for text, name, _, _ in _FORMATTER.parse(prose.template):
        out.append(literal(text))
        if name is not None:
            out.append(inline(prose.fields[name]))
    return "".join(out)


def kind(block) -> str:
    if isinstance(block, Prose):
        return "prose"
    if isinstance(block, Equation):
        return "equation"
    if isinstance(block, Table):
        return "table"
    if isinstance(block, Figure):
        return "figure"
    raise TypeError(f"unknown block kind {type(block).__name__}")


def is_math(value) -> bool:
    return isinstance(value, (sp.Basic, sp.MatrixBase))


def is_user_text(value) -> bool:
    return isinstance(value, Text)
