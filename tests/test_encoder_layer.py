"""The encoder-layer topic: exact values against derive.forward and PyTorch in both orders of
normalisation and with padding, a case worked by hand, every misconception, follow-through and the
input errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, forward, registry
from derive.api import derive
from derive.render import render

TOPIC = registry.get("encoder-layer")
ANSWERS = ("attention_input", "attention", "residual1", "ffn_input", "ffn", "residual2", "output")


def text(matrix) -> str:
    return "; ".join(" ".join(str(v) for v in row) for row in np.atleast_2d(np.asarray(matrix)).tolist())


def decimals(matrix, places: int = 6) -> str:
    rows = np.atleast_2d(np.asarray(matrix, dtype=float))
    return "; ".join(" ".join(f"{v:.{places}f}" for v in row) for row in rows)


def numeric(value) -> np.ndarray:
    return np.array(value.evalf(30).tolist(), dtype=float)


def random_layer(seed: int, n_tokens: int = 3, d_model: int = 4, d_ff: int = 6):
    """Small integer weights, one dict of NumPy arrays (rows as tokens, weights as (in, out))."""
    rng = np.random.default_rng(seed)

    def ints(*shape):
        return rng.integers(-2, 3, shape)

    x = ints(n_tokens, d_model)
    while any(len(set(row)) == 1 for row in x.tolist()):
        x = ints(n_tokens, d_model)
    return {
        "x": x,
        "wq": ints(d_model, d_model),
        "wk": ints(d_model, d_model),
        "wv": ints(d_model, d_model),
        "wo": ints(d_model, d_model),
        "w1": ints(d_model, d_ff),
        "b1": ints(d_ff),
        "w2": ints(d_ff, d_model),
        "b2": ints(d_model),
    }


def run_topic(weights, **options):
    return derive("encoder-layer", **{k: text(v) for k, v in weights.items()}, **options)


def numpy_layer(w, heads: int, norm: str, eps: float, activation: str = "relu"):
    """The same layer built independently from derive.forward's blocks (γ = 1, β = 0, no attention biases)."""
    f = {k: np.asarray(v, dtype=float) for k, v in w.items()}
    attn = forward.MultiHeadAttention(f["wq"], f["wk"], f["wv"], f["wo"], heads)
    ffn = forward.FeedForward(f["w1"], f["b1"], f["w2"], f["b2"], activation)
    ln = forward.Norm(np.ones(f["x"].shape[1]), np.zeros(f["x"].shape[1]), eps)
    return forward.EncoderLayer(attn, ffn, ln, ln, norm == "pre")


def expected_answers(w, heads: int, norm: str, eps: float, activation="relu", padding=None) -> dict:
    trace: dict = {}
    x = np.asarray(w["x"], dtype=float)
    out = numpy_layer(w, heads, norm, eps, activation)(x, attention_mask=padding, trace=trace)
    pre = norm == "pre"
    return {
        "attention_input": trace["norm1.out"] if pre else x,
        "attention": trace["attn.out"],
        "residual1": trace["resid1"],
        "ffn_input": trace["norm2.out" if pre else "norm1.out"],
        "ffn": trace["ffn.out"],
        "residual2": trace["resid2"],
        "output": out,
    }


# --- exact values against NumPy and PyTorch -------------------------------------------------------------


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("heads", [1, 2])
def test_every_answer_equals_forward(seed, norm, heads):
    w = random_layer(seed)
    d = run_topic(w, heads=str(heads), norm=norm, eps="1e-5")
    expected = expected_answers(w, heads, norm, 1e-5)
    for name in ANSWERS:
        np.testing.assert_allclose(
            numeric(d.answers[name]), expected[name], rtol=1e-10, atol=1e-12, err_msg=name
        )


@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("padding", [[1, 1, 0], [1, 0, 0], [0, 1, 1]])
def test_padding_equals_forward(norm, padding):
    w = random_layer(7)
    d = run_topic(w, heads="2", norm=norm, eps="0", activation="gelu", padding=text(padding))
    expected = expected_answers(w, 2, norm, 0.0, "gelu", np.array(padding))
    for name in ANSWERS:
        np.testing.assert_allclose(
            numeric(d.answers[name]), expected[name], rtol=1e-10, atol=1e-12, err_msg=name
        )
    padded = [j for j, p in enumerate(padding) if not p]
    attention = next(s.value for s in d.steps if s.name == "qkv")
    for weights in attention.weights:  # every query gives the padded keys weight exactly 0
        assert all(weights[i, j] == 0 for i in range(3) for j in padded)


def torch_layer(torch, w, heads, norm, eps, activation):
    d_model, d_ff = w["w1"].shape
    layer = torch.nn.TransformerEncoderLayer(
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

    def t(a):
        return torch.tensor(np.asarray(a, dtype=float))

    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([t(w["wq"]).T, t(w["wk"]).T, t(w["wv"]).T]))
        layer.self_attn.in_proj_bias.zero_()
        layer.self_attn.out_proj.weight.copy_(t(w["wo"]).T)
        layer.self_attn.out_proj.bias.zero_()
        layer.linear1.weight.copy_(t(w["w1"]).T)
        layer.linear1.bias.copy_(t(w["b1"]))
        layer.linear2.weight.copy_(t(w["w2"]).T)
        layer.linear2.bias.copy_(t(w["b2"]))
    return layer


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("norm", ["post", "pre"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_output_equals_pytorch(seed, norm, activation):
    torch = require("torch")
    w = random_layer(20 + seed)
    padding = [1, 1, 0] if seed == 2 else None
    options = {"heads": "2", "norm": norm, "eps": "1e-5", "activation": activation}
    if padding:
        options["padding"] = text(padding)
    d = run_topic(w, **options)
    layer = torch_layer(torch, w, 2, norm, 1e-5, activation)
    src = torch.tensor(np.asarray(w["x"], dtype=float))[None]
    mask = None if padding is None else torch.tensor([[p == 0 for p in padding]])
    theirs = layer(src, src_key_padding_mask=mask)[0].detach().numpy()
    np.testing.assert_allclose(numeric(d.answers["output"]), theirs, rtol=1e-10, atol=1e-12)


# --- a layer worked by hand -----------------------------------------------------------------------------

# W_Q = W_K = 0 makes every score 0, so each token's attention is the plain mean of the value rows; with
# W_V = W_O = I that is the mean of the rows of u_1. With d_model = 2 and ε = 0 LayerNorm maps a row (p, q)
# to (-1, 1) or (1, -1), and the FFN is ReLU with identity weights.
HAND = {
    "x": "1 3; 3 1",
    "wq": "0 0; 0 0",
    "wk": "0 0; 0 0",
    "wv": "1 0; 0 1",
    "wo": "1 0; 0 1",
    "w1": "1 0; 0 1",
    "w2": "1 0; 0 1",
    "eps": "0",
}


def test_post_ln_by_hand():
    a = derive("encoder-layer", **HAND).answers
    assert a["attention_input"] == sp.Matrix([[1, 3], [3, 1]])
    assert a["attention"] == sp.Matrix([[2, 2], [2, 2]])  # the mean of the two rows
    assert a["residual1"] == sp.Matrix([[3, 5], [5, 3]])
    assert a["ffn_input"] == sp.Matrix([[-1, 1], [1, -1]])
    assert a["ffn"] == sp.Matrix([[0, 1], [1, 0]])
    assert a["residual2"] == sp.Matrix([[-1, 2], [2, -1]])
    assert a["output"] == sp.Matrix([[-1, 1], [1, -1]])


def test_pre_ln_by_hand():
    a = derive("encoder-layer", **HAND, norm="pre").answers
    assert a["attention_input"] == sp.Matrix([[-1, 1], [1, -1]])
    assert a["attention"] == sp.zeros(2, 2)  # the mean of (-1, 1) and (1, -1)
    assert a["residual1"] == sp.Matrix([[1, 3], [3, 1]])  # x itself, not LN(x)
    assert a["ffn_input"] == sp.Matrix([[-1, 1], [1, -1]])
    assert a["ffn"] == sp.Matrix([[0, 1], [1, 0]])
    assert a["residual2"] == sp.Matrix([[1, 4], [4, 1]])
    assert a["output"] == a["residual2"]  # pre-LN leaves the stream un-normalised


def test_epsilon_is_exact():
    a = derive("encoder-layer", **{**HAND, "eps": "1e-5"}).answers
    assert a["ffn_input"][0, 1] == 1 / sp.sqrt(1 + sp.Rational(1, 100000))


def test_answer_ids_do_not_depend_on_the_order():
    post = derive("encoder-layer", example="post")
    pre = derive("encoder-layer", example="pre")
    assert tuple(post.answers) == tuple(pre.answers) == ANSWERS
    assert TOPIC.result == "output"


def test_exact_forms_stay_small_and_later_values_are_fifty_digit_decimals():
    a = derive("encoder-layer", example="post").answers
    assert all(not e.has(sp.Float) for e in a["attention"])  # e^(s) forms, exact
    assert all(len(str(e)) < 400 for e in a["attention"])
    assert all(isinstance(e, sp.Float) and e._prec >= 160 for e in a["output"])  # 50 digits ≈ 166 bits


# --- misconceptions and follow-through -----------------------------------------------------------------


def example_weights(example: str) -> dict:
    """The example's weights as NumPy arrays, read from the topic's params (its inputs, not its answers)."""
    params = derive("encoder-layer", example=example).params
    out = {k: np.array(params[k], dtype=float) for k in ("x", "wq", "wk", "wv", "wo", "w1", "w2")}
    out.update(b1=np.array(params["b1"], dtype=float), b2=np.array(params["b2"], dtype=float))
    return out


def grade(example: str, answers: dict):
    given = [f"{k}={decimals(v)}" for k, v in answers.items()]
    return check.check(TOPIC, {}, given, example=example)


def ln(a, eps=0.0):
    return forward.layer_norm(np.asarray(a, dtype=float), eps=eps)


@pytest.mark.parametrize("example", ["post", "pre", "padding"])
def test_true_answers_are_correct(example):
    params = derive("encoder-layer", example=example).params
    padding = np.array(params["padding"]) if params.get("padding") else None
    heads = int(params["heads"])
    expected = expected_answers(example_weights(example), heads, params["norm"], 0.0, padding=padding)
    report = grade(example, expected)
    assert report.all_correct, [(i.id, i.verdict, i.mistake) for i in report.items]


def mistakes_for(example: str) -> list[tuple[str, str, np.ndarray]]:
    w = example_weights(example)
    heads = 2 if example != "padding" else 1
    norm = "pre" if example == "pre" else "post"
    padding = np.array([1, 1, 0]) if example == "padding" else None
    true = expected_answers(w, heads, norm, 0.0, padding=padding)
    attn = forward.MultiHeadAttention(w["wq"], w["wk"], w["wv"], w["wo"], heads)
    swapped_input = ln(w["x"]) if norm == "post" else w["x"]
    cases = [
        ("attention_input", "pre-post-swapped", swapped_input),
        ("residual1", "no-residual", true["attention"]),
        ("ffn_input", "no-residual", ln(true["attention"])),
        ("residual2", "no-residual", true["ffn"]),
    ]
    if norm == "post":
        cases += [
            ("attention", "pre-post-swapped", attn(swapped_input, attention_mask=padding)),
            ("residual2", "pre-post-swapped", true["residual1"] + true["ffn"]),
            ("output", "pre-post-swapped", true["residual2"]),
            ("output", "no-residual", ln(true["ffn"])),
        ]
    else:
        cases += [
            ("residual1", "normalised-residual", true["attention_input"] + true["attention"]),
            ("residual2", "normalised-residual", true["ffn_input"] + true["ffn"]),
            ("output", "pre-post-swapped", ln(true["residual2"])),
        ]
    if example == "padding":
        cases.append(("attention", "no-padding-mask", attn(w["x"])))
    return cases


@pytest.mark.parametrize(
    "example,answer,mistake,value",
    [(e, *case) for e in ("post", "pre", "padding") for case in mistakes_for(e)],
    ids=lambda p: p if isinstance(p, str) else "",
)
def test_each_misconception_is_named(example, answer, mistake, value):
    item = grade(example, {answer: value}).item(answer)
    assert item.verdict == "wrong" and item.mistake == mistake, (item.verdict, item.mistake)
    assert item.hint


def test_relu_for_gelu():
    w = random_layer(3)
    d = run_topic(w, activation="gelu", eps="0")
    true = {k: numeric(v) for k, v in d.answers.items()}
    relu_ffn = forward.FeedForward(*(np.asarray(w[k], float) for k in ("w1", "b1", "w2", "b2")), "relu")
    given = [f"ffn={decimals(relu_ffn(true['ffn_input']))}"]
    raw = {k: text(v) for k, v in w.items()} | {"activation": "gelu", "eps": "0"}
    item = check.check(TOPIC, raw, given).item("ffn")
    assert item.mistake == "relu-for-gelu"


def test_wrong_residual_follows_through_to_the_norm_and_beyond():
    true = {k: numeric(v) for k, v in derive("encoder-layer", example="post").answers.items()}
    wrong = true["residual1"].copy()
    wrong[0, 0] += 1.0
    own_norm = ln(wrong)
    report = grade("post", {"residual1": wrong, "ffn_input": own_norm})
    assert report.item("residual1").verdict == "wrong"
    assert report.item("ffn_input").verdict == "follows-through"


def test_wrong_attention_input_follows_through_to_the_attention():
    true = {k: numeric(v) for k, v in derive("encoder-layer", example="pre").answers.items()}
    w = example_weights("pre")
    wrong = true["attention_input"].copy()
    wrong[1, 2] += 0.5
    attn = forward.MultiHeadAttention(w["wq"], w["wk"], w["wv"], w["wo"], 2)
    report = grade("pre", {"attention_input": wrong, "attention": attn(wrong)})
    assert report.item("attention").verdict == "follows-through"


# --- inputs and output --------------------------------------------------------------------------------


W1 = "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1"


@pytest.mark.parametrize(
    "args,option",
    [
        (("--x", "1 2 3; 4 5 6"), "--wq"),
        (("--x", "1 0 1 0; 0 1 0 1", "--heads", "3"), "--heads"),
        (("--x", "1 0 1 0; 0 1 0 1", "--heads", "0"), "--heads"),
        (("--x", "1 0 1 0; 0 1 0 1", "--padding", "1 0 1"), "--padding"),
        (("--x", "1 0 1 0; 0 1 0 1", "--padding", "1 2"), "--padding"),
        (("--x", "1 0 1 0; 0 1 0 1", "--padding", "0 0"), "--padding"),
        (("--x", "1 0 1 0; 0 1 0 1", "--tokens", "a b c"), "--tokens"),
        (("--x", "1 0 1 0; 0 1 0 1", "--eps", "-1"), "--eps"),
        (("--x", "1 1 1 1; 0 1 0 1", "--eps", "0", "--norm", "pre"), "--eps"),
        (("--x", "1 0 1 0; 0 1 0 1", "--norm", "middle"), "--norm"),
        (("--x", "1 0 1 0; 0 1 0 1", "--activation", "tanh"), "--activation"),
        (("--x", "1 0 1 0; 0 1 0 1", "--wq", "1 0; 0 1"), "--wk"),
        (("--x", "1 0; 0 1", "--wq", "1 0; 0 1", "--wk", "1 0; 0 1", "--wv", "1 0; 0 1"), "--wo"),
        (("--x", "1 0 1 0; 0 1 0 1", "--w1", "1 0; 0 1; 1 1; 0 0", "--w2", "1 0 0 0"), "--w2"),
        (("--x", "1 0 1 0; 0 1 0 1", "--b1", "1 2"), "--w1"),
        (("--x", "1 0 1 0; 0 1 0 1", "--w1", W1, "--w2", W1, "--b1", "1 2 3"), "--b1"),
        (("--x", "; ".join(["1 0 1 0"] * 9)), "--x"),
        ((), "--x"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("encoder-layer", *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and option in err, err


def test_default_weights_keep_the_command_short(cli):
    code, out, err = cli("encoder-layer", "--x", "1 0 1 0; 0 2 0 1", "-f", "json")
    assert code == 0, err
    assert '"wq"' in out and '"w1"' in out


def test_check_command_exit_codes(cli):
    true = {k: numeric(v) for k, v in derive("encoder-layer", example="padding").answers.items()}
    right = ("--answer", f"output={decimals(true['output'])}")
    assert cli("check", "encoder-layer", "--example", "padding", *right)[0] == 0
    wrong = ("--answer", f"output={decimals(true['residual2'])}")
    code, out, _ = cli("check", "encoder-layer", "--example", "padding", *wrong)
    assert code == 1 and "pre-post-swapped" in out


def test_token_labels_are_escaped():
    d = derive("encoder-layer", x="1 0 1 0; 0 2 0 1", tokens="\\input{x} $a$")
    latex = render(d, "latex")
    assert "\\input{x}" not in latex and "$a$" not in latex


@pytest.mark.parametrize("norm", ["post", "pre"])
def test_long_exact_sums_switch_to_fifty_digits_and_stay_right(norm):
    """Eight tokens make the exact attention sums too long to carry: they become 50-digit decimals."""
    w = random_layer(11, n_tokens=8, d_model=4, d_ff=4)
    d = run_topic(w, heads="1", norm=norm, eps="1e-5")
    assert all(isinstance(e, sp.Float) or e == 0 for e in d.answers["attention"])
    expected = expected_answers(w, 1, norm, 1e-5)
    for name in ANSWERS:
        np.testing.assert_allclose(
            numeric(d.answers[name]), expected[name], rtol=1e-10, atol=1e-12, err_msg=name
        )
