"""Heads as column slices, shared by the multi-head and KV-cache topics: the per-head attention,
its notation (Q⁽ⁱ⁾, W_Q⁽ⁱ⁾, head_i), the explanations of the multi-head topic, and the KV-cache
decoding loop narrated step by step.

Head i (from 1) owns the d_k consecutive columns (i−1)·d_k … i·d_k − 1 (0-based) of W_Q, W_K and
W_V, so its queries, keys and values are the same columns of Q, K and V. Per-head answers are the
heads' matrices stacked vertically, head 1 on top: one matrix for ``derive check`` and JSON.
"""

from __future__ import annotations

import sympy as sp

from derive import printing
from derive.blocks import eq, heatmap, needs_approx, prose, same, table, user
from derive.topics._attention_steps import _matrix_name, _product, _transposed
from derive.topics.attention import masked_softmax, weighted_values

X, W_Q, W_K, W_V, W_O = (_matrix_name(n) for n in ("X", "W_Q", "W_K", "W_V", "W_O"))
Q, K, V, OUT = (_matrix_name(n) for n in ("Q", "K", "V", "O"))
d_k, d_model, h, T = sp.symbols("d_k d_model h T")
FIT = 92  # the widest exact matrix shown; wider ones are given as decimals (JSON keeps them exact)
BLOCKS_UP_TO = 8  # d_model up to which the column split is drawn as block matrices


# --- computing --------------------------------------------------------------------------------------


def head_columns(i: int, d_head: int, heads: int, interleaved: bool = False) -> list[int]:
    """0-based columns of head i (from 0); ``interleaved`` is the split-wrong misconception."""
    if interleaved:
        return list(range(i, d_head * heads, heads))
    return list(range(i * d_head, (i + 1) * d_head))


def head_slice(matrix, i: int, heads: int, interleaved: bool = False) -> sp.Matrix:
    d_head = matrix.cols // heads
    return matrix.extract(list(range(matrix.rows)), head_columns(i, d_head, heads, interleaved))


def blocks(stacked, heads: int) -> list[sp.Matrix]:
    """The heads' matrices of a vertically stacked answer."""
    n = stacked.rows // heads
    return [stacked[i * n : (i + 1) * n, :] for i in range(heads)]


def attend(Q_, K_, V_, heads: int, causal: bool, root=None, interleaved: bool = False) -> dict:
    """Every per-head quantity from the full Q, K, V: what the misconceptions recompute."""
    root = sp.sqrt(Q_.cols // heads) if root is None else root
    parts: dict[str, list] = {"scores": [], "scaled": [], "weights": [], "heads": []}
    for i in range(heads):
        q, k, v = (head_slice(m, i, heads, interleaved) for m in (Q_, K_, V_))
        scores = q * k.T
        weights = masked_softmax(scores / root, causal)
        parts["scores"].append(scores)
        parts["scaled"].append(scores / root)
        parts["weights"].append(weights)
        parts["heads"].append(weighted_values(weights, v))
    out = {name: sp.Matrix.vstack(*mats) for name, mats in parts.items()}
    out["concat"] = sp.Matrix.hstack(*parts["heads"])
    return out


# --- notation ---------------------------------------------------------------------------------------


def per_head(name: str, i: int) -> sp.Symbol:
    """Q⁽ⁱ⁾: head i's part of a matrix (a superscript, so Q₁ still reads as row 1)."""
    return _matrix_name(f"{name}^({i})")


def weight_slice(weight: sp.Symbol, i) -> sp.Expr:
    """W_Q⁽ⁱ⁾: a superscript on a subscripted name prints only as a power."""
    return sp.Pow(weight, sp.Symbol(f"({i})"), evaluate=False)


def head_out(i) -> sp.Symbol:
    return sp.Symbol(f"head_{i}")


def concat(heads: int) -> sp.Expr:
    return sp.Function("Concat")(*[head_out(i) for i in range(1, heads + 1)])


def fits(value) -> bool:
    return max(len(line) for line in printing.pretty(value).splitlines()) <= FIT


def shown(*parts, value, exact: bool = True) -> tuple:
    """``parts = value ≈ decimals``; an exact value too wide to read is left to the decimals."""
    if exact and fits(value):
        return (eq(*parts, value, approx=value if needs_approx(value) else None),)
    return (eq(*parts, approx=value),)


def percent(weight) -> str:
    return f"{100 * float(sp.N(weight, 30)):.0f}%"


def _columns_text(i: int, d_head: int) -> str:
    first, last = i * d_head + 1, (i + 1) * d_head
    return f"column {first}" if first == last else f"columns {first}–{last}"


# --- the multi-head explanations --------------------------------------------------------------------


def explain_split(v) -> tuple:
    if v.H == 1:
        return (
            prose(
                "With one head, {dk}: the head's slice is the whole of each matrix, so {q}, and likewise "
                "for K and V. What follows is exactly single-head attention (derive attention with the "
                "same X, W_Q, W_K, W_V), plus the output projection at the end.",
                dk=same(d_k, d_model),
                q=same(per_head("Q", 1), Q),
            ),
        )
    ranges = ", ".join(f"head {i + 1} {_columns_text(i, int(v.d_k))}" for i in range(v.H))
    out = [
        prose(
            "Head i takes its own {dk} consecutive columns of {wq}, {wk} and {wv} (not every h-th "
            f"column): {ranges}.",
            dk=int(v.d_k),
            wq=W_Q,
            wk=W_K,
            wv=W_V,
        )
    ]
    big = v.d_model > BLOCKS_UP_TO
    if not big:
        for sym, key in ((W_Q, "W_Q"), (W_K, "W_K"), (W_V, "W_V")):
            out.append(_blocks_eq(sym, [weight_slice(sym, i + 1) for i in range(v.H)], v[key], v.H))
    out.append(
        prose(
            "Column j of {xw} depends only on column j of {w}, so each head's queries, keys and values "
            "are the same columns of Q, K and V. Implementations compute Q once and slice it:",
            xw=X * W_Q,
            w=W_Q,
        )
    )
    if not big:
        for name in "QKV":
            names = [per_head(name, i + 1) for i in range(v.H)]
            out.append(_blocks_eq(_matrix_name(name), names, v[name], v.H))
    return tuple(out)


def _blocks_eq(whole, names, value, heads):
    parts = [sp.ImmutableMatrix(m) for m in (head_slice(value, i, heads) for i in range(heads))]
    return eq(whole, sp.ImmutableMatrix([list(names)]), sp.BlockMatrix([parts]))


def explain_scores(v) -> tuple:
    out = [
        prose(
            "Every head scores every query against every key, using only its own {dk}-wide queries and "
            "keys: one {n}×{n} score matrix per head, each free to pick out different tokens."
            if v.H > 1
            else "The head scores every query against every key, one {n}×{n} matrix:",
            dk=int(v.d_k),
            n=v.n,
        )
    ]
    for i, block in enumerate(blocks(v.scores, v.H), 1):
        q, k = head_slice(v.Q, i - 1, v.H), head_slice(v.K, i - 1, v.H)
        qi, ki = per_head("Q", i), per_head("K", i)
        out.append(eq(per_head("S", i), qi * _transposed(ki), *_product(q, k.T), block))
    return tuple(out)


def explain_scaled(v) -> tuple:
    text = (
        "Each head divides its scores by {r}, with {dk} the width of that head's queries and keys, not by "
        "{rm}: a head's dot products have only {dk} terms, and dividing by {r} keeps their spread near 1 "
        "whatever the width. Here {value}."
        if v.H > 1
        else "Divide by {r}, which keeps the spread of the scores near 1 whatever the width; with one head "
        "{dk} is all of {dm}. Here {value}."
    )
    out = [
        prose(
            text,
            dm=d_model,
            r=sp.sqrt(d_k),
            rm=sp.sqrt(d_model),
            dk=d_k,
            value=same(sp.sqrt(d_k), sp.sqrt(v.d_k)),
        )
    ]
    for i, block in enumerate(blocks(v.scaled, v.H), 1):
        out += shown(per_head("S", i) / sp.sqrt(d_k), value=block)
    return tuple(out)


def explain_weights(v) -> tuple:
    masked = ", after setting the scores of later tokens to {inf} (the causal mask)" if v.causal else ""
    out = [
        prose(
            f"Each head takes the softmax of every row of its scaled scores{masked}: its own attention "
            "weights, each row summing to 1.",
            inf=-sp.oo,
        )
    ]
    mats = blocks(v.weights, v.H)
    for i, block in enumerate(mats, 1):
        out += shown(per_head("A", i), value=block)
    if v.H > 1:
        out += [prose("Where each token looks, head by head:"), _most_attended(v, mats)]
    for i, block in enumerate(mats, 1):
        title = f"Head {i} weights" if v.H > 1 else "Attention weights"
        out.append(heatmap(f"head-{i}-weights", title, block, v.tokens, v.tokens, "key", "query"))
    return tuple(out)


def _most_attended(v, mats):
    """Each query's strongest key per head; tied keys are named together."""
    header = ["query"]
    for i in range(1, v.H + 1):
        header += [f"head {i} looks most at", "weight"]
    rows = []
    for r, label in enumerate(v.tokens):
        row = [user(label)]
        for block in mats:
            weights = [float(sp.N(w, 30)) for w in block.row(r)]
            top = [c for c, w in enumerate(weights) if w > max(weights) - 1e-12]
            if len(top) == len(weights):
                row += ["all alike", percent(block[r, 0])]
            else:
                row += [user(", ".join(v.tokens[c] for c in top)), percent(block[r, top[0]])]
        rows.append(row)
    return table(header, rows)


def explain_heads(v) -> tuple:
    out = [
        prose(
            "Each head's output is its weights times its own values, a {n}×{dk} matrix:"
            if v.H > 1
            else "The head's output is its weights times the values, a {n}×{dk} matrix:",
            n=v.n,
            dk=int(v.d_k),
        )
    ]
    for i, block in enumerate(blocks(v.heads, v.H), 1):
        out += shown(head_out(i), per_head("A", i) * per_head("V", i), value=block, exact=False)
    out.append(prose("(From here on the exact forms are long; the JSON output has them.)"))
    return tuple(out)


def explain_concat(v) -> tuple:
    if v.H == 1:
        return (
            prose(
                "With one head there is nothing to put side by side: the concatenation is {h1}.",
                h1=head_out(1),
            ),
        )
    names = [head_out(i) for i in range(1, v.H + 1)]
    return (
        prose(
            "Put the heads' outputs side by side, head 1's columns first. This restores the width "
            "{width}: head i fills exactly the columns it took from {wq}, {wk} and {wv}.",
            width=same(sp.Mul(h, d_k, evaluate=False), d_model),
            wq=W_Q,
            wk=W_K,
            wv=W_V,
        ),
        *shown(concat(v.H), sp.ImmutableMatrix([names]), value=v.concat, exact=False),
    )


def explain_output(v) -> tuple:
    out = [
        prose(
            "Finally the output projection {wo} mixes the heads: every output column combines all heads' "
            "columns. Without it, each head's result would stay in its own {dk} columns."
            if v.H > 1
            else "Finally the output projection {wo}, a last linear map of the attention output:",
            wo=W_O,
            dk=int(v.d_k),
        ),
        *shown(OUT, concat(v.H) * W_O, value=v.output, exact=False),
    ]
    if v.H == 1:
        out.append(
            prose(
                "With one head, {o}: single-head attention followed by the output projection.",
                o=same(OUT, sp.Function("Attention")(Q, K, V) * W_O),
            )
        )
    return tuple(out)


def explain_parameters(v) -> tuple:
    width = v.d_model
    with sp.evaluate(False):
        here = sp.Mul(4, sp.Pow(width, 2))
        with_bias = sp.Add(sp.Mul(4, sp.Pow(width, 2)), sp.Mul(4, width))
    return (
        prose(
            "Count the weights. {wq}, {wk} and {wv} are {dm}×{dm} each"
            + (" ({h} slices of {dm}×{dk})" if v.H > 1 else "")
            + ", and {wo} is {dm}×{dm}:",
            wq=W_Q,
            wk=W_K,
            wv=W_V,
            wo=W_O,
            h=v.H,
            dm=d_model,
            dk=d_k,
        ),
        eq(sp.Symbol("P"), sp.Mul(4, sp.Pow(d_model, 2), evaluate=False), here, v.parameters),
        prose(
            "Splitting into heads costs nothing: h heads of width {ratio} hold as many weights as one head "
            "of width {dm}. This layer has no biases. With them (PyTorch's nn.MultiheadAttention has "
            "them by default) each of the four projections adds {dm} more:",
            ratio=d_model / h,
            dm=d_model,
        ),
        eq(
            sp.Symbol("P_bias"),
            sp.Add(sp.Mul(4, sp.Pow(d_model, 2)), sp.Mul(4, d_model), evaluate=False),
            with_bias,
            v.parameters + 4 * width,
        ),
    )


# --- the KV-cache loop, step by step ---------------------------------------------------------------


def _sub(name: str, step, i=None):
    return sp.Symbol(f"{name}_{step}" + ("" if i is None else f"^({i})"))


def _over(score, root):
    """``score / root`` as written: 2/2, 1/√2 (SymPy would print 1·1/√2 or collapse it)."""
    with sp.evaluate(False):
        return sp.Pow(root, -1) if score == 1 else sp.Mul(score, sp.Pow(root, -1))


def _cache_name(name: str, step: int):
    return _matrix_name(f"{name}_1:{step}")


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
    for i, weights in enumerate(blocks(v.weights, v.H), 1):
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
