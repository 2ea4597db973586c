"""For the test suite: random inputs of a layer, and derive.forward's blocks with the same weights."""

from __future__ import annotations

from derive.exact import precision


def random_matrix(rng, rows: int, cols: int) -> str:
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


def sample_shared(rng, n: int, names) -> dict:
    """Random inputs for a layer of n tokens: d_model 2 or 4 and a head count that divides it."""
    d_model, d_ff = int(rng.choice([2, 4])), int(rng.choice([2, 4]))
    while True:
        x = rng.integers(-2, 3, (n, d_model))
        if all(len(set(row)) > 1 for row in x.tolist()):
            break
    raw = {
        "x": "; ".join(" ".join(str(int(e)) for e in row) for row in x),
        "heads": str(int(rng.choice([1, 2]))),
        "w1": random_matrix(rng, d_model, d_ff),
        "w2": random_matrix(rng, d_ff, d_model),
        "activation": str(rng.choice(["relu", "gelu"])),
        "norm": str(rng.choice(["post", "pre"])),
        "eps": str(rng.choice(["1e-5", "1/10"])),
    }
    raw.update({name: random_matrix(rng, d_model, d_model) for name in names})
    if rng.random() < 0.5:
        raw.update(b1=random_matrix(rng, 1, d_ff), b2=random_matrix(rng, 1, d_model))
    return raw


def floats(matrix):
    return None if matrix is None else precision.floats(matrix)


def forward_parts(values):
    """derive.forward's blocks with these weights: no attention biases, γ = 1 and β = 0."""
    import numpy as np

    from derive import forward

    w1, b1, w2, b2, activation = values["ffn_weights"]
    feed = forward.FeedForward(floats(w1), b1 and floats(b1)[0], floats(w2), b2 and floats(b2)[0], activation)
    d_model = values["x"].cols
    norm = forward.Norm(np.ones(d_model), np.zeros(d_model), float(values["eps"]))
    return feed, norm, values["norm"] == "pre"


def mha(values, key: str):
    from derive import forward

    return forward.MultiHeadAttention(*(floats(w) for w in values[key]), values["heads"])
