"""A student's written answer read in the shape of the true value, and exact numbers as mpmath.

Numbers go through ``derive.parse`` (a whitelisted syntax tree with bounds on every entry), so an
answer can never run code nor hand SymPy a number it cannot handle.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from derive import parse
from derive.errors import InputError
from derive.numbers import is_array

WORK_DIGITS = 30


@dataclass(frozen=True)
class Written:
    """An answer as given: its value for recomputing later stages, its entries flat, and their text."""

    value: Any
    flat: tuple
    texts: tuple[str, ...]

    @property
    def numeric(self) -> bool:
        return not any(isinstance(entry, str) for entry in self.flat)


def flat(value) -> tuple:
    if is_array(value):
        return tuple(value.ravel().tolist())
    if isinstance(value, sp.MatrixBase):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def shape(value) -> tuple[int, int]:
    if is_array(value):
        return tuple(value.shape) if value.ndim == 2 else (1, value.size)
    if isinstance(value, sp.MatrixBase):
        return value.shape
    if isinstance(value, (list, tuple)):
        return (1, len(value))
    return (1, 1)


def number(value) -> mpmath.mpf:
    """An exact or float entry as a 30-digit mpmath number (raises TypeError for a symbol)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return mpmath.mpf(value)
    if not isinstance(value, sp.Basic):
        raise TypeError(f"not a number: {type(value).__name__}")
    evaluated = sp.N(value, WORK_DIGITS)
    if not evaluated.is_Number:
        raise TypeError(f"not a number: {value}")
    return mpmath.mpf(evaluated)


def symbolic(value) -> bool:
    """Whether an exact value holds a symbol (a derivation from letters): answers may then too."""
    return isinstance(value, (sp.Basic, sp.MatrixBase)) and bool(value.free_symbols)


def _string_list(raw: str) -> list[str]:
    """A JSON list of strings (``["[CLS]", ","]``) or whitespace-separated tokens."""
    text = raw.strip()
    if text.startswith("["):
        try:
            tokens = json.loads(text)
        except ValueError:
            tokens = None
        if isinstance(tokens, list) and all(isinstance(t, str) for t in tokens):
            return tokens
    return text.split()


def read(raw: str, expected, option: str = "--answer", names=None) -> Written:
    """The student's text as numbers (or tokens) shaped like ``expected`` where the count allows.

    ``names`` (a derivation's named intermediates, such as a_11 = e^{s_11}/Z_1) are replaced by their
    expressions in the input letters, so an answer may be written in the names or in the letters."""
    if isinstance(expected, str):
        return Written(raw, (raw,), (raw,))
    if isinstance(expected, (list, tuple)) and expected and isinstance(expected[0], str):
        tokens = _string_list(raw)
        return Written(list(tokens), tuple(tokens), tuple(tokens))
    rows = parse.matrix_entries(raw, option)
    symbols = symbolic(expected)
    values = [[parse.parse_scalar(e, option, symbols).xreplace(names or {}) for e in row] for row in rows]
    entries = tuple(v for row in values for v in row)
    texts = tuple(e.strip() for row in rows for e in row)
    if is_array(expected):
        import numpy as np

        floats = np.array([float(v) for v in entries])
        value = floats.reshape(expected.shape) if floats.size == expected.size else floats
    elif isinstance(expected, sp.MatrixBase):
        if len(entries) == len(expected):
            value = sp.Matrix(expected.rows, expected.cols, list(entries))
        else:
            value = sp.Matrix(values)
    elif isinstance(expected, (list, tuple)):
        value = [int(v) if v.is_Integer else v for v in entries]
    else:
        if len(entries) != 1:
            raise InputError(option, f"expected a single number, got {len(entries)} values")
        value = entries[0]
    return Written(value, entries, texts)
