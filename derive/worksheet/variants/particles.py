"""Tokens as particles on the sphere: only the first Euler step is asked. Level 1 two tokens on the
unit circle with rational coordinates (3/5, 4/5, ...), β = 1 and a whole step h = 1, so a table of
e^⟨x_i, x_j⟩ and one square root per token are all it takes; level 2 three tokens on the circle with
β = 1/2 or 1; level 3 three tokens on the unit sphere in 3-D with β up to 2 (calculator work). The
step is large (h = 1, or 0.5 at level 3) because the renormalisation moves a token by about
h²|v|²/2: with h = 1/4 forgetting it changed no answer at 2 decimals.

``final`` and ``clusters`` are refused at every level: they come from a float64 simulation of
hundreds of Euler steps, which no one works by hand or with a calculator.
"""

from __future__ import annotations

import sympy as sp

CIRCLE = (
    "1 0",
    "0 1",
    "-1 0",
    "0 -1",
    "3/5 4/5",
    "-4/5 3/5",
    "4/5 -3/5",
    "-3/5 -4/5",
    "5/13 12/13",
    "-12/13 5/13",
)
SPHERE = (
    "1 0 0",
    "0 1 0",
    "0 0 1",
    "2/3 2/3 1/3",
    "-2/3 1/3 2/3",
    "1/3 -2/3 2/3",
    "3/7 6/7 -2/7",
    "-6/7 2/7 3/7",
)
MAX_WEIGHT = 0.95


def _tokens(rng, points, count: int) -> str:
    return "; ".join(rng.sample(points, count))


def level_1(rng):
    return {"x": _tokens(rng, CIRCLE, 2), "beta": "1", "dt": "1"}


def level_2(rng):
    return {"x": _tokens(rng, CIRCLE, 3), "beta": rng.choice(["1/2", "1"]), "dt": "1"}


def level_3(rng):
    return {
        "x": _tokens(rng, SPHERE, 3),
        "beta": rng.choice(["1/2", "1", "2"]),
        "dt": rng.choice(["0.5", "1"]),
    }


def suitable(values, level):
    """No two tokens opposite or equal (a token would not move), no weight near 1."""
    gram = values.x * values.x.T
    apart = all(abs(gram[i, j]) != 1 for i in range(gram.rows) for j in range(i + 1, gram.cols))
    return apart and max(float(w) for w in values.weights) < MAX_WEIGHT


def refuse(answer, level):
    if answer in ("final", "clusters"):
        return "it comes from a simulation of hundreds of Euler steps; ask step1"
    return None


SYMBOLS = {"x": sp.Symbol("X"), "beta": sp.Symbol("beta"), "dt": sp.Symbol("h")}


def task(given):
    return (
        "The tokens (rows of X) move on the unit sphere as self-attention with Q = K = V = I makes them: "
        "weights softmax_j(β⟨x_i, x_j⟩), attention output a_i = Σ_j w_ij x_j, velocity a_i − ⟨x_i, a_i⟩ x_i. "
        "Take one Euler step of size h and divide each token by its length."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
