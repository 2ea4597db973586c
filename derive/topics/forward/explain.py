"""The forward topic's explanations, in NumPy: per-layer summaries, attention patterns, and one
attention step worked with the model's own numbers (rounded by the renderer, at --precision)."""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from derive.blocks import eq, heatmap, prose, same, table, unevaluated_dot, user
from derive.numbers import Approximate
from derive.topics.forward.stages import as_vector, entropy, head_rows, mean_norm

MAX_ROWS = 16  # rows of a per-token table before it is cut short
MAX_DRAWN = 24  # tokens a heatmap shows
TOP_KEYS = 12  # keys listed when the text is long
GRID = 8  # vector entries per table row

F = sp.Function
d_k, z_j = sp.Symbol("d_k"), sp.Symbol("z_j")
x_, X_, W_Q, W_K, W_V = (sp.Symbol(n, commutative=False) for n in ("x", "X", "W_Q", "W_K", "W_V"))
SYMBOLS = {"x": x_, "X": sp.Symbol("X"), "Y": sp.Symbol("Y"), "W_Q": W_Q, "W_K": W_K, "W_V": W_V}
HEAD_COLUMNS = tuple("head|entropy|on [CLS]|on [SEP]|on itself|on the previous|query|key|weight".split("|"))
j_index = sp.Symbol("k", integer=True, positive=True)


# --- numbers shown --------------------------------------------------------------------------------------


def _d(x) -> Approximate:
    """One of the model's floats, shown in decimals: the renderer rounds it at --precision."""
    return Approximate(float(x))


# --- explanations ---------------------------------------------------------------------------------


def explain_layers(v):
    cfg, trace, n = v.cfg, v.layers, len(v.tokens)
    X, A, Y = sp.Symbol("X"), sp.Symbol("A"), sp.Symbol("Y")
    rows = [("embeddings", "", "", "", _d(mean_norm(trace["embed.out"])), "")]
    for i in range(cfg.n_layers):
        rows.append(
            (
                f"layer {i}",
                _d(mean_norm(trace[f"layer{i}.attn.out"])),
                _d(mean_norm(trace[f"layer{i}.norm1.out"])),
                _d(mean_norm(trace[f"layer{i}.ffn.out"])),
                _d(mean_norm(trace[f"layer{i}.out"])),
                _d(entropy(trace[f"layer{i}.attn.weights"][0]).mean()),
            )
        )
    return (
        prose(
            "The embeddings: token i's vector is row {id} of the token-embedding matrix, plus row i of the "
            "position-embedding matrix, plus the embedding of segment 0 (a single sentence). LayerNorm then "
            "gives it mean 0 and variance 1 before its own scale {g} and shift {b}. Stacked as rows, these "
            f"vectors form the {n}×{cfg.d_model} matrix {{X}}.",
            id=sp.Symbol("id_i"),
            g=sp.Symbol("gamma"),
            b=sp.Symbol("beta"),
            **SYMBOLS,
        ),
        prose("Each layer maps {X} to a matrix {Y} of the same shape, in two sublayers:", **SYMBOLS),
        eq(A, F("LN")(X + F("MultiHead")(X))),
        eq(Y, F("LN")(A + F("FFN")(A))),
        prose(
            "Inside, {Q}, {K} and {V} are "
            f"{n}×{cfg.d_model} each, cut into {cfg.n_heads} heads of {n}×{cfg.d_k}; each head's scores "
            f"and weights are {n}×{n}; the feed-forward network widens every token to {cfg.d_ff} numbers "
            f"and brings it back to {cfg.d_model}. {{Y}} is the next layer's {{X}}.",
            Q=same(sp.Symbol("Q"), X_ * W_Q),
            K=same(sp.Symbol("K"), X_ * W_K),
            V=same(sp.Symbol("V"), X_ * W_V),
            **SYMBOLS,
        ),
        prose(
            "Layer by layer: the mean length (Euclidean norm) of the token vectors at each point, and how "
            "spread out the attention is: the entropy of each row of weights, in bits, averaged over rows "
            "and heads. A row spread evenly over all {T} tokens has {top} bits; a row on one token has 0.",
            T=n,
            top=_d(math.log2(n)),
        ),
        table(
            ("", "attention output", "after add & norm", "feed-forward output", "layer output", "entropy"),
            rows,
        ),
    )


def _head_row(h, w, tokens):
    n = len(tokens)
    i, j = np.unravel_index(np.argmax(w), w.shape)
    previous = np.diagonal(w, offset=-1).mean() if n > 1 else 0.0
    cells = (entropy(w).mean(), w[:, 0].mean(), w[:, -1].mean(), np.diagonal(w).mean(), previous)
    return (h, *(_d(c) for c in cells), user(tokens[i]), user(tokens[j]), _d(w[i, j]))


def explain_attention(v):
    w, tokens, layer = v.attention, v.tokens, v.layer
    heads = range(w.shape[0]) if v.head is None else [v.head]
    blocks = [
        prose(
            f"In layer {layer} each head has its own {len(tokens)}×{len(tokens)} matrix of attention "
            "weights: row i says how token i spreads its attention over the tokens, and sums to 1. For each "
            "head: the entropy of its rows in bits, the mean weight that a token puts on [CLS], on [SEP], on "
            "itself and on the token just before it, and its single largest weight (which query on which key):"
        ),
        table(HEAD_COLUMNS, [_head_row(h, w[h], tokens) for h in heads]),
    ]
    drawn = min(len(tokens), MAX_DRAWN)
    cut = f" (the first {drawn} of {len(tokens)} tokens)" if drawn < len(tokens) else ""
    labels = list(tokens[:drawn])
    for h in heads:
        title = f"Layer {layer}, head {h}" + cut
        values = w[h, :drawn, :drawn]
        blocks.append(
            heatmap(f"attention-layer{layer}-head{h}", title, values, labels, labels, "key", "query")
        )
    return tuple(blocks)


def _grid(values) -> object:
    width = min(GRID, len(values))
    rows = []
    for start in range(0, len(values), width):
        chunk = [_d(x) for x in values[start : start + width]]
        end = min(start + width, len(values))
        rows.append((f"{start + 1}–{end}", *chunk, *[""] * (width - len(chunk))))
    return table(("entries", *[str(c + 1) for c in range(width)]), rows)


def _who(v, j: int):
    return user(v.tokens[j])


def explain_query(v):
    cfg, layer, h = v.cfg, v.layer, v.explained_head
    source = "the token's embeddings" if layer == 0 else f"the output of layer {layer - 1}"
    return (
        prose(
            "Now one attention step by hand, with the model's own numbers: token {t} at position "
            f"{v.focus}, in layer {layer}, head {h}. The head owns columns {h * cfg.d_k + 1} to "
            f"{(h + 1) * cfg.d_k} of {{W_Q}}, {{W_K}} and {{W_V}}, so its queries and keys have {cfg.d_k} "
            f"numbers each (of the {cfg.d_model} in a token vector).",
            t=_who(v, v.focus),
            **SYMBOLS,
        ),
        prose(
            "The query of {t} is its input {x} to the layer times the head's columns of {W_Q}, plus the "
            "matching entries of the bias:",
            t=_who(v, v.focus),
            **SYMBOLS,
        ),
        eq(sp.Symbol("q"), sp.Add(x_ * W_Q, sp.Symbol("b_Q"), evaluate=False)),
        prose(
            "Here {x} is " + source + f", {cfg.d_model} numbers. The {cfg.d_k} entries of the query:",
            **SYMBOLS,
        ),
        _grid(as_vector(v.query)),
    )


def _model_weights(v) -> np.ndarray:
    """The explained token's row of weights as the model computed it (picks the keys to show)."""
    return head_rows(v, "weights")[v.focus]  # (T,)


def _keys_shown(v) -> list[int]:
    """Every key, or for a long text the ones with the largest weights, in position order."""
    w = _model_weights(v)
    if len(w) <= MAX_ROWS:
        return list(range(len(w)))
    return sorted(np.argsort(-w, kind="stable")[:TOP_KEYS].tolist())


def _key_table(v, header, columns):
    rows = [(j, _who(v, j), *(_d(c[j]) for c in columns)) for j in _keys_shown(v)]
    return table(("position", "key", *header), rows)


def _rest(v, values) -> tuple:
    shown = set(_keys_shown(v))
    others = [x for j, x in enumerate(values) if j not in shown]
    if not others:
        return ()
    return (
        prose(
            "The keys with the largest weights; the other {n} lie between {low} and {high}.",
            n=len(others),
            low=_d(min(others)),
            high=_d(max(others)),
        ),
    )


def explain_scores(v):
    q, s, K = as_vector(v.query), as_vector(v.scores), head_rows(v, "k")
    top = int(np.argmax(_model_weights(v)))
    lhs = sp.Mul(sp.Symbol("q"), sp.Symbol(f"k_{top}"), evaluate=False)
    blocks = [
        prose(
            "Every token j has a key {k} in this head, computed the same way from its own input "
            "(its {x} times the head's columns of {W_K}, plus the bias). The score of key j is the dot "
            "product of the query with it: large when the two point the same way. With the key of {key} "
            f"(position {top}), the one {{t}} will weigh most, all {len(q)} products written out:",
            k=sp.Symbol("k_j"),
            key=_who(v, top),
            t=_who(v, v.focus),
            **SYMBOLS,
        )
    ]
    if len(q) <= GRID:
        blocks.append(
            eq(
                lhs,
                unevaluated_dot([_d(a) for a in q], [_d(b) for b in K[top]]),
                approx=sp.Float(s[top]),
            )
        )
    else:
        rows = [(i + 1, _d(a), _d(b), _d(a * b)) for i, (a, b) in enumerate(zip(q, K[top]))]
        rows.append(("sum", "", "", _d(s[top])))
        q_i, k_i = sp.Symbol("q_i"), sp.Symbol("k_i")
        blocks.append(table(("i", q_i, k_i, sp.Mul(q_i, k_i, evaluate=False)), rows))
    blocks.append(prose("The scores against every key:" if len(s) <= MAX_ROWS else "The scores:"))
    blocks.append(_key_table(v, ("score",), (s,)))
    return tuple(blocks) + _rest(v, s)


def _root(n: int):
    """√d_k = √32 ≈ 5.6569, or √d_k = √4 = 2."""
    written, value = sp.sqrt(n, evaluate=False), sp.sqrt(n)
    if value.is_Integer:
        return sp.Eq(sp.sqrt(d_k), sp.Eq(written, value, evaluate=False), evaluate=False)
    return same(sp.sqrt(d_k), written)


def explain_scaled(v):
    s, z, top = as_vector(v.scores), as_vector(v.scaled), int(np.argmax(_model_weights(v)))
    root = sp.Pow(sp.sqrt(v.cfg.d_k, evaluate=False), -1, evaluate=False)
    written = sp.Mul(_d(s[top]), root, evaluate=False)
    about = "" if sp.sqrt(v.cfg.d_k).is_Integer else " ≈ {about}"
    return (
        prose(
            "Divide every score by {root}" + about + " so that the scores do not grow with the width of "
            "the head (the softmax would otherwise saturate):",
            root=_root(v.cfg.d_k),
            about=_d(math.sqrt(v.cfg.d_k)),
        ),
        eq(sp.Symbol(f"z_{top}"), written, approx=sp.Float(z[top])),
        _key_table(v, ("score", "scaled"), (s, z)),
    ) + _rest(v, z)


def explain_weights(v):
    z, w, own = as_vector(v.scaled), as_vector(v.weights), v.focus
    top, exps = int(np.argmax(w)), np.exp(z)
    formula = sp.exp(z_j) / sp.Sum(sp.exp(sp.Symbol("z_k")), (j_index, 1, len(z)))
    written = sp.Mul(
        sp.exp(_d(z[own]), evaluate=False), sp.Pow(_d(exps.sum()), -1, evaluate=False), evaluate=False
    )
    return (
        prose(
            "The softmax over the {n} keys turns the scaled scores into weights that are positive and sum "
            "to 1 (a computer subtracts the largest score first, which changes nothing but prevents overflow):",
            n=len(z),
        ),
        eq(sp.Symbol("a_j"), formula),
        prose(
            "The exponentials add up to {total}. For example, the weight {t} gives its own key:",
            total=_d(exps.sum()),
            t=_who(v, own),
        ),
        eq(sp.Symbol(f"a_{own}"), written, approx=sp.Float(w[own])),
        _key_table(v, ("scaled", sp.exp(z_j), "weight"), (z, exps, w)),
        *_rest(v, w),
        prose(
            "So {t} attends most to {key}, with weight {w}. These weights are row "
            f"{v.focus} of head {v.explained_head}'s attention matrix in layer {v.layer}, the very numbers "
            "the model computed.",
            t=_who(v, v.focus),
            key=_who(v, top),
            w=_d(w[top]),
        ),
    )


def explain_hidden(v):
    hidden = v.layers["hidden"][0]  # (T, C)
    n, width = hidden.shape
    columns = list(range(width)) if width <= 6 else [0, 1, 2, 3, None, width - 1]
    header = [sp.Symbol(f"h_{c + 1}") if c is not None else "…" for c in columns]
    rows = []
    for i in range(min(n, MAX_ROWS)):
        cells = [_d(hidden[i, c]) if c is not None else "…" for c in columns]
        rows.append((i, user(v.tokens[i]), *cells, _d(np.linalg.norm(hidden[i]))))
    blocks = [
        prose(
            f"After the last layer every token has a vector of {width} numbers: the last hidden state, a "
            f"{n}×{width} matrix, which is what a task head reads. Some entries of each row, and each row's length:"
        ),
        table(("position", "token", *header, "length"), rows),
    ]
    if n > MAX_ROWS:
        blocks.append(prose(f"(The other {n - MAX_ROWS} rows are in the JSON output, -f json.)"))
    return tuple(blocks)
