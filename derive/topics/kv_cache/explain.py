"""What each KV-cache stage shows a student: the loop step by step, the caches, the FLOPs, the bytes."""

from __future__ import annotations

import sympy as sp

from derive.blocks import eq, heatmap, needs_approx, prose, rounded, same, table, user
from derive.exact.attention import head_slice, unstack_heads
from derive.notation import listing, matrix_name, per_head
from derive.topics.kv_cache.stages import flops, loop

X, W_Q, W_K, W_V = (matrix_name(n) for n in ("X", "W_Q", "W_K", "W_V"))
T, t, d_k, d_model, L, b, h = sp.symbols("T t d_k d_model L b h")
C_QKV, C_QK = sp.Symbol("c_qkv"), sp.Symbol("c_qk")
PROJECTIONS = (("x", "X"), ("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))
# Published shapes, for the size of real caches: (label, layers, heads, d_head, tokens).
REAL_MODELS = (("GPT-2 small", 12, 12, 64, 1024), ("Llama 2 7B", 32, 32, 128, 4096))


def intro(values) -> tuple:
    names, fields = listing(values["tokens"])
    heads = values["H"]
    blocks = [
        prose(
            "A decoder writes text one token at a time. Without a cache, every new token would rerun "
            "attention over the whole prefix. But under the causal mask a token's key and value never "
            "change once computed, so they can be kept: the KV cache. Each step computes one new query, "
            "key and value, appends the key and value to the cache, and lets the new query attend to "
            "everything cached."
        ),
        prose(f"The tokens arrive in order: {names}. Their embeddings and the projections:", **fields),
    ]
    blocks += [eq(sym, values[key]) for _, key in PROJECTIONS for sym in (matrix_name(key),)]
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
    return decode_steps(loop(v))


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
            eq(matrix_name(f"{name}_cache"), X * weight, value),
        )

    return explain


def explain_weights(v) -> tuple:
    out = [
        prose(
            "Stack each step's weights as a row, with 0 for the keys not yet cached: the matrix is lower "
            "triangular. The cache enforces the causal mask by construction: at step t no later key exists."
        )
    ]
    for i, block in enumerate(unstack_heads(v.weights, v.H), 1):
        out.append(eq(sp.Symbol("A") if v.H == 1 else per_head("A", i), approx=block))
        title = "Weights step by step" + (f", head {i}" if v.H > 1 else "")
        out.append(heatmap(f"steps-head-{i}", title, block, v.tokens, v.tokens, "cached key", "new token"))
    return tuple(out)


def explain_outputs(v) -> tuple:
    return (
        prose("The outputs of the steps, one row per step:"),
        eq(matrix_name("O_cache"), approx=v.outputs),
    )


def explain_full(v) -> tuple:
    rows = []
    for r, label in enumerate(v.tokens):
        cached, full = v.outputs.row(r), v.recomputed.row(r)
        rows.append((r + 1, user(label), rounded(cached), rounded(full), "yes" if cached == full else "no"))
    Q_, K_, V_ = (matrix_name(n) for n in "QKV")
    scaled = Q_ * K_ ** sp.Symbol("T") / sp.sqrt(d_k)
    return (
        prose(
            "Now recompute from scratch, as a model without a cache would: all queries, keys and values "
            "at once, with the causal mask M ({inf} above the diagonal)"
            + (", each head on its own columns:" if v.H > 1 else ":"),
            inf=-sp.oo,
        ),
        eq(
            matrix_name("O_full"),
            sp.Function("softmax")(sp.Add(scaled, matrix_name("M"), evaluate=False)) * V_,
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


def explain_flops(cached: bool):
    def explain(v) -> tuple:
        c_qkv, c_qk, n = 6 * v.d_model * v.D, 4 * v.D, v.n
        half, sixth = sp.Pow(2, -1, evaluate=False), sp.Pow(6, -1, evaluate=False)
        if cached:
            numbers = sp.Add(
                sp.Mul(n, c_qkv, evaluate=False),
                sp.Mul(sp.Mul(c_qk, n, n + 1, evaluate=False), half, evaluate=False),
                evaluate=False,
            )
        else:
            numbers = sp.Add(
                sp.Mul(sp.Mul(c_qkv, n, n + 1, evaluate=False), half, evaluate=False),
                sp.Mul(sp.Mul(c_qk, n, n + 1, 2 * n + 1, evaluate=False), sixth, evaluate=False),
                evaluate=False,
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
    ratio = flops(v, False, long) / flops(v, True, long)
    difference = sp.Add(v.flops_full, -v.flops_cached, evaluate=False)
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
            ratio=rounded(ratio),
        ),
    )


def _size(total: int) -> str:
    return f"{total / 2**30:g} GiB" if total >= 2**30 else f"{total / 2**20:g} MiB"


def explain_cache_bytes(v) -> tuple:
    numbers = sp.Mul(2, 1, v.H, v.d_k, v.n, v.bytes, evaluate=False)
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


# --- the loop, step by step ------------------------------------------------------------------------


def _sub(name: str, step, i=None):
    return sp.Symbol(f"{name}_{step}" + ("" if i is None else f"^({i})"))


def _over(score, root):
    """``score / root`` as written: 2/2, 1/√2 (SymPy would print 1·1/√2 or collapse it)."""
    inverse = sp.Pow(root, -1, evaluate=False)
    return inverse if score == 1 else sp.Mul(score, inverse, evaluate=False)


def _cache_name(name: str, step: int):
    return matrix_name(f"{name}_1:{step}")


def _shown(*parts, value):
    return eq(*parts, value, approx=value if needs_approx(value) else None)


def decode_steps(v) -> tuple:
    """The KV-cache loop narrated: v holds the caches, each step's weights and outputs."""
    Q_ = v.X * v.W_Q
    rows = [
        (step, user(v.tokens[step - 1]), Q_.row(step - 1), v.K_cache.row(step - 1), v.V_cache.row(step - 1))
        for step in range(1, v.n + 1)
    ]
    out = [
        prose(
            "Each step projects only the newest token, its embedding times {wq}, {wk} and {wv}: one row "
            "each."
            + (" Head i reads its own columns of the caches, written {ki} and {vi}." if v.H > 1 else ""),
            ki=per_head("K", "i"),
            vi=per_head("V", "i"),
            wq=W_Q,
            wk=W_K,
            wv=W_V,
        ),
        table(("t", "token", _sub("q", "t"), _sub("k", "t"), _sub("v", "t")), rows),
    ]
    for step in range(1, v.n + 1):
        caches = [sp.ImmutableMatrix(v.K_cache[:step, :]), sp.ImmutableMatrix(v.V_cache[:step, :])]
        names = sp.ImmutableMatrix([[_cache_name("K", step), _cache_name("V", step)]])
        out.append(
            prose(
                "At {t}, {tok} arrives. Append {k} and {v} to the caches, which now hold {n}:",
                t=same(sp.Symbol("t"), step),
                tok=user(v.tokens[step - 1]),
                k=_sub("k", step),
                v=_sub("v", step),
                n=f"{step} row" + "s" * (step > 1),
            )
        )
        out.append(eq(names, sp.BlockMatrix([caches])))
        out += _step_attention(v, step, Q_)
    return tuple(out)


def _step_attention(v, step, Q_) -> list:
    out = []
    if step == 1:
        out.append(
            prose("With a single cached key its weight is 1, so the output is that token's own value.")
        )
    softmax, products = sp.Function("softmax"), []
    for i, weights in enumerate(unstack_heads(v.weights, v.H), 1):
        q = head_slice(Q_, i - 1, v.H).row(step - 1)
        keys = head_slice(v.K_cache, i - 1, v.H)[:step, :]
        scores = sp.ImmutableMatrix([[_over(score, sp.sqrt(v.d_k)) for score in q * keys.T]])
        if v.H == 1:
            a, K_, V_ = _sub("a", step), _cache_name("K", step), _cache_name("V", step)
        else:
            a, K_, V_ = _sub("a", step, i), per_head("K", i), per_head("V", i)
        if step > 1:
            rule = softmax(_sub("q", step, None if v.H == 1 else i) * K_ ** sp.Symbol("T") / sp.sqrt(d_k))
            out.append(_shown(a, rule, softmax(scores), value=weights[step - 1, :step]))
        products.append(a * V_)
    rule = products[0] if v.H == 1 else sp.Function("Concat")(*products)
    out.append(_shown(_sub("o", step), rule, value=v.outputs.row(step - 1)))
    return out
