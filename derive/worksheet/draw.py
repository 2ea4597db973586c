"""Random building blocks for hand-sized inputs, written back as the strings a user would type."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction


def vector_text(entries: Sequence) -> str:
    return " ".join(number_text(e) for e in entries)


def matrix_text(rows: Sequence[Sequence]) -> str:
    return "; ".join(vector_text(row) for row in rows)


def number_text(value) -> str:
    """An int, a Fraction (as a fraction) or a decimal string, as typed on the command line."""
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    return str(value)


def integers(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    return [rng.randint(low, high) for _ in range(count)]


def nonzero_row(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    """A row of integers that is not the zero vector."""
    while True:
        row = integers(rng, count, low, high)
        if any(row):
            return row


def nonzero_entries(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    """Integers none of which is 0 (a zero gradient entry would make a step that shows nothing)."""
    return [rng.choice([n for n in range(low, high + 1) if n]) for _ in range(count)]


def distinct_row(rng: random.Random, count: int, low: int, high: int) -> list[int]:
    """Distinct integers in random order (ties would hide a misconception)."""
    return rng.sample(range(low, high + 1), count)


def int_matrix(rng: random.Random, rows: int, cols: int, low: int, high: int) -> list[list[int]]:
    """Integer rows, none of them zero."""
    return [nonzero_row(rng, cols, low, high) for _ in range(rows)]


def distinct_rows(rng: random.Random, rows: int, cols: int, low: int, high: int) -> list[list[int]]:
    """Integer rows, none of them zero and no two alike (two equal tokens hide who attends to whom)."""
    while True:
        matrix = int_matrix(rng, rows, cols, low, high)
        if len({tuple(row) for row in matrix}) == rows:
            return matrix


def tenths(rng: random.Random, count: int, low: int, high: int) -> list[str]:
    """Decimals with one place between low/10 and high/10, none zero: calculator work."""
    values = []
    while len(values) < count:
        tenth = rng.randint(low, high)
        if tenth:
            values.append(_tenth_text(tenth))
    return values


def _tenth_text(tenth: int) -> str:
    sign = "-" if tenth < 0 else ""
    whole, part = divmod(abs(tenth), 10)
    return f"{sign}{whole}.{part}" if part else f"{sign}{whole}"


def hundredths(rng: random.Random, count: int, low: int, high: int) -> list[str]:
    """Decimals with two places between low/100 and high/100, none zero."""
    values = []
    while len(values) < count:
        hundredth = rng.randint(low, high)
        if hundredth:
            values.append(f"{hundredth / 100:g}")
    return values


def tenths_matrix(rng: random.Random, rows: int, cols: int, low: int, high: int) -> list[list[str]]:
    return [tenths(rng, cols, low, high) for _ in range(rows)]


def dot(a: Sequence[int], b: Sequence[int]) -> int:
    return sum(x * y for x, y in zip(a, b))


def product(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> list[list[int]]:
    """The matrix product a b of integer rows."""
    return [[dot(row, col) for col in zip(*b)] for row in a]


def transposed(a: Sequence[Sequence]) -> list[list]:
    return [list(col) for col in zip(*a)]
