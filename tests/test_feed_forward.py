"""feed-forward: exact values against NumPy and PyTorch, published GELU values, misconceptions, CLI errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, registry
from derive.api import parse_options
from derive.model import run

TOPIC = registry.get("feed-forward")

# Independent scalar references, written from the formulas (not from derive.forward).
ACT = {
    "relu": lambda v: max(v, 0.0),
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "gelu-tanh": lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
    "swiglu": lambda v: v / (1 + math.exp(-v)),
}


def _floats(value) -> np.ndarray | None:
    return None if value is None else np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float)


def _run(raw):
    options = parse_options(TOPIC, raw)
    return options, run(TOPIC, TOPIC.prepare(options))


def _weights(options):
    x, w1, w2, w3 = (_floats(options[k]) for k in ("x", "w1", "w2", "w3"))
    b1 = np.zeros(w1.shape[1]) if options["b1"] is None else _floats(options["b1"])[0]
    b2 = np.zeros(w2.shape[1]) if options["b2"] is None else _floats(options["b2"])[0]
    return x, w1, b1, w2, b2, w3


@pytest.mark.parametrize("seed", range(12))
def test_exact_values_equal_an_independent_numpy_ffn(seed):
    options, derivation = _run(TOPIC.sample(np.random.default_rng(400 + seed)))
    x, w1, b1, w2, b2, w3 = _weights(options)
    kind = options["activation"]
    hidden = x @ w1 + b1
    activated = np.vectorize(ACT[kind])(hidden)
    if kind == "swiglu":
        activated = activated * (x @ w3)
    answers = derivation.answers
    np.testing.assert_allclose(_floats(answers["hidden"]), hidden, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["activated"]), activated, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(_floats(answers["output"]), activated @ w2 + b2, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["relu", "gelu", "gelu-tanh", "swiglu"])
@pytest.mark.parametrize("seed", range(3))
def test_the_ffn_equals_pytorch(kind, seed):
    torch = require("torch")
    functional = torch.nn.functional
    raw = {**TOPIC.sample(np.random.default_rng(500 + seed)), "activation": kind}
    rng = np.random.default_rng(600 + seed)
    d, f = (len(raw["w1"].split(";")), len(raw["w1"].split(";")[0].split()))
    raw["w3"] = "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, f)) for _ in range(d))
    if kind != "swiglu":
        del raw["w3"]
    options, derivation = _run(raw)
    x, w1, b1, w2, b2, w3 = (None if a is None else torch.tensor(a) for a in _weights(options))
    hidden = functional.linear(x, w1.T, b1)
    if kind == "relu":
        activated = functional.relu(hidden)
    elif kind == "gelu":
        activated = functional.gelu(hidden)
    elif kind == "gelu-tanh":
        activated = functional.gelu(hidden, approximate="tanh")
    else:
        activated = functional.silu(hidden) * (x @ w3)
    output = functional.linear(activated, w2.T, b2)
    np.testing.assert_allclose(
        _floats(derivation.answers["activated"]), activated.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(_floats(derivation.answers["output"]), output.numpy(), rtol=1e-10, atol=1e-12)


def test_gelu_matches_the_published_normal_cdf():
    # GELU(h) = h·Φ(h); Φ(1) = 0.8413447460685429 and Φ(-1) = 0.15865525393145707 (standard normal tables).
    answers = derive("feed-forward", x="1 -1", w1="1 0; 0 1", w2="1 0; 0 1", activation="gelu").answers
    gelu_1, gelu_minus_1 = answers["activated"]
    assert gelu_1 == sp.Rational(1, 2) * (1 + sp.erf(1 / sp.sqrt(2)))
    assert float(gelu_1) == pytest.approx(0.8413447460685429, rel=1e-15)
    assert float(gelu_minus_1) == pytest.approx(-0.15865525393145707, rel=1e-15)


def test_the_tanh_approximation_is_close_to_but_not_gelu():
    exact = derive("feed-forward", x="1 2", w1="1 0; 0 1", w2="1 0; 0 1", activation="gelu").answers
    approx = derive("feed-forward", x="1 2", w1="1 0; 0 1", w2="1 0; 0 1", activation="gelu-tanh").answers
    for e, a in zip(exact["activated"], approx["activated"]):
        assert e != a and abs(float(e) - float(a)) < 5e-4
    # 0.044715 stays exact: tanh(√(2/π)·(1 + 44715/10⁶)) for h = 1.
    argument = sp.sqrt(2 / sp.pi) * (1 + sp.Rational(44715, 10**6))
    assert sp.simplify(approx["activated"][0] - (1 + sp.tanh(argument)) / 2) == 0


def test_the_relu_example_by_hand():
    # x = (1, -1): x W_1 + b_1 with the example's W_1 and b_1, worked by hand column by column.
    answers = derive("feed-forward", example="relu").answers
    assert list(answers["hidden"].row(0)) == [1, -1, -1, 0, 1, 2, -1, -2]
    assert list(answers["activated"].row(0)) == [1, 0, 0, 0, 1, 2, 0, 0]
    # a W_2 = 1·(1, 0) + 1·(1, 0) + 2·(0, 0) = (2, 0); plus b_2 = (1, 0).
    assert list(answers["output"].row(0)) == [3, 0]


def test_swiglu_gates_swish_of_the_first_projection():
    # h = x W_1 = (1, 2, 4), g = x W_3 = (1, 2, -1), a = Swish(h)·g with Swish(z) = z/(1 + e^(-z)).
    answers = derive("feed-forward", example="swiglu").answers
    e = sp.E
    expected = [1 / (1 + e**-1), 4 / (1 + e**-2), -4 / (1 + e**-4)]
    assert all(sp.simplify(a - b) == 0 for a, b in zip(answers["activated"], expected))


@pytest.mark.parametrize(
    "kind,b1,b2,expected",
    [
        ("relu", None, None, 2 * 4 * 16),
        ("gelu", "0 " * 16, "1 1 1 1", 2 * 4 * 16 + 16 + 4),
        ("swiglu", None, None, 3 * 4 * 16),
    ],
)
def test_parameter_count(kind, b1, b2, expected):
    raw = {
        "x": "1 0 0 0",
        "w1": "; ".join(["1 " * 16] * 4),
        "w2": "; ".join(["1 0 0 0"] * 16),
        "activation": kind,
    }
    if kind == "swiglu":
        raw["w3"] = raw["w1"]
    if b1:
        raw["b1"] = b1
    if b2:
        raw["b2"] = b2
    assert _run(raw)[1].answers["parameters"] == expected


def test_the_explanation_covers_the_expansion():
    text = str(derive("feed-forward", example="relu"))
    assert "d_ff/d_model = 4" in text and "2099712" in text


# --- the checker -----------------------------------------------------------------------------------

GELU = {"x": "1 -1", "w1": "1 0 1 2; 0 1 1 1", "w2": "1 0; 0 1; 1 0; 0 1", "activation": "gelu"}
PHI1 = 0.8413447460685429


def test_correct_answers_fire_no_misconception():
    report = check.check(
        TOPIC,
        GELU,
        [
            "parameters=16",
            "hidden=1 -1 0 1",
            f"activated={PHI1:.4f} {PHI1 - 1:.4f} 0 {PHI1:.4f}",
            f"output={PHI1:.4f} {2 * PHI1 - 1:.4f}",
        ],
    )
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_relu_in_place_of_gelu_is_named():
    # Written to 4 decimals: a bare "1" would be read as 1 ± 0.5.
    relu = "activated=1.0000 0.0000 0.0000 1.0000"
    item = check.check(TOPIC, GELU, [relu]).item("activated")
    assert (item.verdict, item.mistake) == ("wrong", "relu-for-gelu")
    assert "GELU" in item.hint
    assert check.check(TOPIC, GELU, ["output=1.0000 1.0000"]).item("output").mistake == "relu-for-gelu"
    tanh = {**GELU, "activation": "gelu-tanh"}
    assert check.check(TOPIC, tanh, [relu]).item("activated").mistake == "relu-for-gelu"


def test_relu_is_not_a_mistake_when_the_activation_is_relu():
    assert check.check(TOPIC, {**GELU, "activation": "relu"}, ["activated=1 0 0 1"]).all_correct


def test_a_missing_gate_is_named():
    swish = [1 / (1 + math.exp(-1)), 2 / (1 + math.exp(-2)), 4 / (1 + math.exp(-4))]
    written = " ".join(f"{v:.4f}" for v in swish)
    item = check.check(TOPIC, {}, [f"activated={written}"], example="swiglu").item("activated")
    assert item.mistake == "no-gate"


def test_a_missing_bias_is_named():
    item = check.check(TOPIC, {}, ["hidden=1 -1 -2 1 1 1 -1 -2; 2 0 -2 4 0 2 2 -2"], example="relu").item(
        "hidden"
    )
    assert item.mistake == "no-bias"


def test_activations_of_a_wrong_hidden_layer_follow_through():
    # A hidden row (1, -1, 0, 2) instead of (1, -1, 0, 1): GELU(2) = 2·Φ(2) = 1.9545.
    phi2 = 0.5 * (1 + math.erf(2 / math.sqrt(2)))
    report = check.check(
        TOPIC, GELU, ["hidden=1 -1 0 2", f"activated={PHI1:.4f} {PHI1 - 1:.4f} 0 {2 * phi2:.4f}"]
    )
    assert report.item("hidden").verdict == "wrong"
    assert report.item("activated").verdict == "follows-through"


# --- command-line errors ---------------------------------------------------------------------------

BASE = ("--x", "1 2", "--w1", "1 0 1; 0 1 1", "--w2", "1 0; 0 1; 1 1")


def _error(cli, *args):
    code, out, err = cli("feed-forward", *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    return err


def test_the_base_options_run(cli):
    code, out, _ = cli("feed-forward", *BASE)
    assert code == 0 and "ReLU" in out


def test_mismatched_shapes_name_the_option(cli):
    assert "--w1" in _error(cli, "--x", "1 2 3", *BASE[2:])
    assert "--w2" in _error(cli, *BASE[:4], "--w2", "1 0; 0 1")
    assert "--w2" in _error(cli, *BASE[:4], "--w2", "1 0 0; 0 1 0; 1 1 0")
    assert "--b1" in _error(cli, *BASE, "--b1", "1 2")
    assert "--b2" in _error(cli, *BASE, "--b2", "1 2 3")


def test_the_gate_goes_with_swiglu_only(cli):
    assert "--w3" in _error(cli, *BASE, "--activation", "swiglu")
    assert "--w3" in _error(cli, *BASE, "--activation", "swiglu", "--w3", "1 0; 0 1")
    assert "--w3" in _error(cli, *BASE, "--w3", "1 0 1; 0 1 1")


def test_an_unknown_activation_names_it(cli):
    assert "--activation" in _error(cli, *BASE, "--activation", "tanh")


def test_a_hostile_string_names_w1(cli):
    assert "--w1" in _error(cli, "--x", "1 2", "--w1", "open('/etc/passwd').read()", "--w2", "1; 1")


def test_too_wide_a_hidden_layer_names_w1(cli):
    wide = "; ".join([" ".join(["1"] * 17)] * 2)
    assert "--w1" in _error(cli, "--x", "1 2", "--w1", wide, "--w2", "; ".join(["1 0"] * 17))
