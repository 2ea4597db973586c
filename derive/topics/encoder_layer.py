"""One Transformer encoder layer: multi-head self-attention and a feed-forward network, each inside a
residual connection with LayerNorm, after the sum (post-LN: Vaswani, BERT) or before the sublayer
(pre-LN: GPT-2). See _layer_steps for the answer ids, which are the same in both orders.

LayerNorm has γ = 1 and β = 0; ε defaults to PyTorch's 1e-5, kept exact as 1/100000 (``--eps 0`` gives
the forms of a hand calculation). Weights that are left out default to the built-in ones (d_model 4).
This module also holds the attention and FFN sublayers and the inputs that the decoder layer reuses.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, heatmap, prose, same
from derive.errors import InputError
from derive.exact.activations import gelu, relu
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.topics import _layer_steps as L
from derive.topics.attention import weighted_values

ACTIVATIONS = {"relu": relu, "gelu": gelu}
ATTENTION = ("wq", "wk", "wv", "wo")
MULTIHEAD, FFN, SOFTMAX = sp.Function("MultiHead"), sp.Function("FFN"), sp.Function("softmax")
d_k, T = sp.symbols("d_k T")
m = L.mat


# --- multi-head attention ---------------------------------------------------------------------------


def masked_softmax(z: sp.Matrix, allowed) -> sp.Matrix:
    """Softmax along each row over the allowed keys; masked entries are exactly 0, as e^(-∞) gives."""
    out = sp.zeros(z.rows, z.cols)
    for i in range(z.rows):
        cols = [j for j in range(z.cols) if allowed is None or allowed[i][j]]
        total = sp.Add(*[sp.exp(z[i, j]) for j in cols])
        for j in cols:
            out[i, j] = sp.exp(z[i, j]) / total
    return out


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


def columns(width: int, heads: int, h: int) -> slice:
    return slice(h * width // heads, (h + 1) * width // heads)


def _head(z, allowed, values) -> sp.Matrix:
    """softmax(z + M)·V, over a common denominator; from 50-digit scores when the exact sum grows long."""
    out = weighted_values(masked_softmax(z, allowed), values)
    if any(L.nodes_over(e, L.BIG) for e in out):
        numeric = masked_softmax(L.numeric(z), allowed)
        out = numeric * L.numeric(values)
    return L.chop(out)


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
    Q, K, V = (L.product(sp.Matrix(a), sp.Matrix(w)) for a, w in ((x_q, w_q), (x_kv, w_k), (x_kv, w_v)))
    size = Q.cols // heads
    cols = [(columns(Q.cols, heads, h), columns(V.cols, heads, h)) for h in range(heads)]
    scores = [L.product(Q[:, qc], K[:, qc].T) for qc, _ in cols]
    scaled = [s / sp.sqrt(size) for s in scores]
    weights = [masked_softmax(z, allowed) for z in scaled]
    outs = [_head(z, allowed, V[:, vc]) for z, (_, vc) in zip(scaled, cols)]
    concat = sp.Matrix.hstack(*outs)
    parts = (scores, scaled, weights, outs)
    return Attention(Q, K, V, size, *map(tuple, parts), concat, L.product(concat, sp.Matrix(w_o)))


def _mask_matrix(allowed, rows: int, cols: int) -> sp.Matrix:
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
) -> L.Sublayer:
    """Sublayer k: multi-head attention from u_k; ``kv`` gives the keys' source (the memory) if not u_k."""
    prefix, title = name.removesuffix("attention"), what[0].upper() + what[1:]
    u = m(f"u_{k}")

    def run(v, x):
        return attend(x, kv(v) if kv else x, v[weights], v.heads, allowed(v) if allowed else None)

    def projections(v):
        att, source = v[prefix + "qkv"], m("m") if kv else u
        text = (
            "The queries come from the decoder's stream {u}, the keys and values from the encoder's output "
            "{src}, so every target token may look at every source token:"
            if kv
            else "Every token's query, key and value are its row of {u} times {wq}, {wk} and {wv}:"
        )
        blocks = [
            prose(text, u=u, src=source, wq=m(names[0]), wk=m(names[1]), wv=m(names[2])),
            L.show(m("Q"), u * m(names[0]), value=att.Q),
            L.show(m("K"), source * m(names[1]), value=att.K),
            L.show(m("V"), source * m(names[2]), value=att.V),
        ]
        if v.heads > 1:
            spans = [columns(att.Q.cols, v.heads, h) for h in range(v.heads)]
            listing = ", ".join(f"head {h + 1} columns {s.start + 1}–{s.stop}" for h, s in enumerate(spans))
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
            blocks += [prose(mask_text, inf=-sp.oo, M=m("M")), eq(m("M"), _mask_matrix(mask, *shape))]
        for h in range(v.heads):
            tag = f"_{h + 1}" if v.heads > 1 else ""
            if v.heads > 1:
                blocks.append(prose("Head {h}:", h=h + 1))
            with sp.evaluate(False):
                written = sp.MatMul(sp.Pow(sp.sqrt(att.d_k), -1), sp.ImmutableMatrix(att.scores[h]))
            parts = [m("S" + tag), m("Q" + tag) * m("K" + tag) ** T / sp.sqrt(d_k)]
            if L.short(att.scores[h]) and all(e.is_Rational for e in att.scores[h]):
                parts.append(written if att.d_k != 1 else att.scores[h])
            if all(e.is_Rational for e in att.scaled[h]):
                blocks.append(L.show(*parts, value=att.scaled[h]))
            else:
                blocks.append(eq(*parts, approx=att.scaled[h]))
            argument = L.plus(m("S" + tag), m("M")) if mask is not None else m("S" + tag)
            blocks.append(L.show(m("A" + tag), SOFTMAX(argument), value=att.weights[h]))
            caption = f"{title} weights" + (f", head {h + 1}" if v.heads > 1 else "")
            blocks.append(
                heatmap(f"{name}-{h + 1}", caption, att.weights[h], v.tokens, v[keys], "key", "query")
            )
        return tuple(blocks)

    def output(v):
        att, w_o = v[prefix + "qkv"], m(names[3])
        if v.heads == 1:
            return (
                prose(
                    "Each token's output is the weighted sum of the value rows; the output projection {wo} "
                    "then maps it back into the residual stream:",
                    wo=w_o,
                ),
                L.show(m("A") * m("V"), value=att.heads[0]),
                L.show(m(symbol), m("A") * m("V") * w_o, value=att.output),
            )
        heads = [sp.Symbol(f"head_{h + 1}") for h in range(v.heads)]
        concat = sp.Function("Concat")(*heads)
        return (
            prose(
                "Each head mixes its own slice of the value rows with its weights, {head}. The heads' outputs "
                "are set side by side, back to {dm} columns, and the output projection {wo} mixes what "
                "the heads found:",
                head=same(sp.Symbol("head_h"), m("A_h") * m("V_h")),
                wo=w_o,
                dm=same(sp.Symbol("d_model"), att.output.cols),
            ),
            *(
                L.show(heads[h], m(f"A_{h + 1}") * m(f"V_{h + 1}"), value=att.heads[h])
                for h in range(v.heads)
            ),
            L.show(concat, value=att.concat),
            L.show(m(symbol), concat * w_o, value=att.output),
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
    return L.Sublayer(
        name, input_, what, symbol, formula, lambda v, x: run(v, x).output, output, shown, mistakes
    )


# --- the feed-forward network -----------------------------------------------------------------------


def _bias_rows(bias, n: int, width: int) -> sp.Matrix:
    return sp.ones(n, 1) * bias if bias is not None else sp.zeros(n, width)


def ffn_parts(x, ffn) -> tuple[sp.Matrix, sp.Matrix, sp.Matrix]:
    """The hidden layer, its activation, and FFN(x) = act(x W_1 + b_1) W_2 + b_2."""
    w1, b1, w2, b2, activation = ffn
    hidden = L.settle(L.product(x, w1) + _bias_rows(b1, x.rows, w1.cols))
    act = hidden.applyfunc(ACTIVATIONS[activation])
    return hidden, act, L.settle(L.product(act, w2) + _bias_rows(b2, x.rows, w2.cols))


def _relu_ffn(v, x):
    return None if v.ffn_weights[4] != "gelu" else ffn_parts(x, (*v.ffn_weights[:4], "relu"))[2]


RELU_FOR_GELU = "This layer uses GELU, x·Φ(x), not ReLU: negative entries are not simply set to 0."


def ffn_sublayer(k: int) -> L.Sublayer:
    u = m(f"u_{k}")

    def explain(v):
        w1, b1, w2, b2, activation = v.ffn_weights
        hidden, act, _ = ffn_parts(v.ffn_input, v.ffn_weights)
        act_of, h = sp.Function(L.ACT_NAMES[activation]), sp.Symbol("h")
        first = L.plus(u * m("W_1"), m("b_1")) if b1 is not None else u * m("W_1")
        second = L.plus(act_of(h) * m("W_2"), m("b_2")) if b2 is not None else act_of(h) * m("W_2")
        what = (
            "ReLU keeps the positive entries and sets the negative ones to 0."
            if activation == "relu"
            else "GELU weights each entry by the probability that a standard normal variable lies below it."
        )
        return (
            prose(
                "The feed-forward network transforms each token on its own, with the same weights for every "
                "token: it widens the row to {dff} features, applies {act} and narrows it back to {dm}. "
                + what,
                dff=same(sp.Symbol("d_ff"), w1.cols),
                act=L.ACT_NAMES[activation],
                dm=same(sp.Symbol("d_model"), w2.cols),
            ),
            L.show(h, first, value=hidden),
            L.show(act_of(h), value=act),
            L.show(m("f"), second, value=v.ffn),
        )

    mistakes = (Mistake("relu-for-gelu", RELU_FOR_GELU, lambda v: _relu_ffn(v, v.ffn_input)),)
    compute = lambda v, x: ffn_parts(x, v.ffn_weights)[2]  # noqa: E731
    return L.Sublayer("ffn", "ffn_input", "feed-forward network", "f", FFN, compute, explain, (), mistakes)


# --- the encoder layer ------------------------------------------------------------------------------

PADDING_TEXT = (
    "The padding mask {M} adds {inf} to the columns of the padding tokens, so every query gives them weight "
    "exactly 0. Their own rows are still computed, and ignored by whatever reads the output."
)
NO_PADDING = (
    "Padded tokens (0 in --padding) get weight 0: add -∞ to their columns of the scores before the softmax."
)


def _unpadded(v):
    if v.allowed is None:
        return None
    return attend(v.attention_input, v.attention_input, v.attn_weights, v.heads, None).output


SUBLAYERS = (
    attention_sublayer(
        1,
        "attention",
        "attention_input",
        "self-attention",
        "a",
        "attn_weights",
        ("W_Q", "W_K", "W_V", "W_O"),
        MULTIHEAD,
        allowed=lambda v: v.allowed,
        mask_text=PADDING_TEXT,
        mistakes=(Mistake("no-padding-mask", NO_PADDING, _unpadded),),
    ),
    ffn_sublayer(2),
)


def _padding(option, n: int):
    if option is None:
        return None
    entries = list(option)
    if len(entries) != n:
        raise InputError(
            "--padding", f"has {len(entries)} entries but x has {n} rows; give one 1 or 0 per token"
        )
    if any(e not in (0, 1) for e in entries) or not any(entries):
        raise InputError(
            "--padding", "expected 1 for a real token and 0 for padding, with at least one 1: '1 1 0'"
        )
    return [int(e) for e in entries]


def _prepare(options) -> Givens:
    x = options["x"]
    limits.check_shape("--x", x, rows=L.MAX_TOKENS, cols=L.MAX_DIM)
    n, heads, post = x.rows, options["heads"], options["norm"] == "post"
    attn = L.attention_weights(options, ATTENTION, x.cols, heads, L.DEFAULTS, "self-attention")
    ffn = L.ffn_weights(options, x.cols)
    padding = _padding(options["padding"], n)
    labels = L.tokens(options["tokens"], n, "--tokens", "x")
    listing, fields = L.token_listing(labels)
    X, U2, R1, Y = m("x"), m("u_2"), m("r_1"), m("y")
    if post:
        order = "after each residual sum (post-LN), as in “Attention Is All You Need” and BERT:"
        formulas = (eq(U2, L.LN(L.plus(X, MULTIHEAD(X)))), eq(Y, L.LN(L.plus(U2, FFN(U2)))))
    else:
        order = "before each sublayer, and the residual path stays un-normalised (pre-LN), as in GPT-2:"
        formulas = (eq(R1, L.plus(X, MULTIHEAD(L.LN(X)))), eq(Y, L.plus(R1, FFN(L.LN(R1)))))
    intro = [
        prose(
            "An encoder layer has two sublayers: self-attention, through which every token gathers "
            "information from the others, and a feed-forward network, which transforms each token on its "
            "own. Each sits in a residual connection with a LayerNorm, here " + order
        ),
        *formulas,
        prose(
            f"The {n} tokens {listing} are the rows of {{x}}, with {{dm}}:",
            x=X,
            dm=same(sp.Symbol("d_model"), x.cols),
            **fields,
        ),
        eq(X, x),
    ]
    allowed = None
    if padding is not None and not all(padding):
        allowed = [[bool(p) for p in padding] for _ in range(n)]
        padded = [t for t, p in zip(labels, padding) if not p]
        pads, pad_fields = L.token_listing(padded)
        verb = "is padding" if len(padded) == 1 else "are padding"
        intro.append(
            prose(
                f"The padding mask is {{p}} (1 marks a real token): {pads} {verb}, which no token may attend to.",
                p=sp.Matrix([padding]),
                **pad_fields,
            )
        )
    intro += L.attention_intro(heads, attn, ("W_Q", "W_K", "W_V", "W_O"), "self-attention")
    intro += L.ffn_intro(ffn, options["eps"])
    intro += L.answer_table(SUBLAYERS, post)
    values = {
        "x": x,
        "attn_weights": attn,
        "heads": heads,
        "allowed": allowed,
        "ffn_weights": ffn,
        "eps": options["eps"],
        "norm": options["norm"],
        "tokens": tuple(labels),
    }
    shown = {
        "x": x,
        **dict(zip(ATTENTION + L.FEED_FORWARD, attn + ffn[:4])),
        "heads": heads,
        "activation": ffn[4],
    }
    shown.update(norm=options["norm"], eps=options["eps"], padding=padding, tokens=list(labels))
    title = "Transformer encoder layer (" + ("post-LN" if post else "pre-LN") + ")"
    return Givens(title, values, tuple(intro), L.params(shown))


# --- test-suite hooks -------------------------------------------------------------------------------


def random_matrix(rng, rows: int, cols: int) -> str:
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


def sample_shared(rng, n: int, names) -> dict:
    """Random inputs for a layer of n tokens: d_model 2 or 4 and a head count that divides it."""
    d_model, d_ff = int(rng.choice([2, 4])), int(rng.choice([2, 4]))
    while True:
        x = rng.integers(-2, 3, (n, d_model))
        if all(len(set(row)) > 1 for row in x.tolist()):
            break
    raw = {
        "x": "; ".join(" ".join(str(int(e)) for e in row) for row in x),
        "heads": str(int(rng.choice([1, 2]))),
        "w1": random_matrix(rng, d_model, d_ff),
        "w2": random_matrix(rng, d_ff, d_model),
        "activation": str(rng.choice(["relu", "gelu"])),
        "norm": str(rng.choice(["post", "pre"])),
        "eps": str(rng.choice(["1e-5", "1/10"])),
    }
    raw.update({name: random_matrix(rng, d_model, d_model) for name in names})
    if rng.random() < 0.5:
        raw.update(b1=random_matrix(rng, 1, d_ff), b2=random_matrix(rng, 1, d_model))
    return raw


def _sample(rng):
    n = int(rng.integers(2, 4))
    raw = sample_shared(rng, n, ATTENTION)
    if rng.random() < 0.5:
        raw["padding"] = " ".join(["1"] * (n - 1) + ["0"])
    return raw


def floats(matrix):
    import numpy as np

    return None if matrix is None else np.array(matrix.evalf(30).tolist(), dtype=float)


def forward_parts(values):
    """derive.forward's blocks with these weights: no attention biases, γ = 1 and β = 0."""
    import numpy as np

    from derive import forward

    w1, b1, w2, b2, activation = values["ffn_weights"]
    feed = forward.FeedForward(floats(w1), b1 and floats(b1)[0], floats(w2), b2 and floats(b2)[0], activation)
    d_model = values["x"].cols
    norm = forward.Norm(np.ones(d_model), np.zeros(d_model), float(values["eps"]))
    return feed, norm, values["norm"] == "pre"


def mha(values, key: str):
    from derive import forward

    return forward.MultiHeadAttention(*(floats(w) for w in values[key]), values["heads"])


def _reference(options):
    from derive import forward

    values = _prepare(options).values
    feed, norm, first = forward_parts(values)
    layer = forward.EncoderLayer(mha(values, "attn_weights"), feed, norm, norm, first)
    mask = None if options["padding"] is None else floats(options["padding"])[0]
    trace: dict = {}
    x = floats(values["x"])
    out = layer(x, attention_mask=mask, trace=trace)
    return {
        "attention_input": trace["norm1.out"] if first else x,
        "attention": trace["attn.out"],
        "residual1": trace["resid1"],
        "ffn_input": trace["norm2.out" if first else "norm1.out"],
        "ffn": trace["ffn.out"],
        "residual2": trace["resid2"],
        "output": out,
    }


EXAMPLE = {"x": "1 0 1 0; 0 2 0 1; 1 1 0 2", "tokens": "the cat sat", "heads": "2", "eps": "0"}

TOPIC = Topic(
    name="encoder-layer",
    summary="A Transformer encoder layer: multi-head self-attention, FFN, residuals, LayerNorm (post or pre)",
    options=L.options(
        "the token embeddings, one row per token (d_model columns)",
        ATTENTION,
        "self-attention",
        extra=(
            Option(
                "padding",
                "1 for a real token, 0 for padding: '1 1 0' (padded keys get weight 0)",
                inputs.vector,
            ),
            Option("tokens", "token labels, one per row (default t1 t2 ...)", inputs.tokens),
        ),
    ),
    prepare=_prepare,
    stages=L.layer_stages(SUBLAYERS),
    result="output",
    examples={
        "post": EXAMPLE,
        "pre": {**EXAMPLE, "norm": "pre"},
        "padding": {
            "x": "1 0 1 0; 0 2 0 1; 0 0 0 1",
            "tokens": "hello world [PAD]",
            "padding": "1 1 0",
            "eps": "0",
        },
    },
    example_notes={
        "post": "BERT's order, post-LN: 3 tokens, d_model 4, 2 heads, a ReLU FFN with d_ff 8",
        "pre": "the same layer in GPT-2's pre-LN order",
        "padding": "one head, and a padding token that no token may attend to",
    },
    sample=_sample,
    reference=_reference,
)
