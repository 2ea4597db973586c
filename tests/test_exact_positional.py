"""derive.exact.positional and derive.exact.vectors against NumPy on random inputs.

Where derive.forward has a twin (the sinusoidal table, the cosine) the test compares with it;
elsewhere with an independent NumPy expression written here (RoPE as complex multiplication,
the shift as a property of the NumPy table), never with a copy of the exact code.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive import forward
from derive.exact import positional, vectors

SEEDS = range(8)
BASES = [10000, 100, 10, sp.Rational(3, 2)]


def _floats(value):
    if isinstance(value, sp.MatrixBase):
        return np.array(value.evalf(30).tolist(), dtype=float)
    return float(sp.N(value, 30))


def _random_vector(rng, size, zero_ok=True):
    while True:
        entries = [
            sp.Rational(int(n), int(d)) for n, d in zip(rng.integers(-9, 10, size), rng.integers(1, 4, size))
        ]
        if zero_ok or any(entries):
            return sp.Matrix([entries])


def _shape(rng):
    return int(rng.integers(1, 7)), 2 * int(rng.integers(1, 5)), BASES[int(rng.integers(0, len(BASES)))]


@pytest.mark.parametrize("seed", SEEDS)
def test_sinusoidal_table_equals_the_numpy_twin(seed):
    positions, d, base = _shape(np.random.default_rng(seed))
    exact = positional.sinusoidal_positional_encoding(positions, d, base)
    expected = forward.sinusoidal_positional_encoding(positions, d, float(base))
    np.testing.assert_allclose(_floats(exact), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_concatenated_layout_puts_all_sines_first(seed):
    positions, d, base = _shape(np.random.default_rng(seed))
    exact = positional.sinusoidal_positional_encoding(positions, d, base, layout="concatenated")
    # The framework tutorial's formula: angle rates 1 / base^(j / (d/2)), sines then cosines.
    depths = np.arange(d // 2)[None, :] / (d // 2)  # (1, d/2)
    angle_rads = np.arange(positions)[:, None] / float(base) ** depths  # (P, d/2)
    expected = np.concatenate([np.sin(angle_rads), np.cos(angle_rads)], axis=-1)  # (P, d)
    np.testing.assert_allclose(_floats(exact), expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_divisors_frequencies_and_angles(seed):
    positions, d, base = _shape(np.random.default_rng(seed))
    b = float(base)
    np.testing.assert_allclose(
        _floats(positional.divisors(d, base))[0], [b ** (2 * i / d) for i in range(d // 2)]
    )
    np.testing.assert_allclose(
        _floats(positional.frequencies(d, base))[0], [b ** (-2 * i / d) for i in range(d // 2)]
    )
    expected = np.outer(np.arange(positions), np.power(b, -2 * np.arange(d // 2) / d))  # (P, d/2)
    np.testing.assert_allclose(
        _floats(positional.angles(positions, d, base)), expected, rtol=1e-13, atol=1e-15
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_sinusoidal_vector_is_a_row_of_the_table(seed):
    positions, d, base = _shape(np.random.default_rng(seed))
    row = positional.sinusoidal_vector(positions - 1, positional.frequencies(d, base))
    table = forward.sinusoidal_positional_encoding(positions, d, float(base))
    np.testing.assert_allclose(_floats(row)[0], table[-1], rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("seed", SEEDS)
def test_shift_matrix_moves_the_numpy_encoding_on(seed):
    rng = np.random.default_rng(seed)
    _, d, base = _shape(rng)
    p, k = int(rng.integers(0, 6)), int(rng.integers(0, 6))
    M = _floats(positional.shift_matrix(positional.frequencies(d, base), k))
    table = forward.sinusoidal_positional_encoding(p + k + 1, d, float(base))
    np.testing.assert_allclose(M @ table[p], table[p + k], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_rotation_is_counter_clockwise(seed):
    angle = sp.Rational(int(np.random.default_rng(seed).integers(-20, 21)), 7)
    a = float(angle)
    expected = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    np.testing.assert_allclose(_floats(positional.rotation(angle)), expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_rope_equals_complex_multiplication(seed):
    """Each pair (x_2i, x_2i+1) as x_2i + j·x_2i+1, times e^(j·m·θ_i) (Meta's LLaMA code)."""
    rng = np.random.default_rng(seed)
    d, base, m = 2 * int(rng.integers(1, 5)), BASES[int(rng.integers(0, 3))], int(rng.integers(0, 50))
    x = _random_vector(rng, d)
    thetas = positional.frequencies(d, base)
    xf = _floats(x)[0]
    pairs = (xf[0::2] + 1j * xf[1::2]) * np.exp(1j * m * float(base) ** (-np.arange(0, d, 2) / d))
    expected = np.stack([pairs.real, pairs.imag], axis=-1).reshape(-1)  # (d,)
    np.testing.assert_allclose(_floats(positional.rope(x, m, thetas))[0], expected, rtol=1e-12, atol=1e-12)
    R = _floats(positional.rope_rotation(list(thetas), m))
    np.testing.assert_allclose(R.T @ R, np.eye(d), atol=1e-12)


def test_an_unknown_layout_is_not_silently_interleaved():
    with pytest.raises(ValueError):
        positional.sinusoidal_positional_encoding(2, 4, layout="stacked")


# --- vectors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_dot_norm_cosine_and_angle(seed):
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 7))
    a, b = _random_vector(rng, size, zero_ok=False), _random_vector(rng, size, zero_ok=False)
    fa, fb = _floats(a)[0], _floats(b)[0]
    assert _floats(vectors.dot(a, b)) == pytest.approx(float(np.dot(fa, fb)), abs=1e-12)
    assert _floats(vectors.sum_of_squares(a)) == pytest.approx(float(fa @ fa), rel=1e-13)
    assert _floats(vectors.norm(a)) == pytest.approx(float(np.linalg.norm(fa)), rel=1e-13)
    cosine = vectors.cosine_similarity(a, b)
    assert _floats(cosine) == pytest.approx(forward.cosine_similarity(fa, fb), rel=1e-12, abs=1e-13)
    degrees = np.degrees(np.arccos(np.clip(forward.cosine_similarity(fa, fb), -1, 1)))
    assert _floats(vectors.angle_degrees(cosine)) == pytest.approx(degrees, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_distances_gram_and_combinations(seed):
    rng = np.random.default_rng(seed)
    n, size = int(rng.integers(2, 5)), int(rng.integers(1, 6))
    rows = [_random_vector(rng, size) for _ in range(n)]
    W = sp.Matrix.vstack(*rows)
    F = _floats(W)
    np.testing.assert_allclose(_floats(vectors.gram(W)), F @ F.T, rtol=1e-13, atol=1e-13)
    assert _floats(vectors.distance(rows[0], rows[1])) == pytest.approx(float(np.linalg.norm(F[0] - F[1])))
    assert _floats(vectors.squared_distance(rows[0], rows[1])) == pytest.approx(
        float(np.sum((F[0] - F[1]) ** 2))
    )
    signs = [int(s) for s in rng.choice([-1, 1], n)]
    total = vectors.combine(zip(signs, rows))
    np.testing.assert_allclose(_floats(total)[0], np.sum(np.array(signs)[:, None] * F, axis=0), atol=1e-13)


def test_lengths_must_match():
    with pytest.raises(ValueError):
        vectors.dot([1, 2], [1, 2, 3])
