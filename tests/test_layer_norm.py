"""layer-norm: exact values against NumPy and PyTorch, a hand-worked example, misconceptions, CLI errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, forward, registry
from derive.api import parse_options
from derive.model import run

TOPIC = registry.get("layer-norm")


def _floats(value) -> np.ndarray:
    return np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float)


def _run(raw):
    options = parse_options(TOPIC, raw)
    derivation = run(TOPIC, TOPIC.prepare(options))
    return options, derivation


def _step(derivation, name):
    return next(s.value for s in derivation.steps if s.name == name)


def _population(seed):
    """A random problem under the default convention (the topic's sampler also draws --variance sample)."""
    return {**TOPIC.sample(np.random.default_rng(seed)), "variance": "population"}


def _inputs(options):
    x = _floats(options["x"])
    gamma = np.ones(x.shape[1]) if options["gamma"] is None else _floats(options["gamma"])[0]
    beta = np.zeros(x.shape[1]) if options["beta"] is None else _floats(options["beta"])[0]
    return x, gamma, beta, float(options["eps"])


@pytest.mark.parametrize("seed", range(10))
def test_exact_values_equal_an_independent_numpy_layer_norm(seed):
    options, derivation = _run(_population(100 + seed))
    x, gamma, beta, eps = _inputs(options)
    mean = x.sum(axis=1, keepdims=True) / x.shape[1]
    variance = ((x - mean) ** 2).sum(axis=1, keepdims=True) / x.shape[1]
    normalized = (x - mean) / np.sqrt(variance + eps)
    answers = derivation.answers
    np.testing.assert_allclose(_floats(answers["mean"]), mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["variance"]), variance, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["normalized"]), normalized, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["output"]), normalized * gamma + beta, rtol=1e-10, atol=1e-12)
    rms = forward.rms_norm(x, gamma, eps)
    np.testing.assert_allclose(_floats(_step(derivation, "rms_norm")), rms, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_layer_norm_and_rms_norm_equal_pytorch(seed):
    torch = require("torch")
    functional = torch.nn.functional
    options, derivation = _run(_population(200 + seed))
    x, gamma, beta, eps = _inputs(options)
    tx, tg, tb = (torch.tensor(a, dtype=torch.float64) for a in (x, gamma, beta))
    expected = functional.layer_norm(tx, (x.shape[1],), tg, tb, eps).numpy()
    np.testing.assert_allclose(_floats(derivation.answers["output"]), expected, rtol=1e-10, atol=1e-12)
    variance = torch.var(tx, dim=1, unbiased=False, keepdim=True).numpy()
    np.testing.assert_allclose(_floats(derivation.answers["variance"]), variance, rtol=1e-12, atol=1e-12)
    rms = functional.rms_norm(tx, (x.shape[1],), tg, eps).numpy()
    np.testing.assert_allclose(_floats(_step(derivation, "rms_norm")), rms, rtol=1e-10, atol=1e-12)


def test_the_hand_worked_example_is_exact():
    # x = (1, 2, 3): mean 2, deviations (-1, 0, 1), variance (1 + 0 + 1)/3 = 2/3, and
    # x-hat = ±1/sqrt(2/3) = ±sqrt(3/2) = ±sqrt(6)/2.
    answers = derive("layer-norm", x="1 2 3", eps="0").answers
    assert answers["mean"] == sp.Matrix([[2]])
    assert answers["variance"] == sp.Matrix([[sp.Rational(2, 3)]])
    root = sp.sqrt(6) / 2
    assert answers["normalized"] == sp.Matrix([[-root, 0, root]])
    assert answers["output"] == answers["normalized"]


def test_gamma_and_beta_scale_and_shift_each_feature():
    # Row (2, 4, 6, 8): mean 5, variance (9 + 1 + 1 + 9)/4 = 5, x-hat = (-3, -1, 1, 3)/sqrt(5).
    answers = derive("layer-norm", x="2 4 6 8", gamma="1 2 1 3", beta="0 0 1 0", eps=0).answers
    s5 = sp.sqrt(5)
    assert answers["output"] == sp.Matrix([[-3 / s5, -2 / s5, 1 + 1 / s5, 9 / s5]])


def test_epsilon_is_kept_exact():
    answers = derive("layer-norm", x="1 2 3").answers
    spread = sp.Rational(2, 3) + sp.Rational(1, 100000)
    assert sp.simplify(answers["normalized"][0, 2] - 1 / sp.sqrt(spread)) == 0
    assert float(answers["normalized"][0, 2]) == pytest.approx(1 / math.sqrt(2 / 3 + 1e-5), rel=1e-14)


def test_a_constant_row_normalises_to_zero_with_epsilon():
    answers = derive("layer-norm", x="1 2 3; 4 4 4").answers
    assert list(answers["normalized"].row(1)) == [0, 0, 0]
    assert "0/0" in str(derive("layer-norm", x="1 2 3; 4 4 4"))


def test_a_single_constant_row_and_a_single_feature_work():
    assert derive("layer-norm", x="4 4").answers["output"] == sp.Matrix([[0, 0]])
    derivation = derive("layer-norm", x="5; -1")
    assert derivation.answers["normalized"] == sp.zeros(2, 1)
    assert "Check:" not in str(derivation)


def test_the_variance_step_says_why_it_divides_by_d():
    text = " ".join(str(derive("layer-norm", x="1 2 3", eps=0)).split())
    assert "Bessel" in text and "population variance" in text


def test_rms_norm_contrast_is_shown_but_not_graded():
    derivation = derive("layer-norm", x="1 2 3", eps=0)
    assert "rms_norm" not in derivation.answers
    # RMS(1, 2, 3) = sqrt(14/3), so the first entry is 1/sqrt(14/3) = sqrt(42)/14.
    assert _step(derivation, "rms_norm")[0, 0] == sp.sqrt(42) / 14


# --- the checker -----------------------------------------------------------------------------------

BASIC = {"x": "1 2 3", "eps": "0"}
ROOT = math.sqrt(1.5)


def _item(answers, answer_id, options=BASIC):
    return check.check(TOPIC, options, answers).item(answer_id)


def test_correct_answers_fire_no_misconception():
    report = check.check(
        TOPIC,
        BASIC,
        [
            "mean=2",
            "variance=0.6667",
            f"normalized={-ROOT:.4f} 0 {ROOT:.4f}",
            f"output={-ROOT:.4f} 0 {ROOT:.4f}",
        ],
    )
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_sample_variance_is_named_at_every_stage():
    # Dividing by d - 1 = 2: variance 1, so x-hat = (-1, 0, 1).
    assert _item(["variance=1.0000"], "variance").mistake == "sample-variance"
    assert _item(["normalized=-1.0000 0.0000 1.0000"], "normalized").mistake == "sample-variance"
    item = _item(["output=-1.0000 0.0000 1.0000"], "output")
    assert (item.verdict, item.mistake) == ("wrong", "sample-variance")
    assert "d - 1" in item.hint


def test_forgetting_the_square_root_is_named():
    # (x - 2)/(2/3) = (-1.5, 0, 1.5)
    assert _item(["normalized=-1.5000 0.0000 1.5000"], "normalized").mistake == "no-sqrt"


def test_skipping_the_centring_is_named():
    # x / sqrt(2/3) = (1, 2, 3)·sqrt(1.5)
    written = " ".join(f"{v * ROOT:.4f}" for v in (1, 2, 3))
    assert _item([f"normalized={written}"], "normalized").mistake == "no-centering"


def test_rms_norm_in_place_of_layer_norm_is_named():
    rms = math.sqrt(14 / 3)
    written = " ".join(f"{v / rms:.4f}" for v in (1, 2, 3))
    assert _item([f"normalized={written}"], "normalized").mistake == "rms-for-layer-norm"


def test_leaving_out_gamma_and_beta_is_named():
    options = {"x": "1 2 3", "gamma": "2 2 2", "beta": "1 1 1", "eps": "0"}
    item = _item([f"output={-ROOT:.4f} 0.0000 {ROOT:.4f}"], "output", options)
    assert item.mistake == "no-affine"


def test_a_variance_from_a_wrong_mean_follows_through():
    # With a mean of 3: ((1-3)² + (2-3)² + (3-3)²)/3 = 5/3.
    report = check.check(TOPIC, BASIC, ["mean=3", "variance=1.6667"])
    assert report.item("mean").verdict == "wrong"
    assert report.item("variance").verdict == "follows-through"
    assert not report.all_correct


def test_a_normalised_row_from_a_wrong_variance_follows_through():
    # With a variance of 4: (x - 2)/2 = (-0.5, 0, 0.5).
    report = check.check(TOPIC, BASIC, ["variance=4", "normalized=-0.5000 0.0000 0.5000"])
    assert report.item("variance").verdict == "wrong"
    assert report.item("normalized").verdict == "follows-through"


def test_an_unrelated_wrong_answer_is_just_wrong():
    item = _item(["normalized=0.3000 0.3000 0.3000"], "normalized")
    assert (item.verdict, item.mistake) == ("wrong", None)


# --- command-line errors ---------------------------------------------------------------------------


def _error(cli, *args):
    code, out, err = cli("layer-norm", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_a_constant_row_with_epsilon_zero_names_eps(cli):
    err = _error(cli, "--x", "1 2 3; 5 5 5", "--eps", "0")
    assert "--eps" in err and "row 2" in err and "constant" in err


def test_gamma_of_the_wrong_length_names_gamma(cli):
    assert "--gamma" in _error(cli, "--x", "1 2 3", "--gamma", "1 2")
    assert "--beta" in _error(cli, "--x", "1 2 3", "--beta", "1 2 3 4")


def test_a_negative_epsilon_names_eps(cli):
    assert "--eps" in _error(cli, "--x", "1 2 3", "--eps", "-1")


def test_a_hostile_string_names_x(cli):
    assert "--x" in _error(cli, "--x", "__import__('os').system('true')")


def test_too_many_features_names_x(cli):
    assert "--x" in _error(cli, "--x", " ".join(["1", "2"] * 9))


def test_the_cli_prints_the_solution(cli):
    code, out, _ = cli("layer-norm", "--x", "1 2 3", "--eps", "0")
    assert code == 0 and "Bessel" in out and "RMSNorm" in out


# --- --variance sample: the Annotated Transformer's (x - mean)/(std + eps) -------------------------


def _sample_inputs(seed):
    raw = {**TOPIC.sample(np.random.default_rng(500 + seed)), "variance": "sample"}
    return _run(raw)


@pytest.mark.parametrize("seed", range(8))
def test_sample_variance_equals_numpy_by_hand_and_torch_std_unbiased(seed):
    torch = require("torch")
    options, derivation = _sample_inputs(seed)
    x, gamma, beta, eps = _inputs(options)
    n = x.shape[1]
    mean = x.sum(axis=1, keepdims=True) / n
    variance = ((x - mean) ** 2).sum(axis=1, keepdims=True) / (n - 1)
    normalized = (x - mean) / (np.sqrt(variance) + eps)
    answers = derivation.answers
    np.testing.assert_allclose(_floats(answers["variance"]), variance, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["normalized"]), normalized, rtol=1e-10, atol=1e-12)
    # The Annotated Transformer's LayerNorm.forward, in torch: a_2 * (x - mean) / (std + eps) + b_2.
    tx, tg, tb = (torch.tensor(a, dtype=torch.float64) for a in (x, gamma, beta))
    std = torch.std(tx, dim=-1, unbiased=True, keepdim=True)
    expected = tg * (tx - tx.mean(-1, keepdim=True)) / (std + eps) + tb
    np.testing.assert_allclose(_floats(answers["output"]), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_the_two_conventions_differ_by_the_square_root_of_d_over_d_minus_1():
    population = derive("layer-norm", x="1 2 3 6", eps="0").answers["normalized"]
    sample = derive("layer-norm", x="1 2 3 6", eps="0", variance="sample").answers["normalized"]
    ratios = [float(p / s) for p, s in zip(population, sample) if s != 0]
    assert ratios == pytest.approx([math.sqrt(4 / 3)] * 3, rel=1e-14)


def test_sample_convention_is_named_with_both_formulas():
    d = derive("layer-norm", example="annotated")
    assert d.params["variance"] == "sample"
    text = " ".join(str(d).split())
    assert "Convention (--variance sample)" in text and "Annotated Transformer" in text
    assert "nn.LayerNorm" in text and "≈ 1.1547" in text  # √(4/3)
    assert "Convention (--variance population, the default)" in " ".join(
        str(derive("layer-norm", x="1 2")).split()
    )


def test_sample_convention_misconceptions():
    options = {"x": "1 2 3 6", "eps": "1/10", "variance": "sample"}
    truth = derive("layer-norm", **options).answers
    x = np.array([[1.0, 2, 3, 6]])
    deviations = x - 3
    population = (deviations**2).mean()
    written = " ".join(f"{v:.6f}" for v in [population])
    assert _item([f"variance={written}"], "variance", options).mistake == "population-variance"
    inside = deviations / np.sqrt(float(truth["variance"][0, 0]) + 0.1)
    item = _item(["normalized=" + " ".join(f"{v:.6f}" for v in inside[0])], "normalized", options)
    assert item.mistake == "eps-inside-root"
    by_d = deviations / (np.sqrt(population) + 0.1)
    item = _item(["normalized=" + " ".join(f"{v:.6f}" for v in by_d[0])], "normalized", options)
    assert item.mistake == "population-variance"
    sample_var = (deviations**2).sum() / 3
    default = {"x": "1 2 3 6", "eps": "1/10"}
    assert _item([f"variance={sample_var:.6f}"], "variance", default).mistake == "sample-variance"


def test_sample_convention_needs_two_features(cli):
    code, out, err = cli("layer-norm", "--x", "1; 2", "--variance", "sample")
    assert code == 2 and out == "" and err.startswith("Error: --variance") and err.count("\n") == 1
