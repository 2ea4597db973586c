"""Softmax: properties (hypothesis), PyTorch agreement, and the overflow example."""

from __future__ import annotations

import numpy as np
import sympy as sp
from conftest import require
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import derive, forward

small_ints = st.lists(st.integers(-6, 6), min_size=1, max_size=5)


@settings(max_examples=25, deadline=None)
@given(small_ints, st.integers(-20, 20))
def test_exact_rows_sum_to_one_and_shifting_changes_nothing(values, shift):
    base = derive("softmax", x=values).answers["softmax"]
    shifted = derive("softmax", x=[v + shift for v in values]).answers["softmax"]
    assert sp.simplify(sum(base) - 1) == 0
    assert all(sp.simplify(a - b) == 0 for a, b in zip(base, shifted))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30), st.floats(-1e6, 1e6))
def test_numpy_softmax_is_a_distribution_and_shift_invariant(values, shift):
    p = forward.softmax(np.array(values))
    assert np.all(p >= 0) and np.isclose(p.sum(), 1.0)
    np.testing.assert_allclose(forward.softmax(np.array(values) + shift), p, atol=1e-6)


def test_overflow_inputs_match_the_issue_and_stay_finite():
    p = derive("softmax", x="1000 1001 1002").answers["softmax"]
    assert [round(float(v), 4) for v in p] == [0.0900, 0.2447, 0.6652]
    assert np.all(np.isfinite(forward.softmax(np.array([1000.0, 1001.0, 1002.0]))))


def test_exact_and_numpy_agree_with_pytorch():
    torch = require("torch")
    x = np.random.default_rng(3).integers(-5, 6, size=(4, 6))
    for temperature in (1, 2, sp.Rational(1, 3)):
        exact = derive("softmax", x=x.tolist(), temperature=temperature).answers["softmax"]
        ours = np.array(exact.evalf(20).tolist(), dtype=float)
        theirs = torch.softmax(torch.tensor(x, dtype=torch.float64) / float(temperature), dim=-1).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
        np.testing.assert_allclose(forward.softmax(x, temperature=float(temperature)), theirs, rtol=1e-12)
