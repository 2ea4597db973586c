"""derive.exact.precision: the working precision and the 50-digit fallback, checked by hand-made cases
and against NumPy (the exact products and sums agree with float64 ones, whichever path they take)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from derive.exact import precision


def _nodes(expr) -> int:
    """The size of an expression tree, counted independently of preorder_traversal."""
    return 1 + sum(_nodes(a) for a in expr.args)


def _long_sum(terms: int) -> sp.Expr:
    return sp.Add(*[sp.exp(sp.Rational(k, 7)) for k in range(1, terms + 1)])


def test_floats_turns_an_exact_matrix_into_float64():
    m = sp.Matrix([[sp.Rational(1, 3), sp.sqrt(2)], [sp.exp(1), -4]])
    got = precision.floats(m)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, [[1 / 3, np.sqrt(2)], [np.e, -4]], rtol=1e-15)


def test_nodes_over_agrees_with_an_independent_node_count():
    for terms in (1, 3, 10, 40):
        entry = _long_sum(terms)
        size = _nodes(entry)
        assert precision.nodes_over(entry, size - 2)  # the limit counts the nodes below the root
        assert not precision.nodes_over(entry, size - 1)


def test_chop_turns_rounding_noise_into_zero_and_keeps_everything_else():
    noise = sp.N(sp.sqrt(2), precision.DIGITS) ** 2 - 2
    assert noise != 0 and precision.chop(noise) == 0
    kept = [sp.Float("1e-30", precision.DIGITS), sp.Rational(1, 10**60), sp.sqrt(3)]
    assert [precision.chop(k) for k in kept] == kept
    assert precision.chop(sp.Matrix([[noise, 1]])) == sp.Matrix([[0, 1]])


def test_numeric_carries_every_entry_to_digits():
    m = precision.numeric(sp.Matrix([[sp.pi, sp.Rational(1, 3)]]))
    assert all(e.is_Float and e._prec >= 160 for e in m)  # 50 digits are about 166 bits
    assert abs(m[0] - sp.pi).evalf(60) < sp.Float(10) ** -48


def test_settle_keeps_small_exact_matrices_and_carries_long_ones():
    small = sp.Matrix([[sp.sqrt(2), sp.Rational(1, 3)]])
    assert precision.settle(small) == small
    long = sp.Matrix([[_long_sum(120), 1]])
    settled = precision.settle(long)
    assert settled[0].is_Float and settled[1].is_Float and float(settled[1]) == 1  # all entries, not one
    expected = sum(np.exp(k / 7) for k in range(1, 121))
    np.testing.assert_allclose(float(settled[0]), expected, rtol=1e-14)


def test_matmul_is_exact_when_small_and_agrees_with_numpy_when_carried():
    rng = np.random.default_rng(0)
    a = sp.Matrix(2, 3, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), int(rng.integers(1, 4))))
    b = sp.Matrix(3, 2, lambda i, j: sp.Rational(int(rng.integers(-4, 5)), 3))
    assert precision.matmul(a, b) == a * b
    deep = sp.Matrix(1, 40, lambda i, j: sp.exp(sp.Rational(j, 5)) / (1 + sp.sqrt(j + 2)))
    ones = sp.ones(40, 1)
    carried = precision.matmul(deep, ones)
    assert carried[0].is_Float
    expected = precision.floats(deep) @ np.ones((40, 1))
    np.testing.assert_allclose(float(carried[0]), expected[0, 0], rtol=1e-14)
