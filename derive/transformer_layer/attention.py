"""Multi-head attention as a sublayer of the residual stream: self-attention over the stream, or
cross-attention to a memory, with an optional mask of allowed keys.

``attend`` computes every intermediate with ``derive.exact.attention``, carrying a long exact sum as
50 digits (``derive.exact.precision``), once per run; ``attention_sublayer`` narrates it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from derive.blocks import eq, heatmap, prose, same
from derive.exact.attention import (
    concat_heads,
    head_columns,
    head_slice,
    masked_softmax,
    scale,
    weighted_values,
)
from derive.exact.precision import BIG, chop, matmul, nodes_over, numeric
from derive.model import Stage
from derive.notation import matrix_name as mat
from derive.transformer_layer.stream import Sublayer, plus, short, show

MULTIHEAD, SOFTMAX = sp.Function("MultiHead"), sp.Function("softmax")
d_k, T = sp.symbols("d_k T")


@dataclass(frozen=True)
class Attention:
    """Every intermediate of one multi-head attention; head h owns a slice of the columns."""

    Q: sp.Matrix
    K: sp.Matrix
    V: sp.Matrix
    d_k: int
    scores: tuple
    scaled: tuple
    weights: tuple
    heads: tuple
    concat: sp.Matrix
    output: sp.Matrix


def _head(z, allowed, values) -> sp.Matrix:
    """softmax(z + M)·V, over a common denominator; from 50-digit scores when the exact sum grows long."""
    out = weighted_values(masked_softmax(z, allowed), values)
    if any(nodes_over(e, BIG) for e in out):
        out = masked_softmax(numeric(z), allowed) * numeric(values)
    return chop(out)


def attend(x_q, x_kv, weights, heads: int, allowed) -> Attention:
    """MultiHead = Concat(head_1, …, head_H) W_O with head_h = softmax(Q_h K_hᵀ/√d_k + M) V_h."""
    key = (
        *(sp.ImmutableMatrix(m_) for m_ in (x_q, x_kv, *weights)),
        heads,
        allowed and tuple(map(tuple, allowed)),
    )
    return _attend(*key)


@functools.lru_cache(maxsize=8)
def _attend(x_q, x_kv, w_q, w_k, w_v, w_o, heads: int, allowed) -> Attention:
    Q, K, V = (matmul(sp.Matrix(a), sp.Matrix(w)) for a, w in ((x_q, w_q), (x_kv, w_k), (x_kv, w_v)))
    size = Q.cols // heads
    scores = [matmul(head_slice(Q, h, heads), head_slice(K, h, heads).T) for h in range(heads)]
    scaled = [scale(s, size) for s in scores]
    weights = [masked_softmax(z, allowed) for z in scaled]
    outs = [_head(z, allowed, head_slice(V, h, heads)) for h, z in enumerate(scaled)]
    concat = concat_heads(outs)
    parts = (scores, scaled, weights, outs)
    return Attention(Q, K, V, size, *map(tuple, parts), concat, matmul(concat, sp.Matrix(w_o)))


def mask_matrix(allowed, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: 0 if allowed[i][j] else -sp.oo)


def attention_sublayer(
    k,
    name,
    input_,
    what,
    symbol,
    weights,
    names,
    formula,
    *,
    kv=None,
    allowed=None,
    mask_text="",
    keys="tokens",
    mistakes=(),
) -> Sublayer:
    """Sublayer k: multi-head attention from u_k; ``kv`` gives the keys' source (the memory) if not u_k."""
    prefix, title = name.removesuffix("attention"), what[0].upper() + what[1:]
    u = mat(f"u_{k}")

    def run(v, x):
        return attend(x, kv(v) if kv else x, v[weights], v.heads, allowed(v) if allowed else None)

    def projections(v):
        att, source = v[prefix + "qkv"], mat("m") if kv else u
        text = (
            "The queries come from the decoder's stream {u}, the keys and values from the encoder's output "
            "{src}, so every target token may look at every source token:"
            if kv
            else "Every token's query, key and value are its row of {u} times {wq}, {wk} and {wv}:"
        )
        blocks = [
            prose(text, u=u, src=source, wq=mat(names[0]), wk=mat(names[1]), wv=mat(names[2])),
            show(mat("Q"), u * mat(names[0]), value=att.Q),
            show(mat("K"), source * mat(names[1]), value=att.K),
            show(mat("V"), source * mat(names[2]), value=att.V),
        ]
        if v.heads > 1:
            spans = [head_columns(h, att.d_k, v.heads) for h in range(v.heads)]
            listing = ", ".join(f"head {h + 1} columns {s[0] + 1}–{s[-1] + 1}" for h, s in enumerate(spans))
            blocks.append(
                prose(
                    f"With {{H}} heads each head works on its own slice of the columns ({listing}), so {{dk}}. "
                    "The heads attend independently, each with its own pattern.",
                    H=same(sp.Symbol("H"), v.heads),
                    dk=same(d_k, att.d_k),
                )
            )
        return tuple(blocks)

    def scores(v):
        att, mask = v[prefix + "qkv"], allowed(v) if allowed else None
        blocks = [
            prose(
                ("In each head, score" if v.heads > 1 else "Score")
                + " every query against every key with a dot product, divide by {r} so that the scores do "
                "not grow with {dk}, and take the softmax along each row. Row i of the weights says how "
                "token i mixes the value rows; it sums to 1.",
                r=sp.sqrt(d_k),
                dk=d_k,
            )
        ]
        if mask is not None:
            shape = (len(v.tokens), len(v[keys]))
            blocks += [prose(mask_text, inf=-sp.oo, M=mat("M")), eq(mat("M"), mask_matrix(mask, *shape))]
        for h in range(v.heads):
            tag = f"_{h + 1}" if v.heads > 1 else ""
            if v.heads > 1:
                blocks.append(prose("Head {h}:", h=h + 1))
            scale = sp.Pow(sp.sqrt(att.d_k, evaluate=False), -1, evaluate=False)
            written = sp.MatMul(scale, sp.ImmutableMatrix(att.scores[h]), evaluate=False)
            parts = [mat("S" + tag), mat("Q" + tag) * mat("K" + tag) ** T / sp.sqrt(d_k)]
            if short(att.scores[h]) and all(e.is_Rational for e in att.scores[h]):
                parts.append(written if att.d_k != 1 else att.scores[h])
            if all(e.is_Rational for e in att.scaled[h]):
                blocks.append(show(*parts, value=att.scaled[h]))
            else:
                blocks.append(eq(*parts, approx=att.scaled[h]))
            argument = plus(mat("S" + tag), mat("M")) if mask is not None else mat("S" + tag)
            blocks.append(show(mat("A" + tag), SOFTMAX(argument), value=att.weights[h]))
            caption = f"{title} weights" + (f", head {h + 1}" if v.heads > 1 else "")
            blocks.append(
                heatmap(f"{name}-{h + 1}", caption, att.weights[h], v.tokens, v[keys], "key", "query")
            )
        return tuple(blocks)

    def output(v):
        att, w_o = v[prefix + "qkv"], mat(names[3])
        if v.heads == 1:
            return (
                prose(
                    "Each token's output is the weighted sum of the value rows; the output projection {wo} "
                    "then maps it back into the residual stream:",
                    wo=w_o,
                ),
                show(mat("A") * mat("V"), value=att.heads[0]),
                show(mat(symbol), mat("A") * mat("V") * w_o, value=att.output),
            )
        heads = [sp.Symbol(f"head_{h + 1}") for h in range(v.heads)]
        concat = sp.Function("Concat")(*heads)
        return (
            prose(
                "Each head mixes its own slice of the value rows with its weights, {head}. The heads' outputs "
                "are set side by side, back to {dm} columns, and the output projection {wo} mixes what "
                "the heads found:",
                head=same(sp.Symbol("head_h"), mat("A_h") * mat("V_h")),
                wo=w_o,
                dm=same(sp.Symbol("d_model"), att.output.cols),
            ),
            *(
                show(heads[h], mat(f"A_{h + 1}") * mat(f"V_{h + 1}"), value=att.heads[h])
                for h in range(v.heads)
            ),
            show(concat, value=att.concat),
            show(mat(symbol), concat * w_o, value=att.output),
        )

    shown = (
        Stage(
            prefix + "qkv",
            f"{title}: queries, keys and values",
            lambda v: run(v, v[input_]),
            projections,
            answer=False,
        ),
        Stage(prefix + "scores", f"{title}: weights", lambda v: v[prefix + "qkv"], scores, answer=False),
    )
    return Sublayer(
        name, input_, what, symbol, formula, lambda v, x: run(v, x).output, output, shown, mistakes
    )


def attention_intro(heads, attn, names, what: str) -> list:
    return [
        prose(
            f"The {what} has {{H}}, {{dk}}, and these weights:",
            H=f"{heads} head" + ("s" if heads > 1 else ""),
            dk=same(d_k, attn[0].cols // heads),
        ),
        *(eq(mat(s), w) for s, w in zip(names, attn)),
    ]
