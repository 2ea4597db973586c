"""The multi-head topic: exact values against NumPy (derive.forward) and PyTorch, h = 1 against the
attention topic, hand-derived slices and counts, misconceptions, follow-through and input errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, forward, registry
from derive.api import derive

TOPIC = registry.get("multi-head")
STAGES = ("Q", "K", "V", "scores", "scaled", "weights", "heads", "concat", "output", "parameters")


def _text(matrix) -> str:
    return "; ".join(" ".join(str(v) for v in row) for row in np.asarray(matrix).tolist())


def _decimals(matrix, places: int = 8) -> str:
    rows = np.atleast_2d(np.asarray(matrix, dtype=float))
    return "; ".join(" ".join(f"{v:.{places}f}" for v in row) for row in rows)


def _numeric(value) -> np.ndarray:
    return np.array(sp.Matrix(value).evalf(30).tolist(), dtype=float)


def _random(seed: int, heads: int, d_head: int, n: int):
    rng = np.random.default_rng(seed)
    width = heads * d_head
    x = rng.integers(-2, 3, (n, width))
    wq, wk, wv, wo = (rng.integers(-2, 3, (width, width)) for _ in range(4))
    return x, wq, wk, wv, wo


def _derive(x, wq, wk, wv, wo, heads, mask="none"):
    matrices = {"x": x, "wq": wq, "wk": wk, "wv": wv, "wo": wo}
    return derive("multi-head", heads=heads, mask=mask, **{k: _text(v) for k, v in matrices.items()})


def _per_head(x, wq, wk, wv, heads, causal, interleaved=False, root=None):
    """Independent NumPy: each head's attention from its own columns (or every h-th column)."""
    x = x.astype(float)
    width = x.shape[1]
    d_head = width // heads
    mask = forward.causal_mask(len(x)) if causal else None
    scores, weights, outputs = [], [], []
    for i in range(heads):
        cols = list(range(i, width, heads)) if interleaved else list(range(i * d_head, (i + 1) * d_head))
        q, k, v = x @ wq[:, cols], x @ wk[:, cols], x @ wv[:, cols]
        s = q @ k.T
        z = s / (root or math.sqrt(d_head))
        a = forward.softmax(np.where(mask, z, -np.inf) if causal else z)
        scores.append(s)
        weights.append(a)
        outputs.append(a @ v)
    return np.vstack(scores), np.vstack(weights), np.hstack(outputs)


# --- exact values against NumPy and PyTorch ------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("heads,d_head", [(1, 3), (2, 2), (4, 1), (3, 2)])
@pytest.mark.parametrize("mask", ["none", "causal"])
def test_every_answer_equals_forward(seed, heads, d_head, mask):
    x, wq, wk, wv, wo = _random(seed, heads, d_head, 3)
    answers = _derive(x, wq, wk, wv, wo, heads, mask).answers
    layer = forward.MultiHeadAttention(*(w.astype(float) for w in (wq, wk, wv, wo)), heads)
    trace = {}
    out = layer(x.astype(float), causal=mask == "causal", trace=trace)
    n = len(x)
    expected = {
        "Q": x @ wq,
        "K": x @ wk,
        "V": x @ wv,
        "scores": trace["scores"].reshape(heads * n, n),
        "scaled": trace["scores"].reshape(heads * n, n) / math.sqrt(d_head),
        "weights": trace["weights"].reshape(heads * n, n),
        "heads": trace["heads"].reshape(heads * n, d_head),
        "concat": trace["concat"],
        "output": out,
    }
    for name, want in expected.items():
        np.testing.assert_allclose(_numeric(answers[name]), want, rtol=1e-12, atol=1e-12, err_msg=name)
    assert answers["parameters"] == 4 * (heads * d_head) ** 2 == layer.n_params


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("heads", [1, 2, 4])
@pytest.mark.parametrize("causal", [False, True])
def test_output_equals_pytorch_multihead_attention(seed, heads, causal):
    torch = require("torch")
    x, wq, wk, wv, wo = _random(10 + seed, heads, 4 // heads, 4)
    answers = _derive(x, wq, wk, wv, wo, heads, "causal" if causal else "none").answers
    layer = torch.nn.MultiheadAttention(4, heads, bias=False, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.from_numpy(np.vstack([wq.T, wk.T, wv.T]).astype(float)))
        layer.out_proj.weight.copy_(torch.from_numpy(wo.T.astype(float)))
    mask = torch.triu(torch.ones(4, 4, dtype=torch.bool), 1) if causal else None
    inputs = torch.from_numpy(x.astype(float))[None]
    out, weights = layer(inputs, inputs, inputs, attn_mask=mask, average_attn_weights=False)
    np.testing.assert_allclose(_numeric(answers["output"]), out[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    stacked = weights[0].detach().numpy().reshape(heads * 4, 4)
    np.testing.assert_allclose(_numeric(answers["weights"]), stacked, rtol=1e-10, atol=1e-12)
    assert answers["parameters"] == sum(p.numel() for p in layer.parameters())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mask", ["none", "causal"])
def test_one_head_is_single_head_attention(seed, mask):
    x, wq, wk, wv, wo = _random(20 + seed, 1, 3, 3)
    multi = _derive(x, wq, wk, wv, wo, 1, mask).answers
    single = derive("attention", x=_text(x), wq=_text(wq), wk=_text(wk), wv=_text(wv), mask=mask).answers
    for name in ("Q", "K", "V", "scores", "scaled", "weights"):
        assert multi[name] == single[name], name
    assert sp.simplify(multi["heads"] - single["output"]) == sp.zeros(3, 3)
    assert sp.simplify(multi["output"] - single["output"] * sp.Matrix(wo.tolist())) == sp.zeros(3, 3)


def test_independent_per_head_numpy():
    x, wq, wk, wv, wo = _random(7, 2, 2, 3)
    answers = _derive(x, wq, wk, wv, wo, 2).answers
    scores, weights, concat = _per_head(x, wq, wk, wv, 2, False)
    np.testing.assert_allclose(_numeric(answers["scores"]), scores)
    np.testing.assert_allclose(_numeric(answers["weights"]), weights, rtol=1e-12)
    np.testing.assert_allclose(_numeric(answers["output"]), concat @ wo, rtol=1e-12, atol=1e-12)


# --- the example, by hand -------------------------------------------------------------------------------


def test_two_heads_example_by_hand():
    """Q = X W_Q; head 1 takes columns 1-2 and head 2 columns 3-4; d_k = 4/2 = 2."""
    a = derive("multi-head", example="two-heads").answers
    # X rows pick rows of W_Q: 1+3, 2+4 and 1+2.
    assert a["Q"] == sp.Matrix([[1, 0, 2, 0], [1, 1, 0, 2], [1, 0, 1, 1]])
    assert a["K"] == sp.Matrix([[0, 0, 3, 0], [2, 0, 0, 3], [0, 1, 2, 2]])
    q1, k1 = a["Q"][:, :2], a["K"][:, :2]
    assert a["scores"][:3, :] == q1 * k1.T
    # head 2, token "sat": query (1, 1), keys (3, 0), (0, 3), (2, 2) -> scores (3, 3, 4)
    assert list(a["scores"].row(5)) == [3, 3, 4]
    assert list(a["scaled"].row(5)) == [3 * sp.sqrt(2) / 2, 3 * sp.sqrt(2) / 2, 2 * sp.sqrt(2)]
    assert a["parameters"] == 64  # 4 · 4²


def test_two_heads_look_at_different_tokens():
    a = derive("multi-head", example="two-heads").answers
    w = _numeric(a["weights"])
    assert list(w[:3].argmax(axis=1)) == [1, 1, 1]  # head 1: every token looks most at "cat"
    assert list(w[3:].argmax(axis=1)) == [0, 1, 2]  # head 2: every token looks most at itself


# --- misconceptions and follow-through -----------------------------------------------------------------


def _check(example="two-heads", **answers):
    return check.check(TOPIC, {}, [f"{k}={v}" for k, v in answers.items()], example=example)


def _example_arrays(example="two-heads"):
    raw = TOPIC.examples[example]

    def array(text):
        return np.array([[float(e) for e in row.split()] for row in text.split(";")])

    return [array(raw[k]) for k in ("x", "wq", "wk", "wv", "wo")] + [int(raw["heads"])]


def test_correct_answers_trigger_no_mistake():
    for example in TOPIC.examples:
        answers = derive("multi-head", example=example).answers
        given = {k: _decimals(_numeric(v)) for k, v in answers.items() if k != "parameters"}
        report = _check(example, parameters="64", **given)
        assert report.all_correct, [(i.id, i.verdict) for i in report.items]
        assert all(item.mistake is None for item in report.items)


def test_no_output_projection():
    concat = _numeric(derive("multi-head", example="two-heads").answers["concat"])
    item = _check(output=_decimals(concat)).item("output")
    assert item.verdict == "wrong" and item.mistake == "no-output-projection" and item.hint


def test_split_wrong():
    x, wq, wk, wv, wo, heads = _example_arrays()
    scores, weights, concat = _per_head(x, wq, wk, wv, heads, False, interleaved=True)
    report = _check(scores=_decimals(scores), weights=_decimals(weights))
    assert report.item("scores").mistake == "split-wrong"
    assert report.item("weights").mistake == "split-wrong"
    assert _check(concat=_decimals(concat)).item("concat").mistake == "split-wrong"
    assert _check(output=_decimals(concat @ wo)).item("output").mistake == "split-wrong"


def test_scale_by_dmodel():
    x, wq, wk, wv, wo, heads = _example_arrays()
    scores, weights, concat = _per_head(x, wq, wk, wv, heads, False, root=2.0)  # √d_model = √4
    assert _check(scaled=_decimals(scores / 2)).item("scaled").mistake == "scale-by-dmodel"
    assert _check(weights=_decimals(weights)).item("weights").mistake == "scale-by-dmodel"
    assert _check(output=_decimals(concat @ wo)).item("output").mistake == "scale-by-dmodel"


def test_full_size_heads():
    # each of 2 heads with its own 4×4 W_Q, W_K, W_V, plus W_O: (3·2 + 1)·16 = 112
    assert _check(parameters="112").item("parameters").mistake == "full-size-heads"


def test_one_head_has_no_split_or_scale_mistakes():
    for stage in TOPIC.stages:
        for mistake in stage.mistakes:
            if mistake.id in ("split-wrong", "scale-by-dmodel", "full-size-heads"):
                values = _values("one-head")
                assert mistake.compute(values) is None, (stage.name, mistake.id)


def _values(example):
    from derive.api import prepare
    from derive.model import Values, run

    givens = prepare(TOPIC, {}, example)
    return Values({**givens.values, **{s.name: s.value for s in run(TOPIC, givens).steps}})


def test_mistake_ids_are_the_documented_ones():
    ids = {m.id for s in TOPIC.stages for m in s.mistakes}
    assert {"no-output-projection", "split-wrong", "scale-by-dmodel"} <= ids
    assert TOPIC.answer_ids == STAGES and TOPIC.result == "output"


def test_follow_through_from_a_slip_in_the_scores():
    truth = derive("multi-head", example="two-heads").answers
    scores = _numeric(truth["scores"])
    scores[1, 0] = 3.0  # an arithmetic slip in head 1
    scaled = scores / math.sqrt(2)
    weights = np.vstack([forward.softmax(b) for b in (scaled[:3], scaled[3:])])
    report = _check(scores=_decimals(scores), scaled=_decimals(scaled), weights=_decimals(weights))
    assert report.item("scores").verdict == "wrong" and report.item("scores").wrong_entries == [(2, 1)]
    assert report.item("scaled").verdict == "follows-through"
    assert report.item("weights").verdict == "follows-through"


def test_follow_through_from_a_wrong_concat_to_the_output():
    truth = derive("multi-head", example="two-heads").answers
    concat = _numeric(truth["concat"])
    concat[0, 0] += 1
    _, _, _, _, wo, _ = _example_arrays()
    report = _check(concat=_decimals(concat), output=_decimals(concat @ wo))
    assert report.item("concat").verdict == "wrong"
    assert report.item("output").verdict == "follows-through"


# --- input errors ---------------------------------------------------------------------------------------

M4 = "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1"
M3 = "1 0 0; 0 1 0; 0 0 1"
BASE = ["--x", "1 0 1 0; 0 1 0 1", "--wq", M4, "--wk", M4, "--wv", M4, "--wo", M4]


def _replace(option, value):
    args = list(BASE)
    args[args.index(option) + 1] = value
    return args


@pytest.mark.parametrize(
    "args, option",
    [
        (BASE + ["--heads", "3"], "--heads"),
        (BASE + ["--heads", "0"], "--heads"),
        (BASE + ["--heads", "17"], "--heads"),
        (BASE + ["--heads", "two"], "--heads"),
        (BASE, "--heads"),
        (_replace("--wq", M3) + ["--heads", "2"], "--wq"),
        (_replace("--wo", "1 0 0 0; 0 1 0 0") + ["--heads", "2"], "--wo"),
        (_replace("--wk", "1 2 3 4") + ["--heads", "2"], "--wk"),
        (_replace("--x", "1 0 1; 0 1 0") + ["--heads", "1"], "--wq"),
        (_replace("--x", "; ".join(["1 0 0 0"] * 17)) + ["--heads", "2"], "--x"),
        (BASE + ["--heads", "2", "--tokens", "a b c"], "--tokens"),
        (BASE + ["--heads", "2", "--mask", "future"], "--mask"),
        (["--example", "two-heads", "--heads", "3"], "--heads"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("multi-head", *args)
    assert code == 2, (out, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"Error: {option}"), err


def test_heads_error_names_the_divisibility(cli):
    _, _, err = cli("multi-head", *BASE, "--heads", "3")
    assert "not divisible" in err and "3" in err


def test_hostile_token_labels_stay_text():
    from derive.render import render

    raw = dict(TOPIC.examples["two-heads"], tokens="<script>x</script> \\input{/etc/passwd} $a$")
    d = derive("multi-head", **raw)
    markdown, latex = render(d, "markdown"), render(d, "latex")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown and "$a$" not in markdown
    assert "\\input{/etc/passwd}" not in latex and "\\textbackslash{}input" in latex


def test_split_wrong_needs_two_columns_per_head():
    """With d_k = 1, every h-th column and the consecutive columns are the same split."""
    from derive.api import prepare
    from derive.model import Values, run

    givens = prepare(TOPIC, {**TOPIC.examples["two-heads"], "heads": "4"})
    values = Values({**givens.values, **{s.name: s.value for s in run(TOPIC, givens).steps}})
    split = [m for s in TOPIC.stages for m in s.mistakes if m.id == "split-wrong"]
    assert split and all(m.compute(values) is None for m in split)
