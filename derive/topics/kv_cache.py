"""The KV cache: decode token by token, keep every key and value, attend with one new query per step.

Each step t computes the new token's q_t, k_t, v_t, appends k_t and v_t to the caches, and lets q_t
attend to the t cached keys, so the mask is causal by construction. The outputs equal full causal
attention recomputed from scratch; the topic then counts the FLOPs saved and the bytes the cache
costs. With --heads, each head reads its own d_k columns of the caches (see ``_multi_head_steps``).
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, heatmap, prose, same, table, user
from derive.costmodel.presets import DTYPE_BYTES
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.numbers import approx
from derive.topics import _multi_head_steps as mh
from derive.topics._attention_steps import _listing, _matrix_name
from derive.topics.attention import masked_softmax, weighted_values
from derive.topics.multi_head import check_tokens, heads_option, random_matrix

PROJECTIONS = (("x", "X"), ("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))
X, W_Q, W_K, W_V = (_matrix_name(n) for n in ("X", "W_Q", "W_K", "W_V"))
T, t, d_k, d_model, L, b, h = sp.symbols("T t d_k d_model L b h")
C_QKV, C_QK = sp.Symbol("c_qkv"), sp.Symbol("c_qk")
# Published shapes, for the size of real caches: (label, layers, heads, d_head, tokens).
REAL_MODELS = (("GPT-2 small", 12, 12, 64, 1024), ("Llama 2 7B", 32, 32, 128, 4096))


# --- the exact computation ------------------------------------------------------------------------


def _weights(v):
    """Head by head and step by step: row t over the t keys cached so far, zeros for the rest."""
    rows = []
    for i in range(v.H):
        queries, keys = mh.head_slice(v.X * v.W_Q, i, v.H), mh.head_slice(v.K_cache, i, v.H)
        for r in range(v.n):
            row = masked_softmax(queries.row(r) * keys[: r + 1, :].T / sp.sqrt(v.d_k), False)
            rows.append(list(row) + [sp.Integer(0)] * (v.n - r - 1))
    return sp.Matrix(rows)


def _outputs(v):
    heads = []
    for i, weights in enumerate(mh.blocks(v.weights, v.H)):
        heads.append(weighted_values(weights, mh.head_slice(v.V_cache, i, v.H)))
    return sp.Matrix.hstack(*heads)


def _full(v, causal: bool = True, name: str = "concat"):
    """Attention recomputed from scratch over all tokens at once."""
    return mh.attend(v.X * v.W_Q, v.X * v.W_K, v.X * v.W_V, v.H, causal)[name]


def _flops(v, cached: bool, n: int | None = None) -> sp.Integer:
    """Σ_t (c_qkv + t·c_qk) with the cache, Σ_t (t·c_qkv + t²·c_qk) without, in closed form."""
    n, c_qkv, c_qk = n or v.n, 6 * v.d_model * v.D, 4 * v.D
    if cached:
        return sp.Integer(n * c_qkv + c_qk * n * (n + 1) // 2)
    return sp.Integer(c_qkv * n * (n + 1) // 2 + c_qk * n * (n + 1) * (2 * n + 1) // 6)


def _cache_bytes(v, tensors: int = 2):
    return sp.Integer(tensors * 1 * v.H * v.d_k * v.n * v.bytes)


# --- misconceptions -------------------------------------------------------------------------------


def _no_causal(name):
    """Every token attends to all T keys, later ones included."""
    return lambda v: _full(v, False, "weights" if name == "weights" else "concat")


NO_CAUSAL_HINT = (
    "At step t only tokens 1 to t exist: the new query attends to the t cached keys, never to later "
    "tokens (full recomputation needs the causal mask)."
)
MACS_HINT = "Count 2 FLOPs per multiply-add: a product of an m×k and a k×n matrix costs 2·m·k·n FLOPs."


def _macs(name):
    return Mistake("macs-for-flops", MACS_HINT, lambda v: v[name] / 2)


def _loop(v):
    """The narrated loop's values, from the givens: the same the graded stages compute later."""
    v = v.updated(K_cache=v.X * v.W_K, V_cache=v.X * v.W_V)
    v = v.updated(weights=_weights(v))
    return v.updated(outputs=_outputs(v))


def _saved(v):
    return v.flops_full - v.flops_cached


# --- explanations ---------------------------------------------------------------------------------


def intro(values) -> tuple:
    listing, fields = _listing(values["tokens"])
    heads = values["H"]
    blocks = [
        prose(
            "A decoder writes text one token at a time. Without a cache, every new token would rerun "
            "attention over the whole prefix. But under the causal mask a token's key and value never "
            "change once computed, so they can be kept: the KV cache. Each step computes one new query, "
            "key and value, appends the key and value to the cache, and lets the new query attend to "
            "everything cached."
        ),
        prose(f"The tokens arrive in order: {listing}. Their embeddings and the projections:", **fields),
    ]
    blocks += [eq(sym, values[key]) for _, key in PROJECTIONS for sym in (_matrix_name(key),)]
    blocks.append(
        prose(
            "So {dm}, and {dk}" + (", split into {h} heads of {dh} columns each." if heads > 1 else "."),
            dm=same(d_model, values["d_model"]),
            dk=same(sp.Symbol("D"), values["D"]) if heads > 1 else same(d_k, values["d_k"]),
            h=heads,
            dh=int(values["d_k"]),
        )
    )
    return tuple(blocks)


def explain_decode(v) -> tuple:
    return mh.decode_steps(_loop(v))


def explain_cache(name: str):
    weight = {"K": W_K, "V": W_V}[name]
    role = {"K": "key", "V": "value"}[name]

    def explain(v) -> tuple:
        value = v[f"{name}_cache"]
        return (
            prose(
                f"After step {{n}} the {role} cache holds one row per token, appended one at a time and never "
                f"recomputed: a token's {role} depends only on that token. It is exactly {{xw}}, what full "
                "attention computes all at once:",
                n=v.n,
                xw=X * weight,
            ),
            eq(_matrix_name(f"{name}_cache"), X * weight, value),
        )

    return explain


def explain_weights(v) -> tuple:
    out = [
        prose(
            "Stack each step's weights as a row, with 0 for the keys not yet cached: the matrix is lower "
            "triangular. The cache enforces the causal mask by construction: at step t no later key exists."
        )
    ]
    for i, block in enumerate(mh.blocks(v.weights, v.H), 1):
        out.append(eq(sp.Symbol("A") if v.H == 1 else mh.per_head("A", i), approx=block))
        title = "Weights step by step" + (f", head {i}" if v.H > 1 else "")
        out.append(heatmap(f"steps-head-{i}", title, block, v.tokens, v.tokens, "cached key", "new token"))
    return tuple(out)


def explain_outputs(v) -> tuple:
    return (
        prose("The outputs of the steps, one row per step:"),
        eq(_matrix_name("O_cache"), approx=v.outputs),
    )


def explain_full(v) -> tuple:
    rows = []
    for r, label in enumerate(v.tokens):
        cached, full = v.outputs.row(r), v.recomputed.row(r)
        rows.append(
            (r + 1, user(label), approx(cached, 4), approx(full, 4), "yes" if cached == full else "no")
        )
    Q_, K_, V_ = (_matrix_name(n) for n in "QKV")
    scaled = Q_ * K_ ** sp.Symbol("T") / sp.sqrt(d_k)
    return (
        prose(
            "Now recompute from scratch, as a model without a cache would: all queries, keys and values "
            "at once, with the causal mask M ({inf} above the diagonal)"
            + (", each head on its own columns:" if v.H > 1 else ":"),
            inf=-sp.oo,
        ),
        eq(
            _matrix_name("O_full"),
            sp.Function("softmax")(sp.Add(scaled, _matrix_name("M"), evaluate=False)) * V_,
            approx=v.recomputed,
        ),
        prose("Row by row against the cached steps:"),
        table(("t", "token", "with the cache", "recomputed", "exactly equal"), rows),
        prose(
            "Row t of causal attention uses only query t and the keys and values of tokens 1 to t: exactly "
            "what the cache holds at step t. Without the causal mask (as in BERT) a new token would change "
            "every earlier row, and cached results would go stale: the KV cache relies on causality."
        ),
    )


def _explain_flops(cached: bool):
    def explain(v) -> tuple:
        c_qkv, c_qk, n = 6 * v.d_model * v.D, 4 * v.D, v.n
        with sp.evaluate(False):
            if cached:
                numbers = sp.Add(sp.Mul(n, c_qkv), sp.Mul(sp.Mul(c_qk, n, n + 1), sp.Pow(2, -1)))
            else:
                numbers = sp.Add(
                    sp.Mul(sp.Mul(c_qkv, n, n + 1), sp.Pow(2, -1)),
                    sp.Mul(sp.Mul(c_qk, n, n + 1, 2 * n + 1), sp.Pow(6, -1)),
                )
        if cached:
            D = sp.Symbol("D")
            out = [
                prose(
                    "Count the FLOPs of the matrix products, 2 per multiply-add (softmax and scaling are "
                    "minor). Projecting one token to its query, key and value costs {cqkv}. One query "
                    "against one key costs {cqk}: the score, and that key's share of the weighted sum of "
                    "values. Here:",
                    cqkv=same(C_QKV, sp.Mul(3, 2, d_model, D, evaluate=False)),
                    cqk=same(C_QK, sp.Mul(2, 2, D, evaluate=False)),
                ),
                eq(C_QKV, sp.Mul(6, v.d_model, v.D, evaluate=False), c_qkv),
                eq(C_QK, sp.Mul(4, v.D, evaluate=False), c_qk),
                prose("With the cache, step t projects 1 token and scores 1 query against t keys:"),
            ]
            sums = (sp.Sum(C_QKV + t * C_QK, (t, 1, T)), T * C_QKV + C_QK * T * (T + 1) / 2)
        else:
            out = [
                prose(
                    "Without the cache, step t reruns the whole prefix: it projects all t tokens and scores "
                    "t queries against t keys (a plain implementation computes all t×t scores, then masks):"
                )
            ]
            closed = C_QKV * T * (T + 1) / 2 + C_QK * T * (T + 1) * (2 * T + 1) / 6
            sums = (sp.Sum(t * C_QKV + t**2 * C_QK, (t, 1, T)), closed)
        name = "F_cache" if cached else "F_full"
        return (*out, eq(sp.Symbol(name), *sums, numbers, v["flops_cached" if cached else "flops_full"]))

    return explain


def explain_flops_saved(v) -> tuple:
    long = 1024
    ratio = _flops(v, False, long) / _flops(v, True, long)
    with sp.evaluate(False):
        difference = sp.Add(v.flops_full, -v.flops_cached)
    return (
        prose("The cache saves the difference of the two totals:"),
        eq(sp.Symbol("F_saved"), difference, v.flops_saved),
        prose("The two sums behind them:"),
        eq(sp.Sum(t, (t, 1, T)), T * (T + 1) / 2),
        eq(sp.Sum(t**2, (t, 1, T)), T * (T + 1) * (2 * T + 1) / 6),
        prose(
            "Per step the cache makes the work grow like t instead of t², so over T steps like T² instead "
            "of T³. With these widths, at {long} tokens the recomputation would cost {ratio} times as much.",
            long=long,
            ratio=f"{float(ratio):.0f}",
        ),
    )


def _size(total: int) -> str:
    return f"{total / 2**30:g} GiB" if total >= 2**30 else f"{total / 2**20:g} MiB"


def explain_cache_bytes(v) -> tuple:
    with sp.evaluate(False):
        numbers = sp.Mul(2, 1, v.H, v.d_k, v.n, v.bytes)
    lines = []
    for label, layers, heads, d_head, tokens in REAL_MODELS:
        total = 2 * layers * heads * d_head * tokens * 2
        lines.append(
            f"{label} ({layers} layers, {heads} heads of {d_head}, {tokens} tokens) needs {total:,} bytes, "
            f"{_size(total)}"
        )
    return (
        prose(
            "In every layer the cache keeps a key and a value (the factor 2) of {dk} numbers per head for "
            "every token, at {b} bytes per number ({dtype}). With {L} layer here:",
            dk=d_k,
            b=same(b, v.bytes),
            dtype=v.dtype,
            L=same(L, 1),
        ),
        eq(sp.Symbol("M_KV"), sp.Mul(2, L, h, d_k, T, b, evaluate=False), numbers, v.cache_bytes),
        prose(
            f"That is {{bytes}} bytes. The same formula for one sequence in fp16: {lines[0]}; {lines[1]}. "
            "The cache grows linearly with the tokens, and often limits the context length or batch size "
            "that fits in memory.",
            bytes=v.cache_bytes,
        ),
    )


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
    labels = check_tokens(options["tokens"], x.rows)
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
    return Givens("The KV cache: decoding token by token", values, intro(values), params)


# --- test-suite hooks -----------------------------------------------------------------------------


def _sample(rng):
    heads, d_head, n, width = (int(rng.integers(low, high)) for low, high in ((1, 3), (1, 3), (2, 5), (2, 5)))
    raw = {name: random_matrix(rng, width, heads * d_head) for name in ("wq", "wk", "wv")}
    dtype = str(rng.choice(list(DTYPE_BYTES)))
    return {**raw, "x": random_matrix(rng, n, width), "heads": str(heads), "dtype": dtype}


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


NO_CAUSAL = {
    name: (Mistake("no-causal", NO_CAUSAL_HINT, _no_causal(name)),)
    for name in ("weights", "outputs", "recomputed")
}
BYTES_MISTAKES = (
    Mistake(
        "keys-only",
        "The cache stores the values as well as the keys: a factor 2.",
        lambda v: _cache_bytes(v, 1),
    ),
    Mistake(
        "cache-queries",
        "Queries are not cached: each is used once, at its own step. Only K and V are kept.",
        lambda v: _cache_bytes(v, 3),
    ),
)

TOPIC = Topic(
    name="kv-cache",
    summary="The KV cache: decoding step by step, cached outputs equal full causal attention; FLOPs and bytes",
    options=(
        Option("x", "token embeddings X, one row per token, in decoding order", inputs.matrix, required=True),
        Option("wq", "query projection W_Q (d_model × D)", inputs.matrix, required=True),
        Option("wk", "key projection W_K (d_model × D)", inputs.matrix, required=True),
        Option("wv", "value projection W_V (d_model × D)", inputs.matrix, required=True),
        Option("heads", "number of heads h; D must be divisible by h", heads_option, default="1"),
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
        Stage("decode", "Decode token by token", lambda v: _loop(v).outputs, explain_decode, answer=False),
        Stage("K_cache", "The key cache", lambda v: v.X * v.W_K, explain_cache("K")),
        Stage("V_cache", "The value cache", lambda v: v.X * v.W_V, explain_cache("V")),
        Stage("weights", "Every step's weights", _weights, explain_weights, NO_CAUSAL["weights"]),
        Stage("outputs", "Every step's output", _outputs, explain_outputs, NO_CAUSAL["outputs"]),
        Stage(
            "recomputed", "Full causal attention from scratch", _full, explain_full, NO_CAUSAL["recomputed"]
        ),
        Stage(
            "flops_cached",
            "FLOPs with the cache",
            lambda v: _flops(v, True),
            _explain_flops(True),
            (_macs("flops_cached"),),
        ),
        Stage(
            "flops_full",
            "FLOPs without it",
            lambda v: _flops(v, False),
            _explain_flops(False),
            (_macs("flops_full"),),
        ),
        Stage("flops_saved", "The compute saved", _saved, explain_flops_saved, (_macs("flops_saved"),)),
        Stage("cache_bytes", "The memory the cache costs", _cache_bytes, explain_cache_bytes, BYTES_MISTAKES),
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
