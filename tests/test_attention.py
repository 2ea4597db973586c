"""The attention topic: exact values against NumPy and PyTorch, hand-derived cases, misconceptions,
follow-through, every input error, and inert rendering of hostile token labels."""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest
import sympy as sp
from conftest import require, require_program

from derive import check, forward, registry
from derive.api import derive, parse_options
from derive.model import Values, run
from derive.render import render

TOPIC = registry.get("attention")
ANSWERS = ("Q", "K", "V", "scores", "scaled", "weights", "output")


def _text(matrix) -> str:
    return "; ".join(" ".join(str(v) for v in row) for row in np.asarray(matrix).tolist())


def _decimals(matrix, places: int = 6) -> str:
    return "; ".join(" ".join(f"{v:.{places}f}" for v in row) for row in np.asarray(matrix, dtype=float))


def _numeric(value) -> np.ndarray:
    return np.array(value.evalf(30).tolist(), dtype=float)


def _random_inputs(seed: int):
    rng = np.random.default_rng(seed)
    n, d_model, d_k, d_v = (int(v) for v in rng.integers(1, 6, 4))
    x = rng.integers(-3, 4, (n, d_model))
    wq, wk = rng.integers(-3, 4, (d_model, d_k)), rng.integers(-3, 4, (d_model, d_k))
    wv = rng.integers(-3, 4, (d_model, d_v))
    return x, wq, wk, wv


def _expected(q, k, v, causal):
    """Independent NumPy: every answer of the topic, from forward.scaled_dot_product_attention."""
    mask = forward.causal_mask(q.shape[0]) if causal else None
    output, weights = forward.scaled_dot_product_attention(q, k, v, mask)
    scores = q @ k.T
    return {
        "Q": q,
        "K": k,
        "V": v,
        "scores": scores,
        "scaled": scores / math.sqrt(q.shape[1]),
        "weights": weights,
        "output": output,
    }


# --- exact values against NumPy ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("mask", ["none", "causal"])
def test_projection_route_equals_numpy(seed, mask):
    x, wq, wk, wv = _random_inputs(seed)
    d = derive("attention", x=_text(x), wq=_text(wq), wk=_text(wk), wv=_text(wv), mask=mask)
    xf = x.astype(float)
    expected = _expected(xf @ wq, xf @ wk, xf @ wv, mask == "causal")
    for name in ANSWERS:
        np.testing.assert_allclose(
            _numeric(d.answers[name]), expected[name], rtol=1e-12, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mask", ["none", "causal"])
def test_given_qkv_route_equals_numpy(seed, mask):
    rng = np.random.default_rng(100 + seed)
    n, d_k, d_v = (int(v) for v in rng.integers(1, 6, 3))
    q, k, v = rng.integers(-3, 4, (n, d_k)), rng.integers(-3, 4, (n, d_k)), rng.integers(-3, 4, (n, d_v))
    d = derive("attention", q=_text(q), k=_text(k), v=_text(v), mask=mask)
    expected = _expected(q.astype(float), k.astype(float), v.astype(float), mask == "causal")
    for name in ANSWERS:
        np.testing.assert_allclose(
            _numeric(d.answers[name]), expected[name], rtol=1e-12, atol=1e-12, err_msg=name
        )


def test_irrational_entries_stay_exact():
    d = derive("attention", q="sqrt(2) 1/2; 0 e", k="1 0; 1/3 pi", v="1; 2")
    assert d.answers["Q"][0, 0] == sp.sqrt(2) and d.answers["K"][1, 1] == sp.pi
    expected = _expected(
        np.array([[math.sqrt(2), 0.5], [0, math.e]]),
        np.array([[1, 0], [1 / 3, math.pi]]),
        np.array([[1.0], [2.0]]),
        False,
    )
    np.testing.assert_allclose(_numeric(d.answers["output"]), expected["output"], rtol=1e-12)


def test_large_scores_do_not_overflow():
    """Scores near 1000 overflow a naive float exp; the exact form and its decimals must not."""
    d = derive("attention", q="40 40; 0 0", k="40 40; 39 40", v="1 0; 0 1")
    expected = _expected(np.array([[40.0, 40], [0, 0]]), np.array([[40.0, 40], [39, 40]]), np.eye(2), False)
    np.testing.assert_allclose(_numeric(d.answers["output"]), expected["output"], rtol=1e-12)


# --- NumPy against PyTorch ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("causal", [False, True])
def test_forward_equals_pytorch(seed, causal):
    torch = require("torch")
    rng = np.random.default_rng(seed)
    batch, heads, tokens, d_k, d_v = 2, 3, int(rng.integers(1, 9)), int(rng.integers(1, 9)), 5
    q = rng.standard_normal((batch, heads, tokens, d_k))
    k = rng.standard_normal((batch, heads, tokens, d_k)) * 3
    v = rng.standard_normal((batch, heads, tokens, d_v))
    mask = forward.causal_mask(tokens) if causal else None
    ours, weights = forward.scaled_dot_product_attention(q, k, v, mask)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q), torch.from_numpy(k), torch.from_numpy(v), is_causal=causal
    )
    np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-12)


def test_topic_equals_pytorch_on_the_river_example():
    torch = require("torch")
    for example in ("river", "causal"):
        d = derive("attention", example=example)
        q, k, v = (torch.from_numpy(_numeric(d.answers[n])) for n in ("Q", "K", "V"))
        theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=example == "causal")
        np.testing.assert_allclose(_numeric(d.answers["output"]), theirs.numpy(), rtol=1e-12)


# --- cases whose numbers are derived by hand here -------------------------------------------------------


def test_identical_keys_give_uniform_weights_and_the_mean_value():
    d = derive("attention", q="1 2; -3 5; 0 7", k="2 1; 2 1; 2 1", v="3 0; 0 6; 9 3")
    assert d.answers["weights"] == sp.Matrix(3, 3, lambda i, j: sp.Rational(1, 3))
    assert d.answers["output"] == sp.Matrix([[4, 3], [4, 3], [4, 3]])


def test_two_tokens_by_hand():
    # d_k = 4, so √d_k = 2: token 1 scores [2, 0] -> scaled [1, 0] -> weights e/(e+1), 1/(e+1);
    # token 2 scores [0, 0] -> weights 1/2, 1/2.
    d = derive("attention", q="2 0 0 0; 0 0 0 0", k="1 0 0 0; 0 1 0 0", v="1 0; 0 1")
    assert d.answers["scaled"] == sp.Matrix([[1, 0], [0, 0]])
    w = d.answers["weights"]
    assert sp.simplify(w[0, 0] - sp.E / (sp.E + 1)) == 0
    assert sp.simplify(w[0, 1] - 1 / (sp.E + 1)) == 0
    assert w.row(1) == sp.Matrix([[sp.Rational(1, 2), sp.Rational(1, 2)]])
    assert float(d.answers["output"][0, 0]) == pytest.approx(math.e / (math.e + 1), rel=1e-14)


def test_river_example_by_hand():
    """X W_Q gives bank the query (0, 2, 2, 0); with K = X W_K its scores are (0, 4, 2), halved (0, 2, 1)."""
    d = derive("attention", example="river")
    a = d.answers
    assert a["Q"].row(2) == sp.Matrix([[0, 2, 2, 0]])
    assert a["scores"].row(2) == sp.Matrix([[0, 4, 2]])
    assert a["scaled"].row(2) == sp.Matrix([[0, 2, 1]])
    total = 1 + sp.E + sp.E**2
    for got, want in zip(a["weights"].row(2), (1 / total, sp.E**2 / total, sp.E / total)):
        assert sp.simplify(got - want) == 0
    assert a["weights"].row(0) == sp.Matrix([[sp.Rational(1, 3)] * 3])  # "the" matches no key: uniform
    # bank's output row: e^2 * river's value (0, 2, 0, 1) + e * its own (0, 0, 1, 1), over the total.
    want = sp.Matrix([[0, 2 * sp.E**2, sp.E, sp.E**2 + sp.E]]) / total
    assert sp.simplify(a["output"].row(2) - want) == sp.zeros(1, 4)


def test_river_narration_says_bank_attends_most_to_river():
    text = render(derive("attention", example="river"), "terminal", color=False, width=100)
    focus = text[text.index("Read one row") :]
    assert "“bank” attends most to “river” (66.52%)" in focus
    assert "moved toward the value" in focus


def test_causal_mask_keeps_scaled_finite_and_zeroes_later_tokens():
    d = derive("attention", example="causal")
    scaled, weights = d.answers["scaled"], d.answers["weights"]
    assert all(e.is_finite for e in scaled)
    assert weights.row(0) == sp.Matrix([[1, 0, 0]])
    total = 1 + sp.E**2
    assert sp.simplify(weights[1, 1] - sp.E**2 / total) == 0 and weights[1, 2] == 0


def test_defaults_tokens_and_focus():
    d = derive("attention", q="1 0; 0 1", k="1 0; 0 1", v="1 0; 0 1")
    assert d.params["tokens"] == ["t1", "t2"] and d.params["focus"] == "t2"


# --- misconceptions and follow-through ----------------------------------------------------------------


def _true(example: str) -> dict:
    return {name: _numeric(value) for name, value in derive("attention", example=example).answers.items()}


def _softmax_rows(z, causal=False, axis=-1):
    z = np.where(forward.causal_mask(z.shape[0]), z, -np.inf) if causal else z
    return forward.softmax(z, axis=axis)


def _check(example: str, **answers):
    return check.check(TOPIC, {}, [f"{k}={v}" for k, v in answers.items()], example=example)


def test_correct_answers_trigger_no_mistake():
    for example in ("river", "causal", "qkv"):
        truth = _true(example)
        report = _check(example, **{name: _decimals(truth[name], 8) for name in ANSWERS})
        assert report.all_correct, [(i.id, i.verdict) for i in report.items]
        assert all(item.mistake is None for item in report.items)


@pytest.mark.parametrize("example", ["river", "causal"])
def test_no_scaling(example):
    truth = _true(example)
    causal = example == "causal"
    report = _check(example, scaled=_decimals(truth["scores"]))
    assert report.item("scaled").mistake == "no-scaling"
    report = _check(example, weights=_decimals(_softmax_rows(truth["scores"], causal)))
    assert report.item("weights").mistake == "no-scaling"
    assert report.item("weights").hint


@pytest.mark.parametrize("example", ["river", "causal"])
def test_scaled_by_dk(example):
    truth = _true(example)
    causal = example == "causal"
    report = _check(example, scaled=_decimals(truth["scores"] / 4))
    assert report.item("scaled").mistake == "scaled-by-dk"
    report = _check(example, weights=_decimals(_softmax_rows(truth["scores"] / 4, causal)))
    assert report.item("weights").mistake == "scaled-by-dk"


def test_wrong_axis():
    truth = _true("river")
    report = _check("river", weights=_decimals(_softmax_rows(truth["scaled"], axis=0)))
    item = report.item("weights")
    assert item.verdict == "wrong" and item.mistake == "wrong-axis"


def test_wrong_axis_under_the_causal_mask():
    truth = _true("causal")
    masked = np.where(forward.causal_mask(3), truth["scaled"], -np.inf)
    report = _check("causal", weights=_decimals(forward.softmax(masked, axis=0)))
    assert report.item("weights").mistake == "wrong-axis"


def test_no_mask():
    truth = _true("causal")
    report = _check("causal", weights=_decimals(_softmax_rows(truth["scaled"])))
    assert report.item("weights").mistake == "no-mask"


def test_no_mask_does_not_apply_without_a_mask():
    mistake = next(m for m in TOPIC.stage("weights").mistakes if m.id == "no-mask")
    options = parse_options(TOPIC, {}, "river")
    givens = TOPIC.prepare(options)
    values = Values({**givens.values, **{s.name: s.value for s in run(TOPIC, givens).steps}})
    assert mistake.compute(values) is None


def test_mistake_ids_are_the_documented_ones():
    assert [m.id for m in TOPIC.stage("scaled").mistakes] == ["no-scaling", "scaled-by-dk", "scaled-anyway"]
    assert [m.id for m in TOPIC.stage("weights").mistakes] == [
        "no-scaling",
        "scaled-by-dk",
        "scaled-anyway",
        "wrong-axis",
        "no-mask",
        "not-normalised",
    ]
    assert [m.id for m in TOPIC.stage("scores").mistakes] == ["reversed-product", "k-not-transposed"]
    assert TOPIC.answer_ids == ANSWERS and TOPIC.result == "output"


def test_follow_through_from_a_wrong_scaled_answer():
    truth = _true("river")
    wrong = truth["scaled"].copy()
    wrong[2, 1] = 3.0  # an arithmetic slip, not a named misconception
    weights = np.round(_softmax_rows(wrong), 6)  # the student carries on from their written weights
    report = _check(
        "river", scaled=_decimals(wrong), weights=_decimals(weights), output=_decimals(weights @ truth["V"])
    )
    assert report.item("scaled").verdict == "wrong" and report.item("scaled").mistake is None
    assert report.item("scaled").wrong_entries == [(3, 2)]
    assert report.item("weights").verdict == "follows-through"
    assert report.item("output").verdict == "follows-through"
    assert not report.all_correct


def test_follow_through_reaches_the_weights_from_wrong_scores():
    truth = _true("river")
    scores = truth["scores"].copy()
    scores[1, 0] = 1.0
    report = _check("river", scores=_decimals(scores), scaled=_decimals(scores / 2))
    assert report.item("scores").verdict == "wrong"
    assert report.item("scaled").verdict == "follows-through"


# --- input errors -----------------------------------------------------------------------------------------

M2 = "1 0; 0 1"
HOSTILE = "__import__('os').system('id')"


@pytest.mark.parametrize(
    "args, option",
    [
        ([], "--x"),
        (["--x", M2], "--wq"),
        (["--x", M2, "--wq", M2, "--wk", M2], "--wv"),
        (["--q", M2, "--k", M2], "--v"),
        (["--x", M2, "--wq", M2, "--wk", M2, "--wv", M2, "--q", M2], "--q"),
        (["--x", M2, "--wq", "1 0 0; 0 1 0; 0 0 1", "--wk", M2, "--wv", M2], "--wq"),
        (["--x", M2, "--wq", M2, "--wk", "1 0 0; 0 1 0", "--wv", M2], "--wk"),
        (["--x", M2, "--wq", M2, "--wk", M2, "--wv", "1 2 3"], "--wv"),
        (["--q", M2, "--k", "1 2 3; 4 5 6", "--v", M2], "--k"),
        (["--q", M2, "--k", "1 2; 3 4; 5 6", "--v", M2], "--v"),
        (["--q", M2, "--k", "1 2", "--v", "1", "--mask", "causal"], "--mask"),
        (["--q", M2, "--k", M2, "--v", M2, "--memory", M2], "--memory"),
        (["--x", M2, "--wq", M2, "--wk", M2, "--wv", M2, "--memory", "1 2 3"], "--memory"),
        (["--x", M2, "--wq", M2, "--wk", M2, "--wv", M2, "--memory", M2, "--mask", "causal"], "--mask"),
        (
            ["--x", M2, "--wq", M2, "--wk", M2, "--wv", M2, "--memory", M2, "--memory-tokens", "a"],
            "--memory-tokens",
        ),
        (["--q", M2, "--k", "1 2; 3 4; 5 6", "--v", "1; 2; 3", "--memory-tokens", "a b"], "--memory-tokens"),
        (["--q", M2, "--k", M2, "--v", "1; 2; 3"], "--v"),
        (["--x", "1 2; 3", "--wq", M2, "--wk", M2, "--wv", M2], "--x"),
        (["--q", "1 2; 3 4 5", "--k", M2, "--v", M2], "--q"),
        (["--x", HOSTILE, "--wq", M2, "--wk", M2, "--wv", M2], "--x"),
        (["--q", M2, "--k", M2, "--v", HOSTILE], "--v"),
        (["--q", M2, "--k", M2, "--v", M2, "--tokens", "a b c"], "--tokens"),
        (["--q", M2, "--k", M2, "--v", M2, "--focus", "river"], "--focus"),
        (["--example", "river", "--focus", "water"], "--focus"),
        (["--example", "river", "--mask", "sideways"], "--mask"),
        (["--example", "lake"], "--example"),
        (
            ["--q", "; ".join(["1 0"] * 17), "--k", "; ".join(["1 0"] * 17), "--v", "; ".join(["1"] * 17)],
            "--q",
        ),
        (["--q", M2, "--k", M2, "--v", M2, "--tokens", " ".join(f"w{i}" for i in range(17))], "--tokens"),
        (["--x", "1 " * 17, "--wq", M2, "--wk", M2, "--wv", M2], "--x"),
        (["--x", M2, "--wq", "; ".join(["1 " * 17] * 2), "--wk", M2, "--wv", M2], "--wq"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("attention", *args)
    assert code == 2, (out, err)
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"Error: {option}"), err


def test_hostile_input_is_never_evaluated(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = cli(
        "attention", "--q", "__import__('pathlib').Path('pwned').touch()", "--k", M2, "--v", M2
    )
    assert code == 2 and "--q" in err
    assert not (tmp_path / "pwned").exists()


def test_check_reports_bad_input_as_one_line(cli):
    code, _, err = cli("check", "attention", "--example", "river", "--answer", "weights=1 2; 3")
    assert code == 2 and err.count("\n") == 1


# --- hostile token labels stay text ---------------------------------------------------------------------

LABELS = "\\input{/etc/passwd} <script>alert(1)</script> $x^2$"


def _hostile():
    return derive(
        "attention",
        q="1 0; 0 1; 1 1",
        k="1 0; 0 1; 1 1",
        v="1 0; 0 1; 1 1",
        tokens=LABELS,
        focus="<script>alert(1)</script>",
    )


def test_hostile_labels_are_inert_in_markdown():
    text = render(_hostile(), "markdown")
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "\\input{" not in text
    assert "$x^2$" not in text


def test_hostile_labels_are_inert_in_latex(tmp_path):
    text = render(_hostile(), "latex")
    assert "\\input{/etc/passwd}" not in text and "\\textbackslash{}input\\{/etc/passwd\\}" in text
    assert "<script" not in text and "\\textless{}script\\textgreater{}" in text
    pdflatex = require_program("pdflatex")
    (tmp_path / "doc.tex").write_text(text, encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "(/etc/passwd" not in (tmp_path / "doc.log").read_text(errors="replace"), "the file was read"


def test_hostile_labels_survive_json(cli):
    import json

    code, out, _ = cli("attention", "--q", M2, "--k", M2, "--v", M2, "--tokens", "<b> \\relax", "-f", "json")
    assert code == 0
    assert json.loads(out)["params"]["tokens"] == ["<b>", "\\relax"]


# --- the examples --------------------------------------------------------------------------------------


def test_examples_are_offered(cli):
    code, out, _ = cli("attention", "--help")
    assert code == 0 and "river, causal, unscaled," in out
    assert set(TOPIC.example_notes) == {"river", "causal", "unscaled", "cross", "cached", "qkv"}


def test_large_inputs_show_only_the_focus_row():
    rng = np.random.default_rng(7)
    q, k, v = (rng.integers(-2, 3, (6, 3)) for _ in range(3))
    d = derive("attention", q=_text(q), k=_text(k), v=_text(v), tokens="a b c d e f", focus="c")
    scores_step = next(s for s in d.steps if s.name == "scores")
    table = scores_step.blocks[-1]
    assert len(table.rows) == 6 and {row[1].value for row in table.rows} == {"c"}


def _focus_text(d) -> str:
    text = render(d, "terminal", color=False, width=100)
    return text[text.index("Read one row") :]


def test_repeated_labels_are_told_apart_by_position():
    d = derive(
        "attention", q="1 0; 0 1; 1 0", k="1 0; 0 1; 1 0", v="1; 2; 3", tokens="the cat the", focus="cat"
    )
    assert "attends most to itself (50.35%), then “the” (token 1) and “the” (token 3)" in _focus_text(d)


def test_first_token_under_the_causal_mask_sees_only_itself():
    focus = _focus_text(derive("attention", example="causal", focus="the"))
    assert "can only attend to itself" in focus and "masked" in focus
    single = derive("attention", q="2", k="3", v="5", mask="causal")
    assert single.answers["weights"] == sp.Matrix([[1]]) and single.answers["output"] == sp.Matrix([[5]])


# --- --scale none: softmax of the raw scores ----------------------------------------------------------


def _unscaled_numpy(q, k, v, causal=False):
    """By hand: softmax(Q Kᵀ) V, no division, the mask as −∞ above the diagonal."""
    scores = q @ k.T
    if causal:
        scores = np.where(np.tril(np.ones(scores.shape, dtype=bool)), scores, -np.inf)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = e / e.sum(axis=1, keepdims=True)
    return weights, weights @ v


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mask", ["none", "causal"])
def test_scale_none_equals_numpy_by_hand_and_pytorch(seed, mask):
    torch = require("torch")
    x, wq, wk, wv = _random_inputs(200 + seed)
    d = derive("attention", x=_text(x), wq=_text(wq), wk=_text(wk), wv=_text(wv), mask=mask, scale="none")
    xf = x.astype(float)
    q, k, v = xf @ wq, xf @ wk, xf @ wv
    weights, output = _unscaled_numpy(q, k, v, mask == "causal")
    np.testing.assert_allclose(_numeric(d.answers["scaled"]), q @ k.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_numeric(d.answers["weights"]), weights, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_numeric(d.answers["output"]), output, rtol=1e-12, atol=1e-12)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(m) for m in (q, k, v)), is_causal=mask == "causal", scale=1.0
    )
    np.testing.assert_allclose(_numeric(d.answers["output"]), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_scale_none_names_the_convention_and_its_sources():
    d = derive("attention", example="unscaled")
    assert d.title == "Dot-product attention, unscaled"
    assert d.params["scale"] == "none"
    text = render(d, "terminal", color=False, width=100)
    assert "Convention (--scale none)" in text and "Luong et al." in text
    assert "No scaling (--scale none)" in text
    assert "Convention (--scale sqrt-dk, the default)" in render(
        derive("attention", example="river"), "terminal", color=False, width=100
    )


def test_scale_none_offers_no_no_scaling_misconception_but_catches_dividing_anyway():
    truth = _true("unscaled")
    scaled = truth["scores"] / 2  # √d_k = 2
    assert _check("unscaled", scaled=_decimals(scaled)).item("scaled").mistake == "scaled-anyway"
    report = _check("unscaled", weights=_decimals(_softmax_rows(scaled)))
    assert report.item("weights").mistake == "scaled-anyway"
    options = parse_options(TOPIC, {}, "unscaled")
    givens = TOPIC.prepare(options)
    values = Values({**givens.values, **{s.name: s.value for s in run(TOPIC, givens).steps}})
    for stage in ("scaled", "weights"):
        offered = [m.id for m in TOPIC.stage(stage).mistakes if m.compute(values) is not None]
        assert "no-scaling" not in offered and "scaled-by-dk" not in offered
    report = _check("unscaled", **{name: _decimals(truth[name], 8) for name in ANSWERS})
    assert report.all_correct


# --- queries and keys of different lengths: cross-attention and cached keys -------------------------------


def _by_hand(q, k, v, allowed=None):
    """softmax(Q Kᵀ / √d_k) V in NumPy, with −∞ wherever ``allowed`` is False."""
    scores = q @ k.T / math.sqrt(q.shape[1])
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights = e / e.sum(axis=1, keepdims=True)
    return weights, weights @ v


def _lower_right(n_q, n_k):
    """Query i is key position n_k − n_q + i and sees keys 0 … that position (written out, not np.tri)."""
    return np.array([[j <= n_k - n_q + i for j in range(n_k)] for i in range(n_q)])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mask", ["none", "causal"])
def test_more_keys_than_queries_equals_numpy_and_pytorch(seed, mask):
    torch = require("torch")
    rng = np.random.default_rng(300 + seed)
    n, n_keys, d_k, d_v = int(rng.integers(1, 4)), int(rng.integers(4, 7)), int(rng.integers(1, 5)), 2
    q, k, v = (rng.integers(-3, 4, shape) for shape in ((n, d_k), (n_keys, d_k), (n_keys, d_v)))
    d = derive("attention", q=_text(q), k=_text(k), v=_text(v), mask=mask)
    causal = mask == "causal"
    allowed = _lower_right(n, n_keys) if causal else None
    weights, output = _by_hand(q.astype(float), k.astype(float), v.astype(float), allowed)
    np.testing.assert_allclose(_numeric(d.answers["weights"]), weights, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_numeric(d.answers["output"]), output, rtol=1e-12, atol=1e-12)
    tq, tk, tv = (torch.from_numpy(m.astype(float)) for m in (q, k, v))
    if causal:
        from torch.nn.attention.bias import causal_lower_right

        theirs = torch.nn.functional.scaled_dot_product_attention(
            tq, tk, tv, attn_mask=causal_lower_right(n, n_keys)
        )
    else:
        theirs = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)
    np.testing.assert_allclose(_numeric(d.answers["output"]), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_causal_with_cached_keys_is_not_pytorchs_top_left_is_causal():
    """The documented choice: bottom-right alignment; is_causal=True would hide keys from the last query."""
    torch = require("torch")
    d = derive("attention", example="cached")
    q, k, v = (torch.from_numpy(_numeric(d.answers[n])) for n in ("Q", "K", "V"))
    top_left = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert not np.allclose(_numeric(d.answers["output"]), top_left.numpy())
    assert d.answers["weights"][0, 2] == 0 and d.answers["weights"][1, 2] != 0
    text = render(d, "terminal", color=False, width=100)
    assert "causal_lower_right" in text and "is_causal=True aligns the mask top-left" in text


@pytest.mark.parametrize("seed", range(4))
def test_memory_route_is_cross_attention(seed):
    torch = require("torch")
    rng = np.random.default_rng(400 + seed)
    n, n_mem, d_model, d_k, d_v = (int(e) for e in rng.integers(1, 5, 5))
    x, memory = rng.integers(-3, 4, (n, d_model)), rng.integers(-3, 4, (n_mem, d_model))
    wq, wk, wv = (rng.integers(-3, 4, (d_model, c)) for c in (d_k, d_k, d_v))
    d = derive(
        "attention", x=_text(x), memory=_text(memory), wq=_text(wq), wk=_text(wk), wv=_text(wv), scale="none"
    )
    q, k, v = x @ wq, memory @ wk, memory @ wv
    np.testing.assert_array_equal(_numeric(d.answers["K"]), k)
    scores = (q @ k.T).astype(float)
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected = (e / e.sum(axis=1, keepdims=True)) @ v
    np.testing.assert_allclose(_numeric(d.answers["output"]), expected, rtol=1e-12, atol=1e-12)
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.from_numpy(m.astype(float)) for m in (q, k, v)), scale=1.0
    )
    np.testing.assert_allclose(_numeric(d.answers["output"]), theirs.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_example_labels_the_memory_rows():
    d = derive("attention", example="cross")
    assert d.params["memory_tokens"] == ["the", "black", "cat"]
    assert d.answers["weights"].shape == (2, 3)
    text = render(d, "terminal", color=False, width=100)
    assert "This is cross-attention" in text and "every query may attend to every key" in text
    assert "“chat” attends most to “cat”" in text
    assert "moved toward" not in text  # a query in cross-attention has no value row of its own
    figure = next(b for s in d.steps for b in s.blocks if getattr(b, "kind", None) == "heatmap")
    assert list(figure.data["col_labels"]) == ["the", "black", "cat"]
