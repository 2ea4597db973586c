"""Letters as inputs: symbols from the parser's whitelist, derivations that stay symbolic, and
symbolic answers to ``derive check``.

Every symbolic answer is checked by substituting random numbers for the symbols and comparing
with the numeric derivation of the same topic, which is itself checked against NumPy elsewhere;
here the numeric side is also computed by hand with NumPy.
"""

from __future__ import annotations

import json
import random
import re

import numpy as np
import pytest
import sympy as sp

from derive import api, parse
from derive.errors import InputError

SYMBOLIC_TOPICS = {
    "softmax": {"x": "a b c; x_1 0 beta"},
    "attention": {"q": "q_1 q_2; q_3 q_4", "k": "k_1 k_2; k_3 k_4", "v": "v_1 v_2; v_3 v_4"},
    "dot-product": {"a": "a_1 a_2 a_3", "b": "b_1 b_2 b_3"},
    "residual": {"x": "x_1 x_2; x_3 x_4", "w": "w_11 w_12; w_21 w_22", "b": "b_1 b_2"},
    "layer-norm": {"x": "a b c; x_1 0 beta", "gamma": "g_1 g_2 g_3", "eps": "0"},
    "rope": {"q": "q_1 q_2 q_3 q_4", "k": "k_1 k_2 k_3 k_4", "m": "1", "n": "3"},
    "feed-forward": {
        "x": "a b; 1 c",
        "w1": "w_11 0 1; 0 w_22 -1",
        "b1": "b_1 0 b_3",
        "w2": "1 0; 0 v_2; 1 1",
        "b2": "c_1 c_2",
    },
    "cross-entropy": {"logits": "a b c; 1 z_2 0", "target": "2 1"},
    "softmax-jacobian": {"x": "a b c"},
    "optimizer-step": {"params": "theta_1 theta_2", "grad": "g_1 g_2", "m": "m_1 0", "weight_decay": "0.1"},
    "layer-norm-backward": {"x": "1 2 4", "grad_output": "a b c", "eps": "0"},
    "attention-backward": {"q": "1; -2", "k": "3; 1", "v": "v_1; v_2", "grad_output": "g_1; g_2"},
    # Letters in Q and K: the steps are written in named intermediates (s_ij, Z_i, a_ij, D_i, dS_ij).
    "attention-backward:qk": {
        "q": "q_1 q_2; q_3 q_4",
        "k": "k_1 k_2; k_3 k_4",
        "v": "v_1 v_2; v_3 v_4",
        "grad_output": "g_1 g_2; g_3 g_4",
    },
    # Letters in x: the steps are written in named intermediates (mu, sigma, s, xhat, gbar, rho).
    "layer-norm-backward:x": {"x": "a b c", "grad_output": "1 0 -1", "eps": "0"},
    "layer-norm-backward:rows": {
        "x": "a b c; x_1 0 beta",
        "grad_output": "1 0 0; d_2 1 -1",
        "gamma": "1 2 1",
        "eps": "1/100000",
    },
    "attention-backward:causal": {
        "q": "a; b; c",
        "k": "1; x; 2",
        "v": "1 0; 0 1; 1 1",
        "grad_output": "1 0; 0 1; -1 1",
        "mask": "causal",
    },
}
# Topics whose example keeps some inputs numeric, so their numeric parts may show ≈ decimals:
# RoPE's angles, and the backward passes' forward quantities from numeric Q, K or x.
NUMERIC_PARTS = {"rope", "layer-norm-backward", "attention-backward", "optimizer-step"}
LETTERS_IN_EXPONENTS = {"attention-backward:qk", "attention-backward:causal"}
FORMATS = ["terminal", "markdown", "latex", "typst", "html", "json"]


def _topic(case: str) -> str:
    """``attention-backward:qk`` is a second case of the topic ``attention-backward``."""
    return case.partition(":")[0]


def _strict(text: str):
    def refuse(constant):
        raise ValueError(constant)

    return json.loads(text, parse_constant=refuse)


def _substituted(raw: dict, seed: int, integers: bool = False) -> tuple[dict, dict]:
    """The raw options with every symbol replaced by a small random fraction (or integer, where the
    letters sit in exponents: the exact numeric run of e^(fractions) is slow), and the values used."""
    rng = random.Random(seed)
    names: dict[str, str] = {}
    out = {}
    for option, text in raw.items():
        entries = []
        for row in text.split(";"):
            cells = []
            for cell in row.split():
                if re.fullmatch(r"-?[\d./]+(e-?\d+)?", cell) or option == "mask":
                    cells.append(cell)
                else:
                    drawn = (
                        str(rng.randint(-2, 2))
                        if integers
                        else f"{rng.randint(-30, 30)}/{rng.randint(5, 12)}"
                    )
                    names.setdefault(cell, drawn)
                    cells.append(names[cell])
            entries.append(" ".join(cells))
        out[option] = "; ".join(entries)
    return out, {sp.Symbol(k, real=True): sp.Rational(v) for k, v in names.items()}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("a", sp.Symbol("a", real=True)),
        ("x_1", sp.Symbol("x_1", real=True)),
        ("w_12", sp.Symbol("w_12", real=True)),
        ("s_ij", sp.Symbol("s_ij", real=True)),
        ("alpha", sp.Symbol("alpha", real=True)),
        ("Omega_2", sp.Symbol("Omega_2", real=True)),
        ("2*a - 1/3", 2 * sp.Symbol("a", real=True) - sp.Rational(1, 3)),
        ("exp(b)", sp.exp(sp.Symbol("b", real=True))),
        ("e", sp.E),
        ("pi", sp.pi),
    ],
)
def test_whitelisted_symbols_are_real(text, expected):
    value = parse.parse_scalar(text, "--x", symbols=True)
    assert value == expected
    assert all(s.is_real for s in value.free_symbols)


@pytest.mark.parametrize(
    "text", ["lambda", "foo", "x_1234", "exp", "sqrt", "a**b", "__import__", "x.real", "a(1)", "1e1001*a"]
)
def test_names_outside_the_whitelist_are_refused(text):
    with pytest.raises(InputError, match="^--x: "):
        parse.parse_scalar(text, "--x", symbols=True)


def test_numeric_options_refuse_symbols(cli):
    code, out, err = cli("softmax", "--x", "1 2", "--temperature", "t")
    assert code == 2 and err.startswith("Error: --temperature: 't': this option takes numbers")
    code, out, err = cli("optimizer-step", "--params", "1 2", "--grad", "1 1", "--lr", "0.1", "--v", "a 0")
    assert code == 2 and "--v" in err and len(err.strip().splitlines()) == 1


def test_mixed_letters_and_numbers():
    d = api.derive("softmax", x="a 0 1")
    a = sp.Symbol("a", real=True)
    total = sp.exp(a) + 1 + sp.E
    assert sp.simplify(
        d.answers["softmax"] - sp.Matrix([[sp.exp(a) / total, 1 / total, sp.E / total]])
    ) == sp.zeros(1, 3)


def test_softmax_of_letters_is_the_general_formula():
    d = api.derive("softmax", x="a b c")
    a, b, c = sp.symbols("a b c", real=True)
    expected = [sp.exp(s) / (sp.exp(a) + sp.exp(b) + sp.exp(c)) for s in (a, b, c)]
    assert [sp.simplify(g - e) for g, e in zip(d.answers["softmax"], expected)] == [0, 0, 0]
    document = _strict(api_json(d))
    answer = document["answers"]["softmax"]
    assert answer["value"] == [None, None, None]
    assert answer["exact"][0] == "exp(a)/(exp(a) + exp(b) + exp(c))"
    assert "symbolic" in answer["value_note"]


def api_json(derivation) -> str:
    from derive.render import render

    return render(derivation, "json")


@pytest.mark.parametrize("case", sorted(SYMBOLIC_TOPICS))
@pytest.mark.parametrize("seed", range(3))
def test_symbolic_answers_agree_with_the_numeric_derivation(case, seed):
    raw = SYMBOLIC_TOPICS[case]
    symbolic = api.derive(_topic(case), **raw)
    numeric_raw, values = _substituted(raw, seed, integers=case in LETTERS_IN_EXPONENTS)
    numeric = api.derive(_topic(case), **numeric_raw)
    for name, exact in symbolic.answers.items():
        if not isinstance(exact, (sp.Basic, sp.MatrixBase)):
            continue
        evaluated = sp.N(exact.subs(values), 30)
        substituted = np.array(evaluated.tolist() if hasattr(evaluated, "tolist") else evaluated, dtype=float)
        np.testing.assert_allclose(
            substituted.ravel(), np.ravel(numeric.values[name]), rtol=1e-12, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize("seed", range(3))
def test_symbolic_softmax_against_numpy(seed):
    raw, values = _substituted({"x": "a b c"}, seed)
    d = api.derive("softmax", x="a b c")
    x = np.array([float(values[sp.Symbol(n, real=True)]) for n in "abc"])
    reference = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    got = np.array(sp.N(d.answers["softmax"].subs(values), 30).tolist(), dtype=float).ravel()
    np.testing.assert_allclose(got, reference, rtol=1e-13)


def test_symbolic_attention_against_numpy():
    raw = SYMBOLIC_TOPICS["attention"]
    numeric_raw, values = _substituted(raw, 7)
    q, k, v = (
        np.array([[float(sp.Rational(c)) for c in row.split()] for row in numeric_raw[n].split(";")])
        for n in "qkv"
    )
    scores = q @ k.T / np.sqrt(q.shape[1])
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    d = api.derive("attention", **raw)
    got = np.array(sp.N(d.answers["output"].subs(values), 30).tolist(), dtype=float)
    np.testing.assert_allclose(got, weights @ v, rtol=1e-12)


@pytest.mark.parametrize("case", sorted(SYMBOLIC_TOPICS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_a_symbolic_derivation(cli, case, fmt):
    args = [f"--{k.replace('_', '-')}={v}" for k, v in SYMBOLIC_TOPICS[case].items()]
    code, out, err = cli(_topic(case), *args, "-f", fmt)
    assert code == 0, err
    assert out
    if case not in NUMERIC_PARTS:
        assert "≈" not in out.replace("≈ decimals", "")
    if fmt == "json":
        _strict(out)
    if fmt == "terminal":  # letters cannot fall back to decimals: the forms themselves must fit
        assert max(map(len, out.splitlines())) <= 80
    if case == "attention":
        assert not re.search(r"\d\.\d\\?%", out) and "attends most to" not in out


def test_symbolic_attention_has_no_heatmap(tmp_path, cli):
    target = tmp_path / "a.md"
    args = [f"--{k}={v}" for k, v in SYMBOLIC_TOPICS["attention"].items()]
    assert cli("attention", *args, "-o", str(target))[0] == 0
    assert not (tmp_path / "a-figures").exists() or not any((tmp_path / "a-figures").iterdir())


@pytest.mark.parametrize(
    "answer,verdict",
    [
        ("softmax=exp(a)/(exp(a)+exp(b)) exp(b)/(exp(a)+exp(b))", 0),
        ("softmax=1/(1+exp(b-a)) 1/(1+exp(a-b))", 0),
        ("softmax=exp(a)/(exp(a)+exp(b)) exp(a)/(exp(a)+exp(b))", 1),
        ("sum=exp(b) + exp(a)", 0),
        ("softmax=a/(a+b) b/(a+b)", 1),
    ],
)
def test_check_compares_symbolic_answers_symbolically(cli, answer, verdict):
    code, out, err = cli("check", "softmax", "--x", "a b", "--answer", answer)
    assert code == verdict, out + err


def test_check_names_the_misconception_of_a_symbolic_answer(cli):
    code, out, _ = cli("check", "softmax", "--x", "a b", "--answer", "softmax=a/(a+b) b/(a+b)")
    assert code == 1 and "no-exp" in out


def test_symbolic_answers_to_a_numeric_problem_are_refused(cli):
    code, out, err = cli("check", "softmax", "--x", "1 2", "--answer", "softmax=a b")
    assert code == 2 and "not symbols" in err


# Letters in every matrix of the feed-forward network, for each activation; SwiGLU's gate too.
FFN_LETTERS = {"x": "a b; 1 c", "w1": "w_11 0 1; 0 w_22 -1", "b1": "b_1 0 b_3", "w2": "1 0; 0 v_2; 1 1"}
FFN_LETTERS_B2 = "c_1 c_2"
FFN_GATE = "1 0 g; 0 1 0"


def _ffn_by_hand(raw: dict, activation: str) -> np.ndarray:
    """FFN(x) = act(x W1 + b1) W2 + b2 in NumPy, written out from the definitions."""
    from math import erf, pi, sqrt, tanh

    def grid(text):
        return np.array([[float(sp.Rational(c)) for c in row.split()] for row in text.split(";")])

    x, w1, w2 = grid(raw["x"]), grid(raw["w1"]), grid(raw["w2"])
    h = x @ w1 + grid(raw["b1"])
    if activation == "gelu":
        act = np.vectorize(lambda t: t * 0.5 * (1 + erf(t / sqrt(2))))(h)
    elif activation == "gelu-tanh":
        act = np.vectorize(lambda t: 0.5 * t * (1 + tanh(sqrt(2 / pi) * (t + 0.044715 * t**3))))(h)
    else:
        act = h / (1 + np.exp(-h)) * (x @ grid(raw["w3"]))
    return act @ w2 + grid(raw["b2"])


def _ffn_raw(activation: str) -> dict:
    raw = dict(FFN_LETTERS, b2=FFN_LETTERS_B2, activation=activation)
    if activation == "swiglu":
        raw["w3"] = FFN_GATE
    return raw


@pytest.mark.parametrize("activation", ["gelu", "gelu-tanh", "swiglu"])
@pytest.mark.parametrize("seed", range(2))
def test_feed_forward_with_letters_everywhere_against_numpy(activation, seed):
    raw = _ffn_raw(activation)
    letters = {k: v for k, v in raw.items() if k != "activation"}
    numeric_raw, values = _substituted(letters, seed)
    got = api.derive("feed-forward", **raw).answers["output"]
    assert got.free_symbols
    evaluated = np.array(sp.N(got.subs(values), 30).tolist(), dtype=float)
    np.testing.assert_allclose(evaluated, _ffn_by_hand(numeric_raw, activation), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu-tanh", "swiglu"])
def test_feed_forward_letters_print_the_bias_as_a_row(cli, activation):
    """The broadcast bias is the row b₁ repeated, never a ones-column times it (1⋅b₁)."""
    args = [f"--{k}={v}" for k, v in _ffn_raw(activation).items()]
    code, out, err = cli("feed-forward", *args)
    assert code == 0, err
    assert "1⋅b" not in out and "1⋅c" not in out and "Max(" not in out and " 1 columns" not in out
    assert max(map(len, out.splitlines())) <= 80
    code, latex, _ = cli("feed-forward", *args, "-f", "latex")
    assert code == 0 and "1 \\cdot b_{1}" not in latex
    code, out, _ = cli("feed-forward", *args, "-f", "json")
    document = _strict(out)
    assert document["answers"]["output"]["value"] == [[None, None], [None, None]]
    assert "c_1" in document["answers"]["output"]["exact"][0][0]


@pytest.mark.parametrize(("x", "name"), [("1 2", "a"), ("a b", "u"), ("a u; r 1", "a₁")])
def test_feed_forward_names_the_activated_matrix_apart_from_the_input_letters(cli, x, name):
    code, out, err = cli("feed-forward", "--x", x, "--w1", "1 0; 0 1", "--w2", "1 0; 0 1")
    assert code == 0, err
    assert f"    {name} = ReLU(h) = " in out and f"= {name}⋅W₂" in out


# --- named intermediates: attention-backward with letters in Q and K -------------------------------

NAMES = re.compile(r"\b(?:s|a|Z|D|dS)_\d")


def test_named_intermediates_are_shown_and_the_answers_stay_in_the_input_letters(cli):
    raw = SYMBOLIC_TOPICS["attention-backward:qk"]
    args = [f"--{k.replace('_', '-')}={v}" for k, v in raw.items()]
    code, out, _ = cli("attention-backward", *args)
    assert code == 0
    for shown in ("Z₁ = ℯ", "a₁₁", "D₁ = a₁₁⋅(g₁⋅v₁ + g₂⋅v₂)", "dS₁₁⋅k₁"):
        assert shown in out
    document = _strict(cli("attention-backward", *args, "-f", "json")[1])
    for name, answer in document["answers"].items():
        exact = json.dumps(answer["exact"])
        assert not NAMES.search(exact), name
        assert set(_leaves(answer["value"])) == {None}, name
    assert "exp(" in json.dumps(document["answers"]["dK"]["exact"])


def _leaves(value):
    return [leaf for item in value for leaf in _leaves(item)] if isinstance(value, list) else [value]


def test_symbolic_attention_backward_against_numpy_by_hand():
    """dQ and dK in letters, with random fractions substituted, against the chain rule done by hand."""
    raw = SYMBOLIC_TOPICS["attention-backward:qk"]
    numeric_raw, values = _substituted(raw, 11)
    q, k, v, g = (
        np.array([[float(sp.Rational(c)) for c in row.split()] for row in numeric_raw[n].split(";")])
        for n in ("q", "k", "v", "grad_output")
    )
    s = q @ k.T / np.sqrt(q.shape[1])
    a = np.exp(s - s.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    da = g @ v.T
    ds = a * (da - (a * da).sum(axis=1, keepdims=True))
    d = api.derive("attention-backward", **raw)
    for name, expected in (("dQ", ds @ k / np.sqrt(2)), ("dK", ds.T @ q / np.sqrt(2)), ("dV", a.T @ g)):
        got = np.array(sp.N(d.answers[name].subs(values), 30).tolist(), dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=name)


QK = ["--q", "q_1; q_2", "--k", "k_1; k_2", "--v", "v_1; v_2", "--grad-output", "g_1; g_2"]


@pytest.mark.parametrize(
    "answer,verdict",
    [
        ("weights=a_11 a_12; a_21 a_22", 0),
        ("weights=exp(s_11)/Z_1 exp(s_12)/Z_1; exp(s_21)/Z_2 exp(s_22)/Z_2", 0),
        ("weights=exp(k_1*q_1)/(exp(k_1*q_1)+exp(k_2*q_1)) 1/(1+exp(k_1*q_1-k_2*q_1)); a_21 a_22", 0),
        ("weights=a_12 a_11; a_21 a_22", 1),
        ("dscores=a_11*(g_1*v_1-D_1) a_12*(g_1*v_2-D_1); a_21*(g_2*v_1-D_2) a_22*(g_2*v_2-D_2)", 0),
        ("dscores=a_11*g_1*v_1 a_12*g_1*v_2; a_21*g_2*v_1 a_22*g_2*v_2", 1),
        ("dQ=dS_11*k_1+dS_12*k_2; dS_21*k_1+dS_22*k_2", 0),
        ("dQ=dS_11*k_1+dS_12*k_2; dS_21*k_1-dS_22*k_2", 1),
        ("dK=dS_11*q_1+dS_21*q_2; dS_12*q_1+dS_22*q_2", 0),
        ("dV=a_11*g_1+a_21*g_2; a_12*g_1+a_22*g_2", 0),
    ],
)
def test_check_accepts_answers_in_the_named_intermediates(cli, answer, verdict):
    code, out, err = cli("check", "attention-backward", *QK, "--answer", answer)
    assert code == verdict, out + err


def test_check_names_a_misconception_written_in_the_names(cli):
    code, out, _ = cli(
        "check", "attention-backward", *QK, "--answer", "dK=dS_11*q_1+dS_12*q_2; dS_21*q_1+dS_22*q_2"
    )
    assert code == 1 and "scores-not-transposed" in out


def test_an_input_letter_may_not_be_a_defined_name(cli):
    code, out, err = cli(
        "attention-backward", "--q", "a_11; 1", "--k", "1; 2", "--v", "1; 0", "--grad-output", "1; 0"
    )
    assert code == 2 and not out and err.startswith("Error: --q: 'a_11' is a name this derivation defines")
    assert len(err.strip().splitlines()) == 1


# --- named intermediates: layer-norm-backward with letters in x -----------------------------------

LN = ["--x", "a b c", "--grad-output", "1 0 0", "--eps", "0"]


def test_symbolic_layer_norm_backward_against_numpy_by_hand():
    """dx and dgamma in letters, with random fractions substituted, against the formulas by hand."""
    raw = SYMBOLIC_TOPICS["layer-norm-backward:rows"]
    numeric_raw, values = _substituted(raw, 5)
    x, dy = (
        np.array([[float(sp.Rational(c)) for c in row.split()] for row in numeric_raw[n].split(";")])
        for n in ("x", "grad_output")
    )
    gamma = np.array([1.0, 2.0, 1.0])
    mu = x.mean(axis=1, keepdims=True)
    s = np.sqrt(((x - mu) ** 2).mean(axis=1, keepdims=True) + 1e-5)
    xhat = (x - mu) / s
    g = dy * gamma
    dx = (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True)) / s
    d = api.derive("layer-norm-backward", **raw)
    for name, expected in (("dx", dx), ("dgamma", (dy * xhat).sum(axis=0, keepdims=True))):
        got = np.array(sp.N(d.answers[name].subs(values), 30).tolist(), dtype=float)
        np.testing.assert_allclose(got, expected, rtol=1e-11, err_msg=name)


def test_layer_norm_backward_names_its_intermediates(cli):
    code, out, _ = cli("layer-norm-backward", *LN)
    assert code == 0
    for shown in ("a + b + c", "(a - μ)", "x̂ = ", "[x̂₁  x̂₂  x̂₃]", "ρ = ", "1 - g̅ - ρ⋅x̂₁"):
        assert shown in out, shown
    document = _strict(cli("layer-norm-backward", *LN, "-f", "json")[1])
    exact = json.dumps(document["answers"]["dx"]["exact"])
    assert "sqrt" in exact and not re.search(r"\b(?:mu|sigma|xhat|gbar|rho)\b", exact)


@pytest.mark.parametrize(
    "answer,verdict",
    [
        ("dx=(1-gbar-rho*xhat_1)/s (-gbar-rho*xhat_2)/s (-gbar-rho*xhat_3)/s", 0),
        ("dx=(2/3-xhat_1**2/3)/sigma (-1/3-xhat_1*xhat_2/3)/sigma (-1/3-xhat_1*xhat_3/3)/sigma", 0),
        ("dgamma=xhat_1 0 0", 0),
        ("dgamma=(a-mu)/s 0 0", 0),
        ("dgamma=(a-mu) 0 0", 1),
        ("dx=(1-gbar)/s (-gbar)/s (-gbar)/s", 1),
    ],
)
def test_check_accepts_layer_norm_answers_in_the_names(cli, answer, verdict):
    code, out, err = cli("check", "layer-norm-backward", *LN, "--answer", answer)
    assert code == verdict, out + err


def test_check_names_a_layer_norm_misconception_in_the_names(cli):
    code, out, _ = cli("check", "layer-norm-backward", *LN, "--answer", "dx=1/s 0 0")
    assert code == 1 and "direct-path-only" in out


def test_a_layer_norm_letter_may_not_be_a_defined_name(cli):
    code, out, err = cli("layer-norm-backward", "--x", "mu b c", "--grad-output", "1 0 0")
    assert code == 2 and not out and err.startswith("Error: --x: 'mu' is a name this derivation defines")


@pytest.mark.parametrize(
    "args,option",
    [
        (["lr-schedule", "--step", "n"], "--step"),
        (["lr-schedule", "--schedule", "cosine", "--step", "10", "--total", "T"], "--total"),
        (
            ["lr-schedule", "--schedule", "linear", "--step", "1", "--total", "9", "--lr-max", "2*a"],
            "--lr-max",
        ),
        (["lr-schedule", "--step", "5", "--warmup", "w"], "--warmup"),
        (["particles", "--x", "a b; 1 0"], "--x"),
        (["particles", "--x", "1 0; 0 1", "--beta", "beta"], "--beta"),
        (["particles", "--x", "1 0; 0 1", "--dt", "h"], "--dt"),
    ],
)
def test_letters_are_refused_where_they_make_no_sense(cli, args, option):
    """A schedule's step sits inside a min, particles are simulated and counted: numbers only."""
    code, out, err = cli(*args)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert err.startswith(f"Error: {option}: ") and "takes numbers, not letters: " in err
