"""dot-product: exact values against NumPy, hand-worked examples, misconceptions, CLI errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

from derive import check, derive, forward, registry
from derive.api import parse_options
from derive.model import run
from derive.render import render

TOPIC = registry.get("dot-product")


def _answers(a, b):
    return derive("dot-product", a=a, b=b).answers


def _floats(entries):
    return np.array([float(sp.N(e, 30)) for e in entries])


@pytest.mark.parametrize("seed", range(12))
def test_exact_values_equal_numpy_on_random_vectors(seed):
    rng = np.random.default_rng(seed)
    raw = TOPIC.sample(rng)
    options = parse_options(TOPIC, raw)
    answers = run(TOPIC, TOPIC.prepare(options)).answers
    a, b = _floats(options["a"]), _floats(options["b"])
    cosine = forward.cosine_similarity(a, b)
    expected = {
        "dot": float(np.dot(a, b)),
        "norm_a": float(np.linalg.norm(a)),
        "norm_b": float(np.linalg.norm(b)),
        "cosine": cosine,
        "angle": math.degrees(math.acos(max(-1.0, min(1.0, cosine)))),
    }
    for name, value in expected.items():
        # acos is ill-conditioned near ±1, so the angle gets a looser absolute tolerance.
        atol = 1e-6 if name == "angle" else 1e-12
        assert float(sp.N(answers[name], 30)) == pytest.approx(value, rel=1e-9, abs=atol), (name, raw)


def test_the_hand_worked_example_is_exact():
    answers = _answers("1 3", "2 -4")
    assert answers["dot"] == -10
    assert answers["norm_a"] == sp.sqrt(10)
    assert answers["norm_b"] == 2 * sp.sqrt(5)
    assert answers["cosine"] == -sp.sqrt(2) / 2
    assert answers["angle"] == 135


def test_nearly_parallel_vectors_have_a_small_acute_angle():
    answers = _answers([1, 2, 3], [4, 5, 6])
    cosine = 32 / math.sqrt(14 * 77)
    assert float(answers["cosine"]) == pytest.approx(cosine, rel=1e-12)
    assert float(sp.N(answers["angle"])) == pytest.approx(math.degrees(math.acos(cosine)), rel=1e-12)


@pytest.mark.parametrize(
    "a,b,cosine,angle,words",
    [
        ("1 2", "3 6", 1, 0, "same direction"),
        ("1 2 3", "3 0 -1", 0, 90, "orthogonal"),
        ("1 -2", "-3 6", -1, 180, "opposite directions"),
        ("sqrt(2) 1", "2 sqrt(2)", 1, 0, "same direction"),
    ],
)
def test_special_alignments_are_exact_and_named(a, b, cosine, angle, words):
    derivation = derive("dot-product", a=a, b=b)
    assert derivation.answers["cosine"] == cosine
    assert derivation.answers["angle"] == angle
    assert words in str(derivation)


def test_acute_and_obtuse_are_named():
    assert "acute" in str(derive("dot-product", a="1 2 3", b="4 5 6"))
    assert "obtuse" in str(derive("dot-product", a="1 3", b="2 -4"))


def test_the_substitution_step_stays_visible():
    text = render(derive("dot-product", a="1 3", b="2 -4"), "terminal", color=False, width=100)
    assert "a⋅b = 1⋅2 + 3⋅(-4) = 2 - 12 = -10" in text
    assert "√10" in text and "-√2" in text
    markdown = render(derive("dot-product", a="1 3", b="2 -4"), "markdown")
    assert "\\sqrt{1^{2} + 3^{2}} = \\sqrt{1 + 9} = \\sqrt{10}" in markdown


def test_every_example_runs():
    for name in TOPIC.examples:
        assert derive("dot-product", example=name).answers["cosine"] is not None


# --- the checker -------------------------------------------------------------------------------------

BASIC = {"a": "1 2 3", "b": "4 5 6"}
COSINE = 32 / math.sqrt(14 * 77)


def _item(answers, answer_id, options=BASIC):
    return check.check(TOPIC, options, answers).item(answer_id)


def test_correct_answers_fire_no_misconception():
    angle = math.degrees(math.acos(COSINE))
    answers = [
        "dot=32",
        f"norm_a={math.sqrt(14):.4f}",
        f"norm_b={math.sqrt(77):.4f}",
        f"cosine={COSINE:.4f}",
        f"angle={angle:.2f}",
    ]
    report = check.check(TOPIC, BASIC, answers)
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_unnormalised_cosine_is_named():
    item = _item(["cosine=32"], "cosine")
    assert (item.verdict, item.mistake) == ("wrong", "unnormalised-cosine")
    assert "length" in item.hint


def test_norm_without_square_root_is_named():
    assert _item(["norm_a=14"], "norm_a").mistake == "norm-without-sqrt"
    assert _item(["norm_b=77"], "norm_b").mistake == "norm-without-sqrt"


def test_angle_in_radians_is_named():
    item = _item([f"angle={math.acos(COSINE):.4f}"], "angle")
    assert item.mistake == "radians"


def test_a_cosine_from_a_wrong_norm_follows_through():
    wrong = 32 / (14 * math.sqrt(77))
    report = check.check(TOPIC, BASIC, ["norm_a=14", f"cosine={wrong:.4f}"])
    assert report.item("norm_a").mistake == "norm-without-sqrt"
    assert report.item("cosine").verdict == "follows-through"


def test_an_unrelated_wrong_cosine_is_just_wrong():
    item = _item(["cosine=0.5"], "cosine")
    assert (item.verdict, item.mistake) == ("wrong", None)


# --- command-line errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,option,words",
    [
        (["--a", "1 2 3", "--b", "1 2"], "--b", "same length"),
        (["--a", "0 0", "--b", "1 2"], "--a", "zero vector"),
        (["--a", "1 2", "--b", "0 0.0"], "--b", "zero vector"),
        (["--a", "__import__('os').system('id')", "--b", "1"], "--a", ""),
        (["--a", "1 2", "--b", "__import__('os').system('id')"], "--b", ""),
        (["--a", " ".join(["1"] * 17), "--b", " ".join(["1"] * 17)], "--a", "too large"),
        (["--a", "1 2"], "--b", "required"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option, words):
    code, out, err = cli("dot-product", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0]
    assert "Traceback" not in err


def test_the_limit_itself_is_allowed(cli):
    code, out, err = cli("dot-product", "--a", " ".join(["1"] * 16), "--b", " ".join(["2"] * 16))
    assert code == 0, err
    assert "exactly 0 degrees" in out


def test_a_tiny_vector_is_not_mistaken_for_zero():
    answers = _answers("1e-30 0", "1 1")
    assert answers["norm_a"] == sp.Rational(1, 10**30)
    assert answers["angle"] == 45
