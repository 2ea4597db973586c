"""The KV cache: decode token by token, keep every key and value, attend with one new query per step.

The outputs equal full causal attention recomputed from scratch; the topic then counts the FLOPs
saved and the bytes the cache costs. With --heads, each head reads its own d_k columns of the caches.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.costmodel.presets import DTYPE_BYTES
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.kv_cache import explain, stages

PROJECTIONS = (("x", "X"), ("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))


def _heads_option(value, option):
    return inputs.integer(value, option, 1, limits.MAX_DIM)


def _check_tokens(labels, n_rows: int) -> list[str]:
    if labels is None:
        return [f"t{i}" for i in range(1, n_rows + 1)]
    if len(labels) != n_rows:
        raise InputError("--tokens", f"{len(labels)} tokens but X has {n_rows} rows; give one token per row")
    return labels


def _random_matrix(rng, rows, cols):
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


# --- inputs ---------------------------------------------------------------------------------------


def _prepare(options) -> Givens:
    x = options["x"]
    limits.check_shape("--x", x)
    for name, symbol in PROJECTIONS[1:]:
        w = options[name]
        limits.check_shape("--" + name, w, rows=limits.MAX_DIM, cols=limits.MAX_DIM)
        if w.rows != x.cols:
            raise InputError(
                "--" + name,
                f"{symbol} has {w.rows} rows but X has {x.cols} columns; X {symbol} needs them equal",
            )
        if w.cols != options["wq"].cols:
            raise InputError(
                "--" + name,
                f"{symbol} has {w.cols} columns but W_Q has {options['wq'].cols}; give all three the same width",
            )
    heads, width = options["heads"], options["wq"].cols
    if width % heads:
        raise InputError("--heads", f"the width {width} of W_Q is not divisible by {heads} heads")
    labels = _check_tokens(options["tokens"], x.rows)
    values = {symbol: options[name] for name, symbol in PROJECTIONS}
    values.update(
        H=heads,
        D=width,
        d_k=sp.Integer(width // heads),
        d_model=x.cols,
        n=x.rows,
        tokens=tuple(labels),
        dtype=options["dtype"],
        bytes=DTYPE_BYTES[options["dtype"]],
    )
    params = {name: [[str(e) for e in row] for row in options[name].tolist()] for name, _ in PROJECTIONS}
    params.update(heads=heads, tokens=list(labels), dtype=options["dtype"])
    return Givens("The KV cache: decoding token by token", values, explain.intro(values), params)


# --- test-suite hooks -----------------------------------------------------------------------------


def _sample(rng):
    heads, d_head, n, width = (int(rng.integers(low, high)) for low, high in ((1, 3), (1, 3), (2, 5), (2, 5)))
    raw = {name: _random_matrix(rng, width, heads * d_head) for name in ("wq", "wk", "wv")}
    dtype = str(rng.choice(list(DTYPE_BYTES)))
    return {**raw, "x": _random_matrix(rng, n, width), "heads": str(heads), "dtype": dtype}


def _reference(options):
    """A decoding loop on derive.forward's KVCache, counting the FLOPs of every product it runs."""
    import numpy as np

    from derive import forward

    def array(name):
        return np.array(options[name].evalf(30).tolist(), dtype=float)

    x, heads = array("x"), options["heads"]  # (T, C)
    W = {name: array(name) for name in ("wq", "wk", "wv")}  # (C, D) each
    n, width = x.shape[0], W["wq"].shape[1]
    d_head = width // heads

    def split(rows):  # (t, D) -> (h, t, d_k)
        return rows.reshape(len(rows), heads, d_head).swapaxes(0, 1)

    def flops(a, b):  # 2·m·k·n per product, over the leading (head) axis
        return 2 * int(np.prod(a.shape[:-1])) * a.shape[-1] * b.shape[-1]

    cache, counted = forward.KVCache(), {"cached": 0, "full": 0}
    outputs, weights = [], np.zeros((heads, n, n))
    for step in range(n):
        new = x[step : step + 1]  # (1, C)
        q, k, v = (split(new @ W[name]) for name in ("wq", "wk", "wv"))  # (h, 1, d_k) each
        K, V = cache.append(k, v)  # (h, t, d_k)
        out, w = forward.scaled_dot_product_attention(q, K, V)  # (h, 1, d_k), (h, 1, t)
        outputs.append(out[:, 0, :].reshape(width))
        weights[:, step, : step + 1] = w[:, 0, :]
        counted["cached"] += 3 * flops(new, W["wq"]) + flops(q, K.swapaxes(-1, -2)) + flops(w, V)
        prefix = x[: step + 1]  # (t, C)
        q_all, k_all = split(prefix @ W["wq"]), split(prefix @ W["wk"])  # (h, t, d_k)
        counted["full"] += 3 * flops(prefix, W["wq"]) + 2 * flops(q_all, k_all.swapaxes(-1, -2))
    Q, K, V = (split(x @ W[name]) for name in ("wq", "wk", "wv"))  # (h, T, d_k)
    full, _ = forward.scaled_dot_product_attention(Q, K, V, forward.causal_mask(n))  # (h, T, d_k)
    stored = forward.KVCache()
    dtype = {1: np.int8, 2: np.float16, 4: np.float32}[DTYPE_BYTES[options["dtype"]]]
    stored.append(K.astype(dtype), V.astype(dtype))
    return {
        "K_cache": cache.k.swapaxes(0, 1).reshape(n, width),
        "V_cache": cache.v.swapaxes(0, 1).reshape(n, width),
        "weights": weights.reshape(heads * n, n),
        "outputs": np.array(outputs),
        "recomputed": full.swapaxes(0, 1).reshape(n, width),
        "flops_cached": float(counted["cached"]),
        "flops_full": float(counted["full"]),
        "flops_saved": float(counted["full"] - counted["cached"]),
        "cache_bytes": float(stored.nbytes),
    }


DECODE = {
    "tokens": "the cat sat down",
    "x": "1 0 1; 0 1 1; 1 1 0; 0 0 1",
    "wq": "0 1 0 1; 1 0 1 0; 1 1 1 1",
    "wk": "0 1 0 1; 1 0 1 0; 0 0 0 0",
    "wv": "1 0 0 1; 0 1 0 1; 0 0 1 0",
}
TWO_HEADS = {
    "tokens": "I like tea",
    "x": "1 0 1; 0 1 1; 1 1 0",
    "wq": "1 0 0 1; 0 1 1 0; 1 1 0 0",
    "wk": "1 0 1 0; 1 1 0 1; 0 1 0 1",
    "wv": "1 0 0 1; 0 1 1 0; 0 0 1 0",
    "heads": "2",
}


TOPIC = Topic(
    name="kv-cache",
    summary="The KV cache: decoding step by step, cached outputs equal full causal attention; FLOPs and bytes",
    options=(
        Option("x", "token embeddings X, one row per token, in decoding order", inputs.matrix, required=True),
        Option("wq", "query projection W_Q (d_model × D)", inputs.matrix, required=True),
        Option("wk", "key projection W_K (d_model × D)", inputs.matrix, required=True),
        Option("wv", "value projection W_V (d_model × D)", inputs.matrix, required=True),
        Option("heads", "number of heads h; D must be divisible by h", _heads_option, default="1"),
        Option("tokens", "token labels, one per row: 'I like tea' (default t1 t2 ...)", inputs.tokens),
        Option(
            "dtype",
            "number format of the cache: " + ", ".join(DTYPE_BYTES),
            inputs.choice(*DTYPE_BYTES),
            default="fp16",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "decode",
            "Decode token by token",
            lambda v: stages.loop(v).outputs,
            explain.explain_decode,
            answer=False,
        ),
        Stage("K_cache", "The key cache", lambda v: v.X * v.W_K, explain.explain_cache("K")),
        Stage("V_cache", "The value cache", lambda v: v.X * v.W_V, explain.explain_cache("V")),
        Stage(
            "weights",
            "Every step's weights",
            stages.weights,
            explain.explain_weights,
            (*stages.NO_CAUSAL["weights"], stages.NOT_NORMALISED),
            distribution=True,
        ),
        Stage(
            "outputs",
            "Every step's output",
            stages.outputs,
            explain.explain_outputs,
            stages.NO_CAUSAL["outputs"],
        ),
        Stage(
            "recomputed",
            "Full causal attention from scratch",
            stages.recomputed,
            explain.explain_full,
            stages.NO_CAUSAL["recomputed"],
        ),
        Stage(
            "flops_cached",
            "FLOPs with the cache",
            lambda v: stages.flops(v, True),
            explain.explain_flops(True),
            (stages.macs("flops_cached"),),
        ),
        Stage(
            "flops_full",
            "FLOPs without it",
            lambda v: stages.flops(v, False),
            explain.explain_flops(False),
            (stages.macs("flops_full"),),
        ),
        Stage(
            "flops_saved",
            "The compute saved",
            stages.saved,
            explain.explain_flops_saved,
            (stages.macs("flops_saved"),),
        ),
        Stage(
            "cache_bytes",
            "The memory the cache costs",
            stages.cache_bytes,
            explain.explain_cache_bytes,
            stages.BYTES_MISTAKES,
        ),
    ),
    result="outputs",
    examples={"decode": DECODE, "two-heads": TWO_HEADS},
    example_notes={
        "decode": "4 tokens, one head of width 4: the caches grow row by row",
        "two-heads": "3 tokens and 2 heads of width 2: each head reads its own columns of the caches",
    },
    sample=_sample,
    reference=_reference,
)
