"""The kv-cache topic: cached decoding equals full causal recomputation (exactly, in NumPy's KVCache
and in PyTorch), hand-derived FLOPs and bytes, misconceptions, follow-through and input errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, forward, registry
from derive.api import derive

TOPIC = registry.get("kv-cache")


def _text(matrix) -> str:
    return "; ".join(" ".join(str(v) for v in row) for row in np.asarray(matrix).tolist())


def _decimals(matrix, places: int = 8) -> str:
    rows = np.atleast_2d(np.asarray(matrix, dtype=float))
    return "; ".join(" ".join(f"{v:.{places}f}" for v in row) for row in rows)


def _numeric(value) -> np.ndarray:
    if not isinstance(value, sp.MatrixBase):
        return np.array(float(value))
    return np.array(value.evalf(30).tolist(), dtype=float)


def _random(seed: int, n: int, width: int, d: int):
    rng = np.random.default_rng(seed)
    return rng.integers(-2, 3, (n, width)), *(rng.integers(-2, 3, (width, d)) for _ in range(3))


def _derive(x, wq, wk, wv, heads=1, dtype="fp16"):
    return derive("kv-cache", x=_text(x), wq=_text(wq), wk=_text(wk), wv=_text(wv), heads=heads, dtype=dtype)


# --- the cache changes nothing: exact, NumPy and PyTorch --------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("heads", [1, 2])
def test_cached_outputs_equal_full_recomputation_exactly(seed, heads):
    x, wq, wk, wv = _random(seed, 4, 3, 4)
    a = _derive(x, wq, wk, wv, heads).answers
    assert a["outputs"] == a["recomputed"]
    assert a["K_cache"] == sp.Matrix((x @ wk).tolist()) and a["V_cache"] == sp.Matrix((x @ wv).tolist())
    for i in range(heads):  # lower triangular: no step sees a later key
        block = a["weights"][i * 4 : (i + 1) * 4, :]
        assert all(block[r, c] == 0 for r in range(4) for c in range(r + 1, 4))


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("heads", [1, 2, 4])
def test_outputs_equal_forward_multihead_attention_with_its_cache(seed, heads):
    """forward.MultiHeadAttention, fed one token at a time with a KVCache (W_O = I)."""
    x, wq, wk, wv = _random(20 + seed, 4, 4, 4)
    a = _derive(x, wq, wk, wv, heads).answers
    layer = forward.MultiHeadAttention(*(w.astype(float) for w in (wq, wk, wv)), np.eye(4), heads)
    cache = forward.KVCache()
    rows = [layer(x[t : t + 1].astype(float), causal=True, cache=cache)[0] for t in range(4)]
    np.testing.assert_allclose(_numeric(a["outputs"]), np.array(rows), rtol=1e-12, atol=1e-12)
    full = layer(x.astype(float), causal=True)
    np.testing.assert_allclose(_numeric(a["recomputed"]), full, rtol=1e-12, atol=1e-12)
    assert len(cache) == 4


@pytest.mark.parametrize("seed", range(3))
def test_outputs_equal_pytorch_causal_attention(seed):
    torch = require("torch")
    x, wq, wk, wv = _random(40 + seed, 4, 3, 2)
    a = _derive(x, wq, wk, wv).answers
    q, k, v = (torch.from_numpy((x @ w).astype(float)) for w in (wq, wk, wv))
    theirs = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(_numeric(a["outputs"]), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_each_step_matches_attention_over_its_prefix():
    """Row t of the cached outputs is the last row of plain attention over tokens 1..t."""
    x, wq, wk, wv = _random(3, 4, 3, 2)
    a = _derive(x, wq, wk, wv).answers
    for t in range(1, 5):
        prefix = derive("attention", x=_text(x[:t]), wq=_text(wq), wk=_text(wk), wv=_text(wv), mask="causal")
        assert a["outputs"].row(t - 1) == prefix.answers["output"].row(t - 1)


# --- the decode example, by hand ------------------------------------------------------------------------


def test_decode_example_by_hand():
    a = derive("kv-cache", example="decode").answers
    # step 2: q = (2, 1, 2, 1), keys (0, 1, 0, 1) and (1, 0, 1, 0): scores (2, 4), halved (1, 2)
    total = sp.E + sp.E**2
    assert sp.simplify(a["weights"][1, 0] - sp.E / total) == 0 and a["weights"][1, 2] == 0
    # FLOPs: c_qkv = 3·2·3·4 = 72 and c_qk = 2·2·4 = 16 over T = 4 steps.
    # cached: 4·72 + 16·(1+2+3+4) = 288 + 160 = 448; full: 72·10 + 16·(1+4+9+16) = 720 + 480 = 1200.
    assert (a["flops_cached"], a["flops_full"], a["flops_saved"]) == (448, 1200, 752)
    assert a["cache_bytes"] == 2 * 1 * 4 * 4 * 2  # K and V · 1 head · d_k 4 · 4 tokens · fp16


@pytest.mark.parametrize("dtype, size", [("fp32", 4), ("fp16", 2), ("bf16", 2), ("int8", 1)])
def test_cache_bytes_equal_a_real_kvcache(dtype, size):
    a = derive("kv-cache", example="two-heads", dtype=dtype).answers
    cache = forward.KVCache()
    kind = {4: np.float32, 2: np.float16, 1: np.int8}[size]
    cache.append(np.zeros((2, 3, 2), kind), np.zeros((2, 3, 2), kind))  # (heads, tokens, d_k)
    assert a["cache_bytes"] == cache.nbytes == 2 * 2 * 2 * 3 * size


def test_flops_counted_by_running_the_products():
    """The closed forms against a loop that adds 2·m·k·n for every product it performs."""
    for seed in range(3):
        rng = np.random.default_rng(seed)
        n, width, d = (int(v) for v in rng.integers(2, 6, 3))
        a = _derive(*_random(seed, n, width, d)).answers
        cached = full = 0
        for t in range(1, n + 1):
            cached += 3 * 2 * width * d + 2 * t * d + 2 * t * d
            full += 3 * 2 * t * width * d + 2 * t * t * d + 2 * t * t * d
        assert (a["flops_cached"], a["flops_full"]) == (cached, full)


# --- misconceptions and follow-through -----------------------------------------------------------------


def _check(example="decode", **answers):
    return check.check(TOPIC, {}, [f"{k}={v}" for k, v in answers.items()], example=example)


def _unmasked(example):
    raw = TOPIC.examples[example]

    def array(text):
        return np.array([[float(e) for e in row.split()] for row in text.split(";")])

    x, wq, wk, wv, heads = (*(array(raw[k]) for k in ("x", "wq", "wk", "wv")), int(raw.get("heads", 1)))
    d = wq.shape[1] // heads
    weights, outputs = [], []
    for i in range(heads):
        cols = slice(i * d, (i + 1) * d)
        out, w = forward.scaled_dot_product_attention(x @ wq[:, cols], x @ wk[:, cols], x @ wv[:, cols])
        weights.append(w)
        outputs.append(out)
    return np.vstack(weights), np.hstack(outputs)


def test_correct_answers_trigger_no_mistake():
    for example in TOPIC.examples:
        answers = derive("kv-cache", example=example).answers
        report = _check(example, **{k: _decimals(_numeric(v)) for k, v in answers.items()})
        assert report.all_correct, [(i.id, i.verdict) for i in report.items]
        assert all(item.mistake is None for item in report.items)


@pytest.mark.parametrize("example", ["decode", "two-heads"])
def test_no_causal(example):
    weights, outputs = _unmasked(example)
    assert _check(example, weights=_decimals(weights)).item("weights").mistake == "no-causal"
    assert _check(example, outputs=_decimals(outputs)).item("outputs").mistake == "no-causal"
    item = _check(example, recomputed=_decimals(outputs)).item("recomputed")
    assert item.verdict == "wrong" and item.mistake == "no-causal" and item.hint


def test_cache_size_mistakes():
    assert _check(cache_bytes="32").item("cache_bytes").mistake == "keys-only"
    assert _check(cache_bytes="96").item("cache_bytes").mistake == "cache-queries"


@pytest.mark.parametrize("name, halved", [("flops_cached", 224), ("flops_full", 600), ("flops_saved", 376)])
def test_macs_for_flops(name, halved):
    """One FLOP per multiply-add halves each count (448, 1200 and 752 for the decode example)."""
    assert _check(**{name: str(halved)}).item(name).mistake == "macs-for-flops"


def test_macs_for_flops_is_counted_once():
    report = _check(flops_cached="224", flops_full="600", flops_saved="376")
    assert report.item("flops_full").mistake == "macs-for-flops"
    assert report.item("flops_saved").verdict == "follows-through"


def test_follow_through_to_the_saving():
    report = _check(flops_cached="448", flops_full="1100", flops_saved="652")
    assert report.item("flops_full").verdict == "wrong"
    assert report.item("flops_saved").verdict == "follows-through"


def test_follow_through_from_a_slip_in_the_weights():
    truth = _numeric(derive("kv-cache", example="decode").answers["weights"])
    values = _numeric(derive("kv-cache", example="decode").answers["V_cache"])
    weights = truth.copy()
    weights[1, :2] = [0.5, 0.5]
    report = _check(weights=_decimals(weights), outputs=_decimals(weights @ values))
    assert report.item("weights").verdict == "wrong"
    assert report.item("outputs").verdict == "follows-through"


def test_mistake_ids_and_answers():
    ids = {m.id for s in TOPIC.stages for m in s.mistakes}
    assert ids == {"no-causal", "not-normalised", "macs-for-flops", "keys-only", "cache-queries"}
    assert TOPIC.answer_ids == (
        "K_cache",
        "V_cache",
        "weights",
        "outputs",
        "recomputed",
        "flops_cached",
        "flops_full",
        "flops_saved",
        "cache_bytes",
    )


# --- input errors ---------------------------------------------------------------------------------------

W = "1 0; 0 1; 1 1"
BASE = ["--x", "1 0 1; 0 1 1", "--wq", W, "--wk", W, "--wv", W]


def _replace(option, value):
    args = list(BASE)
    args[args.index(option) + 1] = value
    return args


@pytest.mark.parametrize(
    "args, option",
    [
        (["--wq", W, "--wk", W, "--wv", W], "--x"),
        (BASE[:6], "--wv"),
        (BASE + ["--heads", "3"], "--heads"),
        (BASE + ["--heads", "0"], "--heads"),
        (_replace("--wk", "1 0 0; 0 1 0; 1 1 0"), "--wk"),
        (_replace("--wv", "1 0; 0 1"), "--wv"),
        (_replace("--x", "1 0; 0 1"), "--wq"),
        (_replace("--x", "; ".join(["1 0 1"] * 17)), "--x"),
        (BASE + ["--tokens", "a b c"], "--tokens"),
        (BASE + ["--dtype", "fp64"], "--dtype"),
        (_replace("--wq", "__import__('os')"), "--wq"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option):
    code, out, err = cli("kv-cache", *args)
    assert code == 2, (out, err)
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"Error: {option}"), err


def test_hostile_token_labels_stay_text():
    from derive.render import render

    raw = dict(TOPIC.examples["decode"], tokens="<b>a</b> \\input{x} $y$ z")
    d = derive("kv-cache", **raw)
    markdown, latex = render(d, "markdown"), render(d, "latex")
    assert "<b>" not in markdown and "&lt;b&gt;" in markdown and "$y$" not in markdown
    assert "\\input{x}" not in latex and "\\textbackslash{}input" in latex
