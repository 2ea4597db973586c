"""Random building blocks for hand-sized inputs, written back as the strings a user would type."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
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


def even_score_keys(
    rng: random.Random, queries: Sequence[Sequence[int]], low: int, high: int, limit: int
) -> list[int]:
    """A nonzero key row whose dot product with every query is even and at most ``limit`` in size:
    with d_k = 4 every scaled score q·k/2 is then an integer."""
    while True:
        row = nonzero_row(rng, len(queries[0]), low, high)
        scores = [dot(q, row) for q in queries]
        if all(s % 2 == 0 and abs(s) <= limit for s in scores):
            return row


def transposed(a: Sequence[Sequence]) -> list[list]:
    return [list(col) for col in zip(*a)]


def one_column_attention(rng: random.Random, tokens: int, names: Sequence[str], limit: int) -> dict:
    """x (two columns, distinct integer rows) and integer W_Q, W_K, W_V, W_O (under ``names``) for two
    heads one column wide (d_k = 1, no square root): every head's scores q·k at most ``limit`` in size,
    no query row of a head's scores all equal (uniform weights whatever the method), no zero value column.
    Some x admit no such weights, so x is drawn again after a few tries."""
    while True:
        x = distinct_rows(rng, tokens, 2, -2, 2)
        for _ in range(20):
            wq, wk, wv = (int_matrix(rng, 2, 2, -1, 1) for _ in range(3))
            queries, keys, values = product(x, wq), product(x, wk), product(x, wv)
            scores = [[[q[h] * k[h] for k in keys] for q in queries] for h in range(2)]
            flat = [s for head in scores for row in head for s in row]
            varied = all(len(set(row)) > 1 for head in scores for row in head)
            if varied and max(map(abs, flat)) <= limit and all(any(col) for col in zip(*values)):
                wo = int_matrix(rng, 2, 2, -1, 1)
                return {"x": matrix_text(x), **dict(zip(names, map(matrix_text, (wq, wk, wv, wo))))}


def until(promising: Callable[[dict], bool]):
    """A level's draw, repeated until a cheap float pass finds it promising (the exact screen
    still decides; this spares it the draws sure to fail)."""

    def wrap(draw_one):
        def level(rng):
            while True:
                given = draw_one(rng)
                if promising(given):
                    return given

        level.__doc__ = draw_one.__doc__
        return level

    return wrap
