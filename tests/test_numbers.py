"""derive.numbers: the cached, exponential-once evaluation and the exact strings agree with SymPy's own."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.api import derive
from derive.numbers import evaluated, to_exact, to_float


def _attention(seed: int, tokens: int = 5):
    rng = np.random.default_rng(seed)

    def matrix(rows, cols):
        return "; ".join(" ".join(str(int(e)) for e in rng.integers(-3, 4, cols)) for _ in range(rows))

    return derive("attention", x=matrix(tokens, 3), wq=matrix(3, 3), wk=matrix(3, 3), wv=matrix(3, 2))


def test_evaluated_agrees_with_sympy_n_to_25_digits():
    d = _attention(1)
    for name in ("weights", "output"):
        for entry in d.answers[name]:
            ours, theirs = evaluated(entry, 30), sp.N(entry, 40)
            assert abs(ours - theirs) <= sp.Float(10) ** -25 * max(1, abs(theirs)), (name, entry)


def test_evaluated_leaves_symbols_alone():
    x = sp.Symbol("x")
    assert evaluated(sp.exp(x) + sp.exp(2), 10).has(x)


def test_floats_and_exact_strings_are_sympys():
    d = _attention(2)
    for name in ("weights", "output", "scaled"):
        value = d.answers[name]
        assert to_exact(value) == [[str(e) for e in row] for row in value.tolist()]
        expected = [[float(sp.N(e, 30)) for e in row] for row in value.tolist()]
        np.testing.assert_allclose(to_float(value), expected, rtol=1e-15, atol=0)
