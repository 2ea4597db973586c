"""Random building blocks for hand-sized inputs, written back as the strings a user would type."""

from __future__ import annotations

import functools
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


UNIT_COLUMNS = tuple((a, b) for a in (-1, 0, 1) for b in (-1, 0, 1) if a or b)  # a weight column in [-1, 1]


def one_column_heads(
    rng: random.Random,
    queries: Sequence[Sequence[float]],
    keys: Sequence[Sequence[float]],
    names: Sequence[str],
    limit: float | None,
    seen: Sequence[Sequence[int]] = (),
) -> dict | None:
    """Integer W_Q, W_K, W_V, W_O in [-1, 1] (under ``names``) for two heads one column wide (d_k = 1, no
    square root) over inputs of two columns with integer entries (queries attend to keys): every score
    q·k at most ``limit`` in size (None: any), no query 0 and no keys all equal over all tokens nor over a
    group ``seen`` lists (a causal query, a padding mask: uniform weights whatever the method), no zero
    value column and no zero weight row. Head h uses column h of W_Q and W_K alone, so the weights are
    picked from those that suit the inputs, listed once per inputs; None when none do."""
    heads, values = _columns_for(_whole(queries), _whole(keys), limit, tuple(map(tuple, seen)))
    for _ in range(20 if heads and values else 0):  # weights with a zero row are drawn again
        (q0, k0), (q1, k1) = rng.choice(heads), rng.choice(heads)
        wq, wk, wv = transposed((q0, q1)), transposed((k0, k1)), transposed(rng.choices(values, k=2))
        if _no_zero_row(wq) and _no_zero_row(wk) and _no_zero_row(wv):
            weights = (wq, wk, wv, int_matrix(rng, 2, 2, -1, 1))
            return dict(zip(names, map(matrix_text, weights)))
    return None


def _whole(rows: Sequence[Sequence[float]]) -> tuple:
    """Rows as integers (a LayerNorm of two numbers is ±1 up to rounding), hashable for the cache."""
    return tuple(tuple(round(e) for e in row) for row in rows)


@functools.lru_cache(maxsize=1 << 14)
def _columns_for(queries: tuple, keys: tuple, limit: float | None, seen: tuple) -> tuple[list, list]:
    """The (query column, key column) pairs that make a suitable head (see ``one_column_heads``) and the
    value columns that leave no value 0."""
    asked = {c: [dot(row, c) for row in queries] for c in UNIT_COLUMNS}
    offered = {c: [dot(row, c) for row in keys] for c in UNIT_COLUMNS}
    groups = [group for group in (range(len(keys)), *seen) if len(group) > 1]
    query_columns = [c for c, q in asked.items() if all(q)]
    key_columns = [c for c, k in offered.items() if all(len({k[j] for j in group}) > 1 for group in groups)]
    heads = [
        (q, k)
        for q in query_columns
        for k in key_columns
        if limit is None or max(map(abs, asked[q])) * max(map(abs, offered[k])) <= limit
    ]
    return heads, [c for c, v in offered.items() if any(v)]


def _no_zero_row(m: Sequence[Sequence[int]]) -> bool:
    return all(any(row) for row in m)


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
