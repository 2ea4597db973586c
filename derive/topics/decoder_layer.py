"""One Transformer decoder layer: causal self-attention over the target tokens, cross-attention from them
to the encoder's output (the memory), and the FFN, each in a residual connection with LayerNorm, post-LN
(Vaswani) or pre-LN (GPT-2 style). The answer ids follow _layer_steps: ``self_input``,
``self_attention``, ``residual1``, ``cross_input``, ``cross_attention``, ``residual2``, ``ffn_input``,
``ffn``, ``residual3`` and ``output``. The sublayers, inputs and conventions are the encoder layer's.
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, prose, same
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Topic
from derive.topics import _layer_steps as L
from derive.topics import encoder_layer as E

SELF, CROSS = E.ATTENTION, ("cq", "ck", "cv", "co")
CROSS_DEFAULTS = {
    "cq": "1 0 0 0; 0 0 1 0; 0 1 0 0; 0 0 0 1",
    "ck": "1 0 1 0; 0 1 0 0; 0 0 1 1; 1 0 0 0",
    "cv": "0 1 0 0; 1 0 0 0; 0 0 1 0; 0 0 0 1",
    "co": "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1",
}
MASKED = sp.Function("MaskedMultiHead")
m = L.mat

CAUSAL_TEXT = (
    "The causal mask {M} adds {inf} above the diagonal: token i may attend only to itself and the tokens "
    "before it, because at generation time the later target tokens do not exist yet."
)
NO_CAUSAL = "Self-attention in a decoder is causal: add -∞ above the diagonal, so no token sees later ones."
FROM_DECODER = (
    "In cross-attention only the queries come from the decoder; the keys and values come from the "
    "encoder's output (the memory), with C_K and C_V."
)


def _causal(v):
    return [[j <= i for j in range(v.x.rows)] for i in range(v.x.rows)]


def _unmasked(v):
    return E.attend(v.self_input, v.self_input, v.attn_weights, v.heads, None).output


def _from_decoder(v):
    return E.attend(v.cross_input, v.cross_input, v.cross_weights, v.heads, None).output


SUBLAYERS = (
    E.attention_sublayer(
        1,
        "self_attention",
        "self_input",
        "masked self-attention",
        "s",
        "attn_weights",
        ("W_Q", "W_K", "W_V", "W_O"),
        MASKED,
        allowed=_causal,
        mask_text=CAUSAL_TEXT,
        mistakes=(Mistake("no-causal-mask", NO_CAUSAL, _unmasked),),
    ),
    E.attention_sublayer(
        2,
        "cross_attention",
        "cross_input",
        "cross-attention",
        "c",
        "cross_weights",
        ("C_Q", "C_K", "C_V", "C_O"),
        lambda u: E.MULTIHEAD(u, m("m")),
        kv=lambda v: v.memory,
        keys="memory_tokens",
        mistakes=(Mistake("cross-from-decoder", FROM_DECODER, _from_decoder),),
    ),
    E.ffn_sublayer(3),
)


def _prepare(options) -> Givens:
    x, memory = options["x"], options["memory"]
    limits.check_shape("--x", x, rows=L.MAX_TOKENS, cols=L.MAX_DIM)
    limits.check_shape("--memory", memory, rows=L.MAX_TOKENS, cols=L.MAX_DIM)
    if memory.cols != x.cols:
        raise InputError(
            "--memory", f"has {memory.cols} columns but x has {x.cols}; both live in the same d_model"
        )
    heads, post = options["heads"], options["norm"] == "post"
    attn = L.attention_weights(options, SELF, x.cols, heads, L.DEFAULTS, "self-attention")
    cross = L.attention_weights(options, CROSS, x.cols, heads, CROSS_DEFAULTS, "cross-attention")
    ffn = L.ffn_weights(options, x.cols)
    labels = L.tokens(options["tokens"], x.rows, "--tokens", "x")
    sources = L.tokens(options["memory_tokens"], memory.rows, "--memory-tokens", "memory", prefix="s")
    X, M, Y = m("x"), m("m"), m("y")
    if post:
        U2, U3 = m("u_2"), m("u_3")
        order = "after each residual sum (post-LN), as in “Attention Is All You Need”:"
        formulas = (
            eq(U2, L.LN(L.plus(X, MASKED(X)))),
            eq(U3, L.LN(L.plus(U2, E.MULTIHEAD(U2, M)))),
            eq(Y, L.LN(L.plus(U3, E.FFN(U3)))),
        )
    else:
        R1, R2 = m("r_1"), m("r_2")
        order = "before each sublayer, and the residual path stays un-normalised (pre-LN):"
        formulas = (
            eq(R1, L.plus(X, MASKED(L.LN(X)))),
            eq(R2, L.plus(R1, E.MULTIHEAD(L.LN(R1), M))),
            eq(Y, L.plus(R2, E.FFN(L.LN(R2)))),
        )
    target, target_fields = L.token_listing(labels)
    source, source_fields = L.token_listing(sources, "s")
    intro = [
        prose(
            "A decoder layer has three sublayers: masked (causal) self-attention over the target tokens "
            "written so far, cross-attention from them to the encoder's output, and a feed-forward network. "
            "Each sits in a residual connection with a LayerNorm, here " + order
        ),
        *formulas,
        prose(
            f"The {x.rows} target tokens {target} are the rows of {{x}}, with {{dm}}:",
            x=X,
            dm=same(sp.Symbol("d_model"), x.cols),
            **target_fields,
        ),
        eq(X, x),
        prose(
            f"The memory {{m}} is the encoder's output for the {memory.rows} source tokens {source}, one row each:",
            m=M,
            **source_fields,
        ),
        eq(M, memory),
        *L.attention_intro(heads, attn, ("W_Q", "W_K", "W_V", "W_O"), "masked self-attention"),
        *L.attention_intro(heads, cross, ("C_Q", "C_K", "C_V", "C_O"), "cross-attention"),
        *L.ffn_intro(ffn, options["eps"]),
        *L.answer_table(SUBLAYERS, post),
    ]
    values = {
        "x": x,
        "memory": memory,
        "attn_weights": attn,
        "cross_weights": cross,
        "heads": heads,
        "ffn_weights": ffn,
        "eps": options["eps"],
        "norm": options["norm"],
        "tokens": tuple(labels),
        "memory_tokens": tuple(sources),
    }
    shown = {"x": x, "memory": memory, **dict(zip(SELF + CROSS, attn + cross))}
    shown.update(dict(zip(L.FEED_FORWARD, ffn[:4])), heads=heads, activation=ffn[4], norm=options["norm"])
    shown.update(eps=options["eps"], tokens=list(labels), memory_tokens=list(sources))
    title = "Transformer decoder layer (" + ("post-LN" if post else "pre-LN") + ")"
    return Givens(title, values, tuple(intro), L.params(shown))


# --- test-suite hooks -------------------------------------------------------------------------------


def _sample(rng):
    n = int(rng.integers(1, 4))
    raw = E.sample_shared(rng, n, SELF + CROSS)
    d_model = len(raw["x"].split(";")[0].split())
    raw["memory"] = E.random_matrix(rng, int(rng.integers(1, 4)), d_model)
    return raw


def _reference(options):
    from derive import forward

    values = _prepare(options).values
    feed, norm, first = E.forward_parts(values)
    layer = forward.DecoderLayer(
        E.mha(values, "attn_weights"), E.mha(values, "cross_weights"), feed, norm, norm, norm, first
    )
    trace: dict = {}
    x = E.floats(values["x"])
    out = layer(x, E.floats(values["memory"]), causal=True, trace=trace)
    norms = ("norm1.out", "norm2.out", "norm3.out") if first else (None, "norm1.out", "norm2.out")
    return {
        "self_input": trace[norms[0]] if first else x,
        "self_attention": trace["self_attn.out"],
        "residual1": trace["resid1"],
        "cross_input": trace[norms[1]],
        "cross_attention": trace["cross_attn.out"],
        "residual2": trace["resid2"],
        "ffn_input": trace[norms[2]],
        "ffn": trace["ffn.out"],
        "residual3": trace["resid3"],
        "output": out,
    }


EXAMPLE = {
    "x": "1 0 1 0; 0 2 0 0",
    "tokens": "<s> le",
    "memory": "1 0 -1 0; 0 1 0 -1; 1 1 -1 -1",
    "memory_tokens": "the black cat",
    "eps": "0",
}

TOPIC = Topic(
    name="decoder-layer",
    summary="A Transformer decoder layer: causal self-attention, cross-attention to the encoder, FFN (post or pre)",
    options=L.options(
        "the target tokens' embeddings, one row per token (d_model columns)",
        SELF,
        "self-attention",
        extra=(
            Option(
                "memory",
                "the encoder's output (the memory), one row per source token",
                inputs.matrix,
                required=True,
            ),
            *(
                Option(n, f"cross-attention {s} (default: built-in, for d_model 4)", inputs.matrix)
                for n, s in zip(CROSS, ("C_Q", "C_K", "C_V", "C_O"))
            ),
            Option("tokens", "target token labels, one per row of x (default t1 t2 ...)", inputs.tokens),
            Option(
                "memory_tokens",
                "source token labels, one per row of --memory (default s1 s2 ...)",
                inputs.tokens,
            ),
        ),
    ),
    prepare=_prepare,
    stages=L.layer_stages(SUBLAYERS),
    result="output",
    examples={"post": EXAMPLE, "pre": {**EXAMPLE, "norm": "pre"}},
    example_notes={
        "post": "translating 'the black cat': the target '<s> le' attends to itself and to the encoder, post-LN",
        "pre": "the same decoder layer in pre-LN order",
    },
    sample=_sample,
    reference=_reference,
)
