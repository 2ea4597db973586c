"""The KV cache: level 1 three tokens, d_model = 2 and one head of width 4 (√d_k = 2) with every scaled
score an integer in [-4, 4]; level 2 three or four tokens and two heads of width 1, in any cache number
format; level 3 decimals (calculator work)."""

from __future__ import annotations

import math

import sympy as sp

from derive.worksheet import draw

MAX_SCALED = 4
MAX_WEIGHT = 0.95
DTYPES = ("fp32", "fp16", "bf16", "int8")


def _balanced(x, wq, wk, heads: int) -> bool:
    """Every step with more than one cached key, in every head, weighs them unequally and none at
    MAX_WEIGHT or more; the same rule as ``suitable``, in floats, so that few draws are screened in vain."""
    queries, keys = draw.product(x, wq), draw.product(x, wk)
    width = len(queries[0]) // heads
    for h in range(heads):
        part = slice(h * width, (h + 1) * width)
        for t in range(1, len(x)):
            scaled = [draw.dot(queries[t][part], key[part]) / math.sqrt(width) for key in keys[: t + 1]]
            exps = [math.exp(s - max(scaled)) for s in scaled]
            if max(scaled) == min(scaled) or 1 / sum(exps) >= MAX_WEIGHT:
                return False
    return True


def _values(rng, x, cols, low, high):
    """W_V such that the value cache X W_V has no zero row or column."""
    while True:
        wv = draw.int_matrix(rng, len(x[0]), cols, low, high)
        cache = draw.product(x, wv)
        if all(any(row) for row in cache) and all(any(col) for col in zip(*cache)):
            return wv


def _texts(**matrices) -> dict:
    return {name: draw.matrix_text(m) for name, m in matrices.items()}


def level_1(rng):
    """Q Kᵀ all even and at most 8 in size, so that every scaled score Q Kᵀ / 2 is a small integer."""
    while True:
        x = draw.distinct_rows(rng, 3, 2, -1, 2)
        wq, wk = draw.int_matrix(rng, 2, 4, -1, 1), draw.int_matrix(rng, 2, 4, -1, 1)
        scores = [
            s for row in draw.product(draw.product(x, wq), draw.transposed(draw.product(x, wk))) for s in row
        ]
        if all(s % 2 == 0 and abs(s) <= 2 * MAX_SCALED for s in scores) and _balanced(x, wq, wk, 1):
            return _texts(x=x, wq=wq, wk=wk, wv=_values(rng, x, 4, -1, 1))


def level_2(rng):
    """Two heads of width 1: each head's scores are products of two integers, at most 4 in size."""
    n = rng.choice([3, 4])
    while True:
        x = draw.distinct_rows(rng, n, 2, -1, 2)
        wq, wk = draw.int_matrix(rng, 2, 2, -1, 1), draw.int_matrix(rng, 2, 2, -1, 1)
        queries, keys = draw.product(x, wq), draw.product(x, wk)
        small = all(abs(q[h] * k[h]) <= MAX_SCALED for q in queries for k in keys for h in range(2))
        if small and _balanced(x, wq, wk, 2):
            given = _texts(x=x, wq=wq, wk=wk, wv=_values(rng, x, 2, -1, 2))
            return {**given, "heads": "2", "dtype": rng.choice(DTYPES)}


def level_3(rng):
    d_model, heads = rng.choice([2, 3]), rng.choice([1, 2])
    weights = {
        name: draw.matrix_text(draw.tenths_matrix(rng, d_model, 4, -10, 10)) for name in ("wq", "wk", "wv")
    }
    return {
        "x": draw.matrix_text(draw.tenths_matrix(rng, 3, d_model, -15, 15)),
        **weights,
        "heads": str(heads),
        "dtype": rng.choice(DTYPES),
    }


def suitable(values, level):
    """Every step with more than one cached key weighs them unequally and none at 0.95 or more (a row
    of equal weights or a near one-hot one hides how the scores were made), and no column or row of the
    value cache is all zero (an output that never moves)."""
    v = values.V_cache
    if any(not any(v.col(c)) for c in range(v.cols)) or any(not any(v.row(r)) for r in range(v.rows)):
        return False
    weights, n = values.weights, values.n
    for r in range(weights.rows):
        visible = [float(weights[r, j]) for j in range(r % n + 1)]
        if len(visible) > 1 and (max(visible) - min(visible) < 1e-9 or max(visible) >= MAX_WEIGHT):
            return False
    return True


SYMBOLS = {
    name: sp.Symbol(symbol) for name, symbol in (("x", "X"), ("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))
}
SYMBOLS.update({"heads": sp.Symbol("h"), "dtype": None})


def task(given):
    heads = given.get("heads", "1")
    split = "" if heads == "1" else f", split by columns into {heads} heads"
    stacked = "" if heads == "1" else ", head 1's rows above head 2's"
    return (
        f"Decode the rows of X one token at a time with a KV cache{split}: at step t append k_t = x_t W_K and "
        "v_t = x_t W_V to the caches and let q_t = x_t W_Q attend to the t cached keys with 1/√d_k. Write the "
        f"weights with row t for step t and 0 for keys not yet cached{stacked}. Count FLOPs as 2 per "
        f"multiply-add; the cache stores {given.get('dtype', 'fp16')} numbers."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
