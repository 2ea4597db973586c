"""rope: exact values against NumPy and complex numbers, the relative-position identity, misconceptions, CLI."""

from __future__ import annotations

import cmath

import numpy as np
import pytest
import sympy as sp

from derive import check, derive, registry
from derive.api import parse_options
from derive.exact import positional
from derive.model import run
from derive.topics.rope import relative

TOPIC = registry.get("rope")


def _floats(value):
    return np.array([float(sp.N(e, 30)) for e in value])


def _complex_rope(x, pos, base):
    """Independent RoPE: pair (x_2i, x_2i+1) as the complex number x_2i + i·x_2i+1, times e^(i·pos·θ_i)."""
    d = len(x)
    out = []
    for k in range(d // 2):
        theta = base ** (-2 * k / d)
        z = complex(x[2 * k], x[2 * k + 1]) * cmath.exp(1j * pos * theta)
        out += [z.real, z.imag]
    return np.array(out)


def _answers(raw):
    options = parse_options(TOPIC, raw)
    return options, run(TOPIC, TOPIC.prepare(options)).answers


@pytest.mark.parametrize("seed", range(10))
def test_exact_rotation_equals_complex_multiplication(seed):
    raw = TOPIC.sample(np.random.default_rng(100 + seed))
    options, answers = _answers(raw)
    q, k, v = (_floats(options[name]) for name in ("q", "k", "v"))
    base = float(options["base"])
    q_m = _complex_rope(q, options["m"], base)
    k_n = _complex_rope(k, options["n"], base)
    np.testing.assert_allclose(_floats(answers["q_rotated"]), q_m, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["k_rotated"]), k_n, rtol=1e-12, atol=1e-12)
    assert float(sp.N(answers["score"], 30)) == pytest.approx(float(q_m @ k_n), rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(_floats(answers["v_out"]), v)


@pytest.mark.parametrize("seed", range(5))
def test_exact_values_equal_numpy_reference(seed):
    raw = TOPIC.sample(np.random.default_rng(seed))
    options, answers = _answers(raw)
    for name, expected in TOPIC.reference(options).items():
        got = (
            _floats(answers[name]) if isinstance(answers[name], sp.MatrixBase) else float(sp.N(answers[name]))
        )
        np.testing.assert_allclose(np.reshape(got, np.shape(expected)), expected, rtol=1e-10, atol=1e-12)


def test_relative_identity_is_proved_symbolically():
    product, target, difference = relative.relative_identity()
    assert difference == sp.zeros(2, 2)
    assert sp.simplify(product - target) == sp.zeros(2, 2)
    # and it is a real identity, not a coincidence of the printed form: compare at random angles
    for a, b in [(0.3, 1.7), (-2.0, 5.5)]:
        values = {relative.ALPHA: a, relative.BETA: b}
        assert np.allclose(
            np.array(product.subs(values).evalf(), dtype=float),
            np.array(target.subs(values).evalf(), dtype=float),
        )


def test_block_diagonal_rotations_compose_to_the_difference():
    m, n = sp.symbols("m n", integer=True)
    angles = [sp.Integer(1), sp.Rational(1, 100)]
    composed = positional.rope_rotation(angles, m).T * positional.rope_rotation(angles, n)
    assert sp.trigsimp(composed - positional.rope_rotation(angles, n - m)) == sp.zeros(4, 4)


@pytest.mark.parametrize("shift", [0, 1, 7, 100])
def test_score_depends_only_on_the_offset(shift):
    base = {"q": "1 0 2 1", "k": "0 1 1 2", "base": "10000"}
    _, reference = _answers({**base, "m": "2", "n": "5"})
    _, shifted = _answers({**base, "m": str(2 + shift), "n": str(5 + shift)})
    assert sp.simplify(shifted["score"] - reference["score"]) == 0
    q, k = np.array([1.0, 0, 2, 1]), np.array([0.0, 1, 1, 2])
    numeric = _complex_rope(q, 2 + shift, 10000) @ _complex_rope(k, 5 + shift, 10000)
    assert float(sp.N(reference["score"], 30)) == pytest.approx(numeric, rel=1e-12)


def test_the_pair_example_has_the_hand_computed_score():
    # q = 1 + 2i turned by 1 rad, k = 3 - i turned by 3 rad: Re(conj(q_m)·k_n) = Re((1 - 2i)(3 - i)e^{2i})
    # = Re((1 - 7i)(cos 2 + i sin 2)) = cos 2 + 7 sin 2.
    answers = derive("rope", example="pair").answers
    assert sp.simplify(answers["score"] - (sp.cos(2) + 7 * sp.sin(2))) == 0
    assert answers["angles"] == sp.Matrix([[1]])


def test_angles_for_base_10000_and_d_4():
    answers = derive("rope", q="1 0 2 1", k="0 1 1 2", m=2, n=5).answers
    assert answers["angles"] == sp.Matrix([[1, sp.Rational(1, 100)]])


def test_values_are_never_rotated_and_default_to_k():
    answers = derive("rope", example="four").answers
    assert answers["v_out"] == sp.Matrix([[1, 2, 3, 4]])
    assert derive("rope", example="pair").answers["v_out"] == sp.Matrix([[3, -1]])


def test_position_zero_is_the_identity():
    answers = derive("rope", q="1 2 3 4", k="1 1 1 1", m=0, n=0).answers
    assert answers["q_rotated"] == sp.Matrix([[1, 2, 3, 4]])
    assert answers["score"] == 10


# --- the checker -------------------------------------------------------------------------------------

FOUR = {"q": "1 0 2 0", "k": "0 1 1 1", "m": "2", "n": "5", "v": "1 2 3 4"}
Q4, K4 = np.array([1.0, 0, 2, 0]), np.array([0.0, 1, 1, 1])  # unrotated q·k = 2


def _text(values):
    return " ".join(f"{x:.6f}" for x in values)


def test_correct_answers_fire_no_misconception():
    q_m = _complex_rope(Q4, 2, 10000)
    k_n = _complex_rope(K4, 5, 10000)
    answers = [
        "angles=1 0.01",
        f"q_rotated={_text(q_m)}",
        f"k_rotated={_text(k_n)}",
        f"score={q_m @ k_n:.6f}",
        "v_out=1 2 3 4",
    ]
    report = check.check(TOPIC, FOUR, answers)
    assert report.all_correct, [(i.id, i.verdict) for i in report.items]
    assert all(item.mistake is None for item in report.items)


def test_rotated_values_is_named():
    rotated = _complex_rope(np.array([1.0, 2, 3, 4]), 5, 10000)
    item = check.check(TOPIC, FOUR, [f"v_out={_text(rotated)}"]).item("v_out")
    assert (item.verdict, item.mistake) == ("wrong", "rotated-values")
    assert "unchanged" in item.hint


def test_unrotated_score_and_positive_exponent_are_named():
    report = check.check(TOPIC, FOUR, ["angles=1 100", "score=2.000"])
    assert report.item("angles").mistake == "positive-exponent"
    assert report.item("score").mistake == "unrotated"


def test_clockwise_rotation_is_named():
    clockwise = _complex_rope(Q4, -2, 10000)
    item = check.check(TOPIC, FOUR, [f"q_rotated={_text(clockwise)}"]).item("q_rotated")
    assert item.mistake == "clockwise"


def test_a_score_from_a_wrong_rotation_follows_through():
    q_wrong = _complex_rope(Q4, -2, 10000)
    k_n = _complex_rope(K4, 5, 10000)
    report = check.check(TOPIC, FOUR, [f"q_rotated={_text(q_wrong)}", f"score={q_wrong @ k_n:.6f}"])
    assert report.item("score").verdict == "follows-through"


# --- command-line errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,option,words",
    [
        (["--q", "1 2 3", "--k", "1 2 3", "--m", "0", "--n", "1"], "--q", "even"),
        (["--q", "1 2", "--k", "1 2 3 4", "--m", "0", "--n", "1"], "--k", "same length"),
        (["--q", "1 2", "--k", "1 2", "--m", "0", "--n", "1", "--v", "1"], "--v", "same length"),
        (["--q", "1 2", "--k", "1 2", "--m", "-1", "--n", "1"], "--m", "whole number"),
        (["--q", "1 2", "--k", "1 2", "--m", "0", "--n", "x"], "--n", "whole number"),
        (["--q", "1 2", "--k", "1 2", "--m", "0", "--n", "1", "--base", "1"], "--base", "greater than 1"),
        (["--q", " ".join(["1"] * 10), "--k", "1", "--m", "0", "--n", "1"], "--q", "at most"),
        (["--q", "1 2", "--k", "1 2", "--m", "0"], "--n", "required"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option, words):
    code, out, err = cli("rope", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0], err
