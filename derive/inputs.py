"""Option parsers shared by the CLI and the Python API: strings or Python values in, exact SymPy out."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import sympy as sp

from derive import parse, visible
from derive.errors import InputError

_MAX_BITS = 4 * parse.MAX_MAGNITUDE  # beyond 2^4000 > 10^1000, refused before any conversion


def _entry(value: Any, option: str, symbols: bool = False) -> sp.Expr:
    """One entry, from text or a Python value, held to the parser's bound either way."""
    if isinstance(value, str):
        return parse.parse_scalar(value, option, symbols)
    if isinstance(value, bool):
        raise InputError(option, "expected a number, not a boolean")
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(option, f"expected a finite number, got {value!r}")
    if isinstance(value, (int, Fraction)):
        value = Fraction(value)
        if max(abs(value.numerator), value.denominator).bit_length() > _MAX_BITS:
            raise InputError(option, f"a number beyond 10^{parse.MAX_MAGNITUDE}, the bound on every entry")
        number = sp.Rational(value.numerator, value.denominator)
    elif isinstance(value, float):
        number = sp.Rational(Fraction(repr(value)))
    elif isinstance(value, sp.Expr) and value.is_number and value.is_real:
        number = value
    elif symbols and isinstance(value, sp.Expr) and all(s.is_real for s in value.free_symbols):
        number = value
    else:
        raise InputError(option, f"expected a number, got {type(value).__name__}")
    return parse.bounded(number, option, str(value))


def scalar(value: Any, option: str) -> sp.Expr:
    return _entry(value, option)


def positive(value: Any, option: str) -> sp.Expr:
    number = scalar(value, option)
    if not number.is_positive:
        raise InputError(option, "expected a positive number")
    return number


def non_negative(value: Any, option: str) -> sp.Expr:
    """A number >= 0, such as LayerNorm's epsilon."""
    number = scalar(value, option)
    if not number >= 0:
        raise InputError(option, "expected a number >= 0, such as 1e-5")
    return number


def integer(value: Any, option: str, low: int = 0, high: int = 10**6) -> int:
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise InputError(option, f"expected a whole number, got {str(value)[:40]!r}") from None
    if not low <= number <= high:
        raise InputError(option, f"expected a whole number from {low} to {high}")
    return number


def base(value: Any, option: str) -> sp.Expr:
    """The base of a sinusoidal encoding's wavelengths or of RoPE's frequencies."""
    number = scalar(value, option)
    if not number > 1:
        raise InputError(option, "expected a number greater than 1, such as 10000")
    return number


def even_width(value: Any, option: str, low: int, high: int) -> int:
    """A model width made of (sin, cos) pairs."""
    number = integer(value, option, low, high)
    if number % 2:
        raise InputError(option, f"must be even, got {number}: sin and cos fill the dimensions in pairs")
    return number


def vector(value: Any, option: str, symbols: bool = False) -> sp.Matrix:
    """A row vector as a 1×n matrix."""
    if isinstance(value, str):
        return sp.Matrix([parse.parse_vector(value, option, symbols)])
    if isinstance(value, sp.MatrixBase):
        if min(value.shape) != 1:
            raise InputError(option, "expected a vector, not a matrix")
        value = list(value)
    try:
        entries = list(value)
    except TypeError:
        raise InputError(option, "expected a vector such as '1 2 3'") from None
    if any(isinstance(e, (list, tuple)) for e in entries):
        raise InputError(option, "expected a vector such as '1 2 3', not a matrix")
    if not entries:
        raise InputError(option, "expected at least one number")
    return sp.Matrix([[_entry(e, option, symbols) for e in entries]])


def matrix(value: Any, option: str, symbols: bool = False) -> sp.Matrix:
    if isinstance(value, str):
        return parse.parse_matrix(value, option, symbols)
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda e: _entry(e, option, symbols))
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in value]
    if not rows or not rows[0]:
        raise InputError(option, "expected a matrix such as '1 0; 0 1'")
    if len({len(r) for r in rows}) != 1:
        raise InputError(option, "ragged matrix: rows differ in length")
    return sp.Matrix([[_entry(e, option, symbols) for e in r] for r in rows])


def vector_or_matrix(value: Any, option: str, symbols: bool = False) -> sp.Matrix:
    if isinstance(value, str):
        return parse.parse_vector_or_matrix(value, option, symbols)
    if isinstance(value, sp.MatrixBase):
        return matrix(value, option, symbols)
    entries = list(value)
    if entries and isinstance(entries[0], (list, tuple)):
        return matrix(entries, option, symbols)
    return vector(entries, option, symbols)


def symbolic(parser: Callable[..., Any]) -> Callable[[Any, str], Any]:
    """``parser`` (vector, matrix or vector_or_matrix) with letters allowed as entries: for the
    topics whose maths stays exact for symbols (see derive/parse.py for the whitelist)."""

    def parse_symbolic(value: Any, option: str) -> Any:
        return parser(value, option, symbols=True)

    return parse_symbolic


def numbers_only(parser: Callable[[Any, str], Any], why: str) -> Callable[[Any, str], Any]:
    """``parser`` for an option of a topic where letters make no sense (a simulation, a step count
    inside a min): a letter is refused with the reason, ``why``, in one line."""

    def parse_numbers(value: Any, option: str) -> Any:
        found = parse.letters(value) if isinstance(value, str) else []
        if found:
            raise InputError(option, f"{found[0]!r}: this topic takes numbers, not letters: {why}")
        return parser(value, option)

    return parse_numbers


def is_symbolic(value: Any) -> bool:
    """Whether an exact value (a SymPy matrix or expression) holds a symbol."""
    return isinstance(value, sp.Basic) and bool(value.free_symbols)


def refuse_names(options, names: set[str], which: tuple[str, ...], listed: str) -> None:
    """A letter of an input may not be a name the derivation defines (``listed``), or its steps
    would read two ways."""
    for option in which:
        for symbol in sorted(options[option].free_symbols, key=str):
            if symbol.name in names:
                raise InputError(
                    "--" + option.replace("_", "-"),
                    f"{symbol.name!r} is a name this derivation defines ({listed}); use other letters",
                )


def tokens(value: Any, option: str) -> list[str]:
    """Token labels, split on whitespace; a control or invisible character in one is refused."""
    text = value if isinstance(value, str) else " ".join(str(t) for t in value)
    labels = parse.parse_tokens(text, option)
    for one in labels:
        visible.label(one, option, "token labels")
    return labels


def text(value: Any, option: str) -> str:
    text = str(value)
    if len(text) > 200:
        raise InputError(option, "expected at most 200 characters")
    return text


def label(value: Any, option: str) -> str:
    """A name the user picks something by (a focus token, a word): visible text only."""
    return visible.label(text(value, option), option, "a label")


def choice(*allowed: str):
    def parse_choice(value: Any, option: str) -> str:
        if value not in allowed:
            raise InputError(option, f"expected one of {', '.join(allowed)}, got {str(value)[:40]!r}")
        return value

    return parse_choice


def per_feature(options, name: str, fill, d_model: int) -> sp.Matrix:
    """A learned per-feature vector (LayerNorm's gamma or beta): as given, or ``fill`` repeated."""
    given = options[name]
    if given is None:
        return sp.Matrix([[fill] * d_model])
    if given.cols != d_model:
        raise InputError(
            "--" + name, f"has {given.cols} entries but x has {d_model} columns; give one per feature"
        )
    return given
