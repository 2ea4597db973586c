"""One Transformer decoder layer: causal self-attention over the target tokens, cross-attention from them
to the encoder's output (the memory), and the FFN, each in a residual connection with LayerNorm, post-LN
(Vaswani) or pre-LN (GPT-2 style). The answer ids follow derive.transformer_layer: ``self_input``,
``self_attention``, ``residual1``, ``cross_input``, ``cross_attention``, ``residual2``, ``ffn_input``,
``ffn``, ``residual3`` and ``output``. The sublayers, inputs and conventions are those of the encoder
layer, from the same package.
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Topic
from derive.topics.decoder_layer import explain
from derive.topics.decoder_layer.stages import STAGES, SUBLAYERS
from derive.transformer_layer.inputs import (
    ATTENTION,
    DEFAULTS,
    FEED_FORWARD,
    MAX_DIM,
    MAX_TOKENS,
    attention_weights,
    ffn_weights,
    params,
    tokens,
)
from derive.transformer_layer.inputs import options as layer_options
from derive.transformer_layer.reference import floats, forward_parts, mha, random_matrix, sample_shared

SELF, CROSS = ATTENTION, ("cq", "ck", "cv", "co")
CROSS_DEFAULTS = {
    "cq": "1 0 0 0; 0 0 1 0; 0 1 0 0; 0 0 0 1",
    "ck": "1 0 1 0; 0 1 0 0; 0 0 1 1; 1 0 0 0",
    "cv": "0 1 0 0; 1 0 0 0; 0 0 1 0; 0 0 0 1",
    "co": "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1",
}


def _prepare(options) -> Givens:
    x, memory = options["x"], options["memory"]
    limits.check_shape("--x", x, rows=MAX_TOKENS, cols=MAX_DIM)
    limits.check_shape("--memory", memory, rows=MAX_TOKENS, cols=MAX_DIM)
    if memory.cols != x.cols:
        raise InputError(
            "--memory", f"has {memory.cols} columns but x has {x.cols}; both live in the same d_model"
        )
    heads, post = options["heads"], options["norm"] == "post"
    attn = attention_weights(options, SELF, x.cols, heads, DEFAULTS, "self-attention")
    cross = attention_weights(options, CROSS, x.cols, heads, CROSS_DEFAULTS, "cross-attention")
    ffn = ffn_weights(options, x.cols)
    labels = tokens(options["tokens"], x.rows, "--tokens", "x")
    sources = tokens(options["memory_tokens"], memory.rows, "--memory-tokens", "memory", prefix="s")
    intro = explain.intro(x, memory, labels, sources, attn, cross, ffn, options, SUBLAYERS)
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
    shown.update(dict(zip(FEED_FORWARD, ffn[:4])), heads=heads, activation=ffn[4], norm=options["norm"])
    shown.update(eps=options["eps"], tokens=list(labels), memory_tokens=list(sources))
    title = "Transformer decoder layer (" + ("post-LN" if post else "pre-LN") + ")"
    return Givens(title, values, intro, params(shown))


# --- test-suite hooks -------------------------------------------------------------------------------


def _sample(rng):
    n = int(rng.integers(1, 4))
    raw = sample_shared(rng, n, SELF + CROSS)
    d_model = len(raw["x"].split(";")[0].split())
    raw["memory"] = random_matrix(rng, int(rng.integers(1, 4)), d_model)
    return raw


def _reference(options):
    from derive import forward

    values = _prepare(options).values
    feed, norm, first = forward_parts(values)
    layer = forward.DecoderLayer(
        mha(values, "attn_weights"), mha(values, "cross_weights"), feed, norm, norm, norm, first
    )
    trace: dict = {}
    x = floats(values["x"])
    out = layer(x, floats(values["memory"]), causal=True, trace=trace)
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
    options=layer_options(
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
    stages=STAGES,
    result="output",
    examples={"post": EXAMPLE, "pre": {**EXAMPLE, "norm": "pre"}},
    example_notes={
        "post": "translating 'the black cat': the target '<s> le' attends to itself and to the encoder, post-LN",
        "pre": "the same decoder layer in pre-LN order",
    },
    sample=_sample,
    reference=_reference,
)
