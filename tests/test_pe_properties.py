"""The pe-properties topic: both proofs checked symbolically and numerically here (independently of
the topic's own checks), the answers against NumPy, the misconceptions and the command line."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp

from derive import check, derive, forward, registry
from derive.topics.pe_properties import proofs

TOPIC = registry.get("pe-properties")
p, q, k = sp.symbols("p q k", integer=True)
omega = sp.Symbol("omega", positive=True)


def _matrix_text(m: sp.Matrix, digits: int = 20) -> str:
    return "; ".join(" ".join(str(sp.N(e, digits)) for e in m.row(r)) for r in range(m.rows))


# The proofs, done again here with plain SymPy.


def test_shift_is_a_rotation_symbolically():
    """[sin ω(p+k); cos ω(p+k)] = [[cos ωk, sin ωk], [−sin ωk, cos ωk]] [sin ωp; cos ωp] for all p, k, ω."""
    block = sp.Matrix([[sp.cos(omega * k), sp.sin(omega * k)], [-sp.sin(omega * k), sp.cos(omega * k)]])
    before = sp.Matrix([sp.sin(omega * p), sp.cos(omega * p)])
    after = sp.Matrix([sp.sin(omega * (p + k)), sp.cos(omega * (p + k))])
    difference = after.applyfunc(lambda e: sp.expand_trig(sp.expand(e))) - block * before
    assert difference.applyfunc(sp.simplify) == sp.zeros(2, 1)
    assert sp.simplify(block.T * block - sp.eye(2)) == sp.zeros(2, 2)
    assert sp.simplify(block.det()) == 1


def test_the_transposed_block_is_not_the_shift():
    block = sp.Matrix([[sp.cos(omega * k), -sp.sin(omega * k)], [sp.sin(omega * k), sp.cos(omega * k)]])
    before = sp.Matrix([sp.sin(omega * p), sp.cos(omega * p)])
    after = sp.Matrix([sp.sin(omega * (p + k)), sp.cos(omega * (p + k))])
    difference = (after - block * before).applyfunc(lambda e: sp.simplify(sp.expand_trig(sp.expand(e))))
    assert difference != sp.zeros(2, 1)
    assert sp.simplify(difference.subs({omega: 1, k: 1, p: 0})) != sp.zeros(2, 1)


def test_dot_product_is_a_cosine_of_the_difference_symbolically():
    term = sp.sin(omega * p) * sp.sin(omega * q) + sp.cos(omega * p) * sp.cos(omega * q)
    assert sp.simplify(sp.expand_trig(sp.expand(sp.cos(omega * (p - q)))) - term) == 0
    assert sp.simplify(sp.expand_trig(sp.expand(sp.cos(omega * (p + q)))) - term) != 0


@pytest.mark.parametrize("d", [2, 4, 6])
def test_whole_vector_identities_symbolically(d):
    """For concrete frequencies base^(−2i/d) and every position p, q (symbols)."""
    frequencies = [sp.Integer(10000) ** sp.Rational(-2 * n, d) for n in range(d // 2)]

    def pe(x):
        return sp.Matrix([f(w * x) for w in frequencies for f in (sp.sin, sp.cos)])

    shift = 3
    rotation = sp.diag(
        *[
            sp.Matrix([[sp.cos(w * shift), sp.sin(w * shift)], [-sp.sin(w * shift), sp.cos(w * shift)]])
            for w in frequencies
        ]
    )
    residual = (rotation * pe(p) - pe(p + shift)).applyfunc(lambda e: sp.simplify(sp.expand(e, trig=True)))
    assert residual == sp.zeros(d, 1)
    dot = (pe(p).T * pe(q))[0] - sum(sp.cos((p - q) * w) for w in frequencies)
    assert sp.simplify(sp.expand(dot, trig=True)) == 0


def test_the_topic_reports_zero_residuals():
    assert proofs.shift_residual() == sp.zeros(2, 1)
    assert proofs.dot_residual() == 0
    assert proofs.shift_residual([1, sp.Rational(1, 100)], 5) == sp.zeros(4, 1)


@pytest.mark.parametrize(
    "d,base,shift", [(2, 10000, 1), (4, 10000, 3), (8, 100, 7), (16, 10000, 40), (6, 1.5, 0)]
)
def test_identities_numerically(d, base, shift):
    pe = forward.sinusoidal_positional_encoding(64, d, base)  # (64, d)
    answers = derive("pe-properties", d_model=d, base=base, offset=shift).answers
    rotation = np.array(answers["rotation"].evalf(30).tolist(), dtype=float)  # (d, d)
    for position in range(64 - shift):
        np.testing.assert_allclose(rotation @ pe[position], pe[position + shift], atol=1e-12)
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(d), atol=1e-12)
    gram = pe @ pe.T  # (64, 64)
    for delta in range(-5, 6):
        diagonal = np.diagonal(gram, offset=delta)
        np.testing.assert_allclose(diagonal, diagonal[0], atol=1e-10)
    np.testing.assert_allclose(np.diagonal(gram), d / 2)


# Exact answers against NumPy, and by hand.


@pytest.mark.parametrize("example", TOPIC.examples)
def test_examples_against_numpy(example):
    options = dict(TOPIC.examples[example])
    d = int(options["d_model"])
    base = float(sp.Rational(options.get("base", "10000")))
    shift = int(options.get("offset", "1"))
    answers = derive("pe-properties", example=example).answers
    frequencies = base ** (-np.arange(0, d, 2) / d)
    np.testing.assert_allclose(np.array(answers["frequencies"].evalf(20), dtype=float).ravel(), frequencies)
    np.testing.assert_allclose(
        np.array(answers["wavelengths"].evalf(20), dtype=float).ravel(), 2 * np.pi / frequencies
    )
    pe = forward.sinusoidal_positional_encoding(4 + shift, d, base)
    rotation = np.array(answers["rotation"].evalf(20).tolist(), dtype=float)
    np.testing.assert_allclose(rotation @ pe[:4].T, pe[shift : shift + 4].T, atol=1e-12)
    np.testing.assert_allclose(
        np.array(answers["dot_products"].evalf(20).tolist(), dtype=float), pe[:4] @ pe[:4].T
    )


def test_small_example_by_hand():
    answers = derive("pe-properties", example="small").answers
    assert answers["frequencies"] == sp.Matrix([[1, sp.Rational(1, 100)]])
    assert answers["wavelengths"] == sp.Matrix([[2 * sp.pi, 200 * sp.pi]])
    c1, s1 = sp.cos(1), sp.sin(1)
    c2, s2 = sp.cos(sp.Rational(1, 100)), sp.sin(sp.Rational(1, 100))
    assert answers["rotation"] == sp.Matrix(
        [[c1, s1, 0, 0], [-s1, c1, 0, 0], [0, 0, c2, s2], [0, 0, -s2, c2]]
    )
    assert answers["dot_products"][0, 0] == 2
    assert answers["dot_products"][0, 1] == c1 + c2


def test_last_wavelength_at_d_model_16():
    answers = derive("pe-properties", d_model=16).answers
    last = float(answers["wavelengths"][0, -1])
    assert math.isclose(last, 2 * math.pi * 10000 ** (14 / 16))


# Misconceptions.


def _check(example, *given):
    return check.check(TOPIC, {}, list(given), example=example)


def test_wavelength_without_2pi_is_diagnosed():
    item = _check("small", "wavelengths=1 100").item("wavelengths")
    assert item.verdict == "wrong" and item.mistake == "wavelength-without-2pi"


def test_frequency_inverted_is_diagnosed():
    item = _check("small", "frequencies=1 100").item("frequencies")
    assert item.verdict == "wrong" and item.mistake == "frequency-inverted"


def test_rotation_transposed_is_diagnosed():
    correct = derive("pe-properties", example="shift3").answers["rotation"]
    item = _check("shift3", f"rotation={_matrix_text(correct.T, 6)}").item("rotation")
    assert item.verdict == "wrong" and item.mistake == "rotation-transposed"


def test_angle_sum_is_diagnosed():
    d = 4
    frequencies = 10000.0 ** (-np.arange(0, d, 2) / d)
    positions = np.arange(4)
    wrong = np.cos((positions[:, None] + positions[None, :])[..., None] * frequencies).sum(-1)
    text = "; ".join(" ".join(f"{x:.4f}" for x in row) for row in wrong)
    item = _check("small", f"dot_products={text}").item("dot_products")
    assert item.verdict == "wrong" and item.mistake == "angle-sum"


@pytest.mark.parametrize("example", TOPIC.examples)
def test_correct_answers_name_no_mistake(example):
    answers = derive("pe-properties", example=example).answers
    given = [f"{name}={_matrix_text(value, 8)}" for name, value in answers.items()]
    report = _check(example, *given)
    assert report.all_correct and all(item.mistake is None for item in report.items)


def test_wavelengths_follow_through_wrong_frequencies():
    report = _check("small", "frequencies=1 0.1000", f"wavelengths={2 * math.pi:.6f} {20 * math.pi:.5f}")
    assert report.item("frequencies").verdict == "wrong"
    assert report.item("wavelengths").verdict == "follows-through"


# Command line.


def test_cli_json(cli):
    code, out, err = cli("pe-properties", "--d-model", "4", "--offset", "2", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["result"] == "dot_products"
    assert set(data["answers"]) == {"frequencies", "wavelengths", "rotation", "dot_products"}
    assert np.shape(data["answers"]["rotation"]["value"]) == (4, 4)
    assert data["answers"]["rotation"]["exact"][0][0] == "cos(2)"


@pytest.mark.parametrize(
    "args,option",
    [
        (("--d-model", "3"), "--d-model"),
        (("--d-model", "0"), "--d-model"),
        (("--d-model", "18"), "--d-model"),
        (("--d-model", "four"), "--d-model"),
        (("--d-model", "4", "--base", "1"), "--base"),
        (("--d-model", "4", "--base", "__import__('os')"), "--base"),
        (("--d-model", "4", "--offset", "-1"), "--offset"),
        (("--d-model", "4", "--offset", "1.5"), "--offset"),
        ((), "--d-model"),
    ],
)
def test_cli_errors_name_the_option(cli, args, option):
    code, out, err = cli("pe-properties", *args)
    assert code == 2 and not out
    assert err.count("\n") == 1 and option in err and "Traceback" not in err
