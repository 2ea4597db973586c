"""Attention: level 1 given Q, K, V with d_k = 4, so √d_k = 2 and every scaled score is an integer
in [-4, 4]; level 2 projects X through W_Q, W_K, W_V, sometimes under a causal mask; level 3 has
decimal Q, K, V with d_k = 2 or 3 (calculator work)."""

from __future__ import annotations

import sympy as sp

from derive.worksheet import draw

D_K = 4
MAX_SCALED = 4
MAX_WEIGHT = 0.95


def level_1(rng):
    n = rng.choice([2, 3])
    queries = draw.int_matrix(rng, n, D_K, -1, 2)
    keys = [draw.even_score_keys(rng, queries, -1, 2, 2 * MAX_SCALED) for _ in range(n)]
    values = draw.int_matrix(rng, n, 2, -2, 3)
    return {"q": draw.matrix_text(queries), "k": draw.matrix_text(keys), "v": draw.matrix_text(values)}


def level_2(rng):
    while True:
        x = draw.int_matrix(rng, 3, 2, -1, 2)
        wq = draw.int_matrix(rng, 2, D_K, -1, 1)
        wk = [[2 * e for e in row] for row in draw.int_matrix(rng, 2, D_K, -1, 1)]
        scores = draw.product(draw.product(x, wq), [list(c) for c in zip(*draw.product(x, wk))])
        if all(abs(s) <= 2 * MAX_SCALED for row in scores for s in row):
            break
    return {
        "x": draw.matrix_text(x),
        "wq": draw.matrix_text(wq),
        "wk": draw.matrix_text(wk),
        "wv": draw.matrix_text(draw.int_matrix(rng, 2, 2, -1, 2)),
        "mask": rng.choice(["none", "causal"]),
    }


def level_3(rng):
    n, d_k = rng.choice([2, 3]), rng.choice([2, 3])
    return {
        "q": draw.matrix_text(draw.tenths_matrix(rng, n, d_k, -15, 15)),
        "k": draw.matrix_text(draw.tenths_matrix(rng, n, d_k, -15, 15)),
        "v": draw.matrix_text(draw.tenths_matrix(rng, n, 2, -20, 20)),
        "mask": rng.choice(["none", "causal"]),
    }


def suitable(values, level):
    """No row of visible scaled scores all equal (its weights would be uniform whatever the method)
    or so spread that one weight reaches 0.95 (hard-max would nearly pass), and no row or column of
    V all zero (a value that adds nothing, an output column always 0)."""
    v = values.V
    if any(not any(v.col(c)) for c in range(v.cols)) or any(not any(v.row(r)) for r in range(v.rows)):
        return False
    scaled = values.scaled
    for i in range(scaled.rows):
        visible = [j for j in range(scaled.cols) if not (values.causal and j > i)]
        if len(visible) > 1 and len({scaled[i, j] for j in visible}) == 1:
            return False
        if len(visible) > 1 and max(float(values.weights[i, j]) for j in visible) >= MAX_WEIGHT:
            return False  # so peaked that the hard-max one-hot answer nearly passes
    return True


SYMBOLS = {name: sp.Symbol(symbol) for name, symbol in (("q", "Q"), ("k", "K"), ("v", "V"), ("x", "X"))}
SYMBOLS.update({name: sp.Symbol(symbol) for name, symbol in (("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))})


def task(given):
    start = "Project X to Q = X W_Q, K = X W_K, V = X W_V; then compute" if "x" in given else "Compute"
    text = f"{start} scaled dot-product attention softmax(Q Kᵀ / √d_k) V, tokens as rows."
    if given.get("mask") == "causal":
        text += " Use a causal mask: each token attends only to itself and earlier tokens."
    return text


LEVELS = {1: level_1, 2: level_2, 3: level_3}
