"""What each multi-head stage shows a student: the column split, each head's attention, Concat, W_O.

Exact matrices too wide to read (``FIT`` characters) are given as decimals; JSON keeps them exact.
"""

from __future__ import annotations

import sympy as sp

from derive import printing
from derive.blocks import eq, heatmap, needs_approx, percent, prose, same, table, user
from derive.exact.attention import head_slice, unstack_heads
from derive.notation import (
    concat,
    head_out,
    listing,
    matrix_name,
    per_head,
    transposed,
    weight_slice,
    written_product,
)

X, W_Q, W_K, W_V, W_O = (matrix_name(n) for n in ("X", "W_Q", "W_K", "W_V", "W_O"))
Q, K, V, OUT = (matrix_name(n) for n in ("Q", "K", "V", "O"))
d_k, d_model, h, T = sp.symbols("d_k d_model h T")
FIT = 92  # the widest exact matrix shown; wider ones are given as decimals (JSON keeps them exact)
BLOCKS_UP_TO = 8  # d_model up to which the column split is drawn as block matrices


def intro(values) -> tuple:
    n, heads, width, dk = values["n"], values["H"], values["d_model"], values["d_k"]
    names, fields = listing(values["tokens"])
    head_i = sp.Symbol("head_i")
    qi, ki, vi = (per_head(name, "i") for name in ("Q", "K", "V"))
    blocks_ = [
        prose(
            "Multi-head attention runs h attention heads side by side. Each head works in its own "
            "{dk} columns, so each can learn its own idea of which tokens matter. The heads' outputs are "
            "put side by side and mixed by an output matrix {wo}:",
            dk=same(d_k, d_model / h),
            wo=W_O,
        ),
        eq(sp.Function("MultiHead")(X), concat(heads) * W_O),
        eq(head_i, sp.Function("softmax")(qi * transposed(ki) / sp.sqrt(d_k)) * vi),
        prose("Head i's queries use only its own columns of the query projection, and likewise for K and V:"),
        eq(qi, X * weight_slice(W_Q, "i")),
        prose("Tokens are rows, and the softmax runs along each row."),
        prose(f"The {n} tokens, one per row, are {names}. Embeddings and weights:", **fields),
    ]
    blocks_ += [eq(sym, values[key]) for sym, key in ((X, "X"), (W_Q, "W_Q"), (W_K, "W_K"), (W_V, "W_V"))]
    blocks_.append(eq(W_O, values["W_O"]))
    blocks_.append(
        prose("So {dm} and {h}, and each head has width", dm=same(d_model, width), h=same(h, heads))
    )
    ratio = sp.Mul(width, sp.Pow(heads, -1, evaluate=False), evaluate=False)
    blocks_.append(eq(d_k, d_model / h, ratio, dk))
    blocks_.append(
        prose(
            "With the causal mask every token attends only to itself and earlier tokens."
            if values["causal"]
            else "There is no mask: every token may attend to every token."
        )
    )
    blocks_.append(prose("The shape of every quantity, as (rows, columns):"))
    blocks_.append(_shape_table(n, heads, width, int(dk)))
    if heads > 1:
        blocks_.append(
            prose(
                "For derive check, each per-head answer (scores, scaled, weights, heads) is the heads' "
                "matrices stacked vertically, head 1 on top."
            )
        )
    return tuple(blocks_)


def _shape_table(n: int, heads: int, width: int, dk: int):
    i = "i"
    rows = [
        ("embeddings", X, sp.Tuple(T, d_model), sp.Tuple(n, width)),
        ("projections", sp.Tuple(Q, K, V), sp.Tuple(T, d_model), sp.Tuple(n, width)),
        ("head i's weight columns", weight_slice(W_Q, i), sp.Tuple(d_model, d_k), sp.Tuple(width, dk)),
        ("head i's slices", sp.Tuple(*(per_head(s, i) for s in "QKV")), sp.Tuple(T, d_k), sp.Tuple(n, dk)),
        ("head i's scores, weights", sp.Tuple(per_head("S", i), per_head("A", i)), sp.Tuple(T, T), (n, n)),
        ("head i's output", head_out(i), sp.Tuple(T, d_k), sp.Tuple(n, dk)),
        ("heads side by side", concat(heads), sp.Tuple(T, sp.Mul(h, d_k, evaluate=False)), (n, width)),
        ("output", OUT, sp.Tuple(T, d_model), sp.Tuple(n, width)),
    ]
    return table(("", "quantity", "shape", "here"), [(a, b, c, sp.Tuple(*d)) for a, b, c, d in rows])


def fits(value) -> bool:
    return max(len(line) for line in printing.pretty(value).splitlines()) <= FIT


def shown(*parts, value, exact: bool = True) -> tuple:
    """``parts = value ≈ decimals``; an exact value too wide to read is left to the decimals."""
    if exact and fits(value):
        return (eq(*parts, value, approx=value if needs_approx(value) else None),)
    return (eq(*parts, approx=value),)


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
            out.append(_blocks_eq(matrix_name(name), names, v[name], v.H))
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
    for i, block in enumerate(unstack_heads(v.scores, v.H), 1):
        q, k = head_slice(v.Q, i - 1, v.H), head_slice(v.K, i - 1, v.H)
        qi, ki = per_head("Q", i), per_head("K", i)
        out.append(eq(per_head("S", i), qi * transposed(ki), *written_product(q, k.T), block))
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
    for i, block in enumerate(unstack_heads(v.scaled, v.H), 1):
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
    mats = unstack_heads(v.weights, v.H)
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
        header += [f"head {i} looks most at", "weight (%)"]
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
    for i, block in enumerate(unstack_heads(v.heads, v.H), 1):
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
    here = sp.Mul(4, sp.Pow(width, 2, evaluate=False), evaluate=False)
    with_bias = sp.Add(here, sp.Mul(4, width, evaluate=False), evaluate=False)
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
