"""The decoder-layer topic: exact values against derive.forward and PyTorch in both orders of
normalisation, a case worked by hand, the causal and cross-attention misconceptions, follow-through and
the input errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require
from test_encoder_layer import decimals, numeric, text

from derive import check, forward, registry
from derive.api import derive

TOPIC = registry.get("decoder-layer")
ANSWERS = (
    "self_input",
    "self_attention",
    "residual1",
    "cross_input",
    "cross_attention",
    "residual2",
    "ffn_input",
    "ffn",
    "residual3",
    "output",
)
SELF, CROSS, FFN = ("wq", "wk", "wv", "wo"), ("cq", "ck", "cv", "co"), ("w1", "b1", "w2", "b2")


def random_layer(seed: int, n_target: int = 3, n_source: int = 2, d_model: int = 4, d_ff: int = 6) -> dict:
    rng = np.random.default_rng(seed)

    def ints(*shape):
        return rng.integers(-2, 3, shape)

    x = ints(n_target, d_model)
    while any(len(set(row)) == 1 for row in x.tolist()):
        x = ints(n_target, d_model)
    w = {"x": x, "memory": ints(n_source, d_model)}
    w.update({k: ints(d_model, d_model) for k in SELF + CROSS})
    w.update(w1=ints(d_model, d_ff), b1=ints(d_ff), w2=ints(d_ff, d_model), b2=ints(d_model))
    return w


def floats(w) -> dict:
    return {k: np.asarray(v, dtype=float) for k, v in w.items()}


def expected_answers(w, heads: int, norm: str, eps: float, activation: str = "relu") -> dict:
    """The same layer built independently from derive.forward (γ = 1, β = 0, no attention biases)."""
    f = floats(w)
    self_attn = forward.MultiHeadAttention(*(f[k] for k in SELF), heads)
    cross_attn = forward.MultiHeadAttention(*(f[k] for k in CROSS), heads)
    ffn = forward.FeedForward(*(f[k] for k in FFN), activation)
    ln = forward.Norm(np.ones(f["x"].shape[1]), np.zeros(f["x"].shape[1]), eps)
    layer = forward.DecoderLayer(self_attn, cross_attn, ffn, ln, ln, ln, norm == "pre")
    trace: dict = {}
    out = layer(f["x"], f["memory"], causal=True, trace=trace)
    pre = norm == "pre"
    return {
        "self_input": trace["norm1.out"] if pre else f["x"],
        "self_attention": trace["self_attn.out"],
        "residual1": trace["resid1"],
        "cross_input": trace["norm2.out" if pre else "norm1.out"],
        "cross_attention": trace["cross_attn.out"],
        "residual2": trace["resid2"],
        "ffn_input": trace["norm3.out" if pre else "norm2.out"],
        "ffn": trace["ffn.out"],
        "residual3": trace["resid3"],
        "output": out,
    }


def run_topic(w, **options):
    return derive("decoder-layer", **{k: text(v) for k, v in w.items()}, **options)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("heads", [1, 2])
def test_every_answer_equals_forward(seed, norm, heads):
    w = random_layer(seed, n_source=2 + seed % 2)
    d = run_topic(w, heads=str(heads), norm=norm, eps="1e-5", activation="gelu" if seed == 1 else "relu")
    expected = expected_answers(w, heads, norm, 1e-5, "gelu" if seed == 1 else "relu")
    for name in ANSWERS:
        np.testing.assert_allclose(
            numeric(d.answers[name]), expected[name], rtol=1e-10, atol=1e-12, err_msg=name
        )


def test_causal_weights_are_exactly_zero_above_the_diagonal():
    d = run_topic(random_layer(4), heads="2", eps="0")
    attention = next(s.value for s in d.steps if s.name == "self_qkv")
    for weights in attention.weights:
        assert all(weights[i, j] == 0 for i in range(3) for j in range(i + 1, 3))
    cross = next(s.value for s in d.steps if s.name == "cross_qkv")
    assert all(w.shape == (3, 2) for w in cross.weights)  # target rows × source columns


def torch_layer(torch, w, heads, norm, eps, activation):
    d_model, d_ff = w["w1"].shape
    layer = torch.nn.TransformerDecoderLayer(
        d_model,
        heads,
        d_ff,
        dropout=0.0,
        activation=activation,
        layer_norm_eps=eps,
        batch_first=True,
        norm_first=norm == "pre",
        dtype=torch.float64,
    )
    f = {k: torch.tensor(v) for k, v in floats(w).items()}
    with torch.no_grad():
        for attn, names in ((layer.self_attn, SELF), (layer.multihead_attn, CROSS)):
            attn.in_proj_weight.copy_(torch.cat([f[names[0]].T, f[names[1]].T, f[names[2]].T]))
            attn.in_proj_bias.zero_()
            attn.out_proj.weight.copy_(f[names[3]].T)
            attn.out_proj.bias.zero_()
        layer.linear1.weight.copy_(f["w1"].T)
        layer.linear1.bias.copy_(f["b1"])
        layer.linear2.weight.copy_(f["w2"].T)
        layer.linear2.bias.copy_(f["b2"])
    return layer


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_output_equals_pytorch(seed, norm, activation):
    torch = require("torch")
    w = random_layer(30 + seed, n_source=3 - seed)
    d = run_topic(w, heads="2", norm=norm, eps="1e-5", activation=activation)
    layer = torch_layer(torch, w, 2, norm, 1e-5, activation)
    tgt = torch.tensor(floats(w)["x"])[None]
    memory = torch.tensor(floats(w)["memory"])[None]
    mask = torch.nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], dtype=torch.float64)
    theirs = layer(tgt, memory, tgt_mask=mask, tgt_is_causal=True)[0].detach().numpy()
    np.testing.assert_allclose(numeric(d.answers["output"]), theirs, rtol=1e-10, atol=1e-12)


# --- a layer worked by hand -----------------------------------------------------------------------------

# Zero queries and keys give every visible key the same weight: under the causal mask token 1 sees only
# itself and token 2 averages both; cross-attention averages the memory rows, (5, 1) and (1, -1) -> (3, 0).
# With d_model = 2 and ε = 0 LayerNorm maps a row (p, q) to (-1, 1) or (1, -1).
HAND = {
    "x": "1 3; 3 1",
    "memory": "5 1; 1 -1",
    **{k: "0 0; 0 0" for k in ("wq", "wk", "cq", "ck")},
    **{k: "1 0; 0 1" for k in ("wv", "wo", "cv", "co", "w1", "w2")},
    "eps": "0",
}


def test_post_ln_by_hand():
    a = derive("decoder-layer", **HAND).answers
    assert a["self_attention"] == sp.Matrix([[1, 3], [2, 2]])
    assert a["residual1"] == sp.Matrix([[2, 6], [5, 3]])
    assert a["cross_input"] == sp.Matrix([[-1, 1], [1, -1]])
    assert a["cross_attention"] == sp.Matrix([[3, 0], [3, 0]])
    assert a["residual2"] == sp.Matrix([[2, 1], [4, -1]])
    assert a["ffn_input"] == sp.Matrix([[1, -1], [1, -1]])
    assert a["ffn"] == sp.Matrix([[1, 0], [1, 0]])
    assert a["residual3"] == sp.Matrix([[2, -1], [2, -1]])
    assert a["output"] == sp.Matrix([[1, -1], [1, -1]])


def test_pre_ln_by_hand():
    a = derive("decoder-layer", **HAND, norm="pre").answers
    assert a["self_input"] == sp.Matrix([[-1, 1], [1, -1]])
    assert a["self_attention"] == sp.Matrix([[-1, 1], [0, 0]])
    assert a["residual1"] == sp.Matrix([[0, 4], [3, 1]])
    assert a["cross_attention"] == sp.Matrix([[3, 0], [3, 0]])
    assert a["residual2"] == sp.Matrix([[3, 4], [6, 1]])
    assert a["ffn"] == sp.Matrix([[0, 1], [1, 0]])
    assert a["output"] == a["residual3"] == sp.Matrix([[3, 5], [7, 1]])


def test_answer_ids_do_not_depend_on_the_order():
    assert tuple(derive("decoder-layer", example="post").answers) == ANSWERS
    assert tuple(derive("decoder-layer", example="pre").answers) == ANSWERS


# --- misconceptions and follow-through -----------------------------------------------------------------


def grade(w, answers: dict, **options):
    raw = {k: text(v) for k, v in w.items()} | options
    return check.check(TOPIC, raw, [f"{k}={decimals(v)}" for k, v in answers.items()])


def ln(a):
    return forward.layer_norm(np.asarray(a, dtype=float), eps=0.0)


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_true_answers_are_correct(norm):
    w = random_layer(5)
    report = grade(w, expected_answers(w, 1, norm, 0.0), norm=norm, eps="0")
    assert report.all_correct, [(i.id, i.verdict, i.mistake) for i in report.items]


def misconceptions(norm: str):
    w = random_layer(6)
    f, true = floats(w), expected_answers(w, 1, norm, 0.0)
    self_attn = forward.MultiHeadAttention(*(f[k] for k in SELF), 1)
    cross_attn = forward.MultiHeadAttention(*(f[k] for k in CROSS), 1)
    cases = [
        ("self_attention", "no-causal-mask", self_attn(true["self_input"])),
        ("cross_attention", "cross-from-decoder", cross_attn(true["cross_input"])),
        ("cross_input", "no-residual", ln(true["self_attention"])),
        ("ffn_input", "no-residual", ln(true["cross_attention"])),
        ("residual3", "no-residual", true["ffn"]),
    ]
    if norm == "post":
        cases += [
            ("self_input", "pre-post-swapped", ln(f["x"])),
            ("residual2", "pre-post-swapped", true["residual1"] + true["cross_attention"]),
            ("output", "pre-post-swapped", true["residual3"]),
        ]
    else:
        cases += [
            ("self_input", "pre-post-swapped", f["x"]),
            ("residual2", "normalised-residual", true["cross_input"] + true["cross_attention"]),
            ("output", "pre-post-swapped", ln(true["residual3"])),
        ]
    return [(w, norm, *case) for case in cases]


@pytest.mark.parametrize(
    "w,norm,answer,mistake,value",
    misconceptions("post") + misconceptions("pre"),
    ids=lambda p: p if isinstance(p, str) else "",
)
def test_each_misconception_is_named(w, norm, answer, mistake, value):
    item = grade(w, {answer: value}, norm=norm, eps="0").item(answer)
    assert item.verdict == "wrong" and item.mistake == mistake, (item.verdict, item.mistake)


def test_wrong_cross_attention_follows_through():
    w = random_layer(8)
    true = expected_answers(w, 1, "post", 0.0)
    wrong = true["cross_attention"].copy()
    wrong[1, 0] -= 0.75
    own = true["cross_input"] + wrong
    report = grade(w, {"cross_attention": wrong, "residual2": own, "ffn_input": ln(own)}, eps="0")
    assert report.item("cross_attention").verdict == "wrong"
    assert report.item("residual2").verdict == "follows-through"
    assert report.item("ffn_input").verdict == "follows-through"


# --- inputs --------------------------------------------------------------------------------------------

X4 = "1 0 1 0; 0 2 0 0"


@pytest.mark.parametrize(
    "args,option",
    [
        (("--x", X4), "--memory"),
        (("--x", X4, "--memory", "1 0 1; 0 1 0"), "--memory"),
        (("--x", X4, "--memory", "1 0 1 0", "--memory-tokens", "a b"), "--memory-tokens"),
        (("--x", X4, "--memory", "1 0 1 0", "--tokens", "a"), "--tokens"),
        (("--x", X4, "--memory", "1 0 1 0", "--cq", "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1"), "--ck"),
        (("--x", X4, "--memory", "1 0 1 0", "--heads", "3"), "--heads"),
        (("--x", "1 1 1 1", "--memory", "1 0 1 0", "--norm", "pre", "--eps", "0"), "--eps"),
        (("--x", "1 0 1; 0 1 0", "--memory", "1 0 1"), "--wq"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("decoder-layer", *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and option in err, err


def test_check_command_names_the_causal_mistake(cli):
    d = derive("decoder-layer", example="post")
    w = {k: np.array(v, dtype=float) for k, v in d.params.items() if k in ("x", *SELF)}
    unmasked = forward.MultiHeadAttention(*(w[k] for k in SELF), 1)(w["x"])
    code, out, _ = cli(
        "check", "decoder-layer", "--example", "post", "--answer", f"self_attention={decimals(unmasked)}"
    )
    assert code == 1 and "no-causal-mask" in out
