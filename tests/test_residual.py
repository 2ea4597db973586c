"""residual: exact values against NumPy and PyTorch, a hand-worked example, the misconception, CLI errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, registry
from derive.api import parse_options
from derive.model import run

TOPIC = registry.get("residual")


def _floats(value) -> np.ndarray:
    return np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float)


def _run(raw):
    options = parse_options(TOPIC, raw)
    return options, run(TOPIC, TOPIC.prepare(options))


def _step(derivation, name):
    return next(s.value for s in derivation.steps if s.name == name)


@pytest.mark.parametrize("seed", range(10))
def test_exact_values_equal_numpy(seed):
    options, derivation = _run(TOPIC.sample(np.random.default_rng(300 + seed)))
    x = _floats(options["x"])
    if options["sublayer_output"] is not None:
        sub = _floats(options["sublayer_output"])
    else:
        sub = x @ _floats(options["w"])
        if options["b"] is not None:
            sub = sub + _floats(options["b"])[0]
    np.testing.assert_allclose(_floats(derivation.answers["sublayer"]), sub, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(derivation.answers["output"]), x + sub, rtol=1e-12, atol=1e-12)


def test_a_linear_sublayer_and_its_jacobian_equal_pytorch():
    torch = require("torch")
    raw = {"x": "1 2; 3 -1; 0 2", "w": "1 0 ; -1 1/2", "b": "0 1"}
    _, derivation = _run(raw)
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.0, 2.0]], dtype=torch.float64)
    w = torch.tensor([[1.0, 0.0], [-1.0, 0.5]], dtype=torch.float64)
    b = torch.tensor([0.0, 1.0], dtype=torch.float64)

    def block(t):
        return t + torch.nn.functional.linear(t, w.T, b)

    np.testing.assert_allclose(_floats(derivation.answers["output"]), block(x).numpy(), rtol=1e-14)
    # torch's Jacobian of one token is (out, in); ours is laid out like W, (in, out).
    jacobian = torch.autograd.functional.jacobian(block, x[0]).numpy()
    np.testing.assert_allclose(_floats(_step(derivation, "gradient")), jacobian.T, rtol=1e-14)


def test_the_hand_worked_linear_example_is_exact():
    # x W = [[1 - 2, 0 + 1], [3 + 1, 0 - 1/2]] = [[-1, 1], [4, -1/2]]; plus b = (0, 1) on every row.
    answers = derive("residual", x="1 2; 3 -1", w="1 0; -1 1/2", b="0 1").answers
    half = sp.Rational(1, 2)
    assert answers["sublayer"] == sp.Matrix([[-1, 2], [4, half]])
    assert answers["output"] == sp.Matrix([[0, 4], [7, -half]])


def test_a_given_sublayer_output_is_added():
    answers = derive("residual", x=[[1, 2], [0, -1]], sublayer_output="0.5 -1; 2 1").answers
    assert answers["output"] == sp.Matrix([[sp.Rational(3, 2), 1], [2, 0]])


def test_the_explanation_covers_gradients_initialisation_and_norm_placement():
    text = str(derive("residual", example="small-init"))
    assert "identity" in text and "Jacobian" in text
    assert "post-LN" in text and "pre-LN" in text
    # F(x) = x·diag(1/100, -1/50) = [[1/100, -1/25], [3/100, 1/50]]: the largest change is 1/25.
    assert "more than 1/25" in text


# --- the checker -----------------------------------------------------------------------------------

LINEAR = {"x": "1 2; 3 -1", "w": "1 0; -1 1/2", "b": "0 1"}


def test_correct_answers_fire_no_misconception():
    report = check.check(TOPIC, LINEAR, ["sublayer=-1 2; 4 0.5", "output=0 4; 7 -0.5"])
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_reporting_the_sublayer_output_is_no_residual():
    item = check.check(TOPIC, LINEAR, ["output=-1 2; 4 0.5"]).item("output")
    assert (item.verdict, item.mistake) == ("wrong", "no-residual")
    assert "x + F(x)" in item.hint


def test_an_output_from_a_wrong_sublayer_follows_through():
    report = check.check(TOPIC, LINEAR, ["sublayer=-1 1; 4 -0.5", "output=0 3; 7 -1.5"])
    assert report.item("sublayer").verdict == "wrong"
    assert report.item("output").verdict == "follows-through"


def test_an_unrelated_wrong_output_is_just_wrong():
    item = check.check(TOPIC, LINEAR, ["output=1 1; 1 1"]).item("output")
    assert (item.verdict, item.mistake) == ("wrong", None)


# --- command-line errors ---------------------------------------------------------------------------


def _error(cli, *args):
    code, out, err = cli("residual", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_a_sublayer_output_of_another_shape_names_it(cli):
    err = _error(cli, "--x", "1 2; 3 4", "--sublayer-output", "1 2 3; 4 5 6")
    assert "--sublayer-output" in err and "2×3" in err


def test_a_non_square_weight_names_w(cli):
    assert "--w" in _error(cli, "--x", "1 2; 3 4", "--w", "1 0 1; 0 1 0")


def test_a_bias_of_the_wrong_length_names_b(cli):
    assert "--b" in _error(cli, "--x", "1 2", "--w", "1 0; 0 1", "--b", "1 2 3")


def test_both_or_neither_sublayer_is_an_error(cli):
    assert "--w" in _error(cli, "--x", "1 2", "--w", "1 0; 0 1", "--sublayer-output", "1 1")
    assert "--sublayer-output" in _error(cli, "--x", "1 2")


def test_a_hostile_string_names_x(cli):
    assert "--x" in _error(cli, "--x", "().__class__.__bases__[0]", "--sublayer-output", "1")


def test_too_many_tokens_names_x(cli):
    rows = "; ".join(["1 2"] * 17)
    assert "--x" in _error(cli, "--x", rows, "--sublayer-output", rows)
