"""One Transformer encoder layer: multi-head self-attention and a feed-forward network, each inside a
residual connection with LayerNorm, after the sum (post-LN: Vaswani, BERT) or before the sublayer
(pre-LN: GPT-2). See derive.transformer_layer for the answer ids, which are the same in both orders.

LayerNorm has γ = 1 and β = 0; ε defaults to PyTorch's 1e-5, kept exact as 1/100000 (``--eps 0`` gives
the forms of a hand calculation). Weights that are left out default to the built-in ones (d_model 4).
"""

from __future__ import annotations

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Topic
from derive.topics.encoder_layer import explain
from derive.topics.encoder_layer.stages import STAGES, SUBLAYERS
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
from derive.transformer_layer.reference import floats, forward_parts, mha, sample_shared

# --- inputs -----------------------------------------------------------------------------------------


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
    limits.check_shape("--x", x, rows=MAX_TOKENS, cols=MAX_DIM)
    n, heads, post = x.rows, options["heads"], options["norm"] == "post"
    attn = attention_weights(options, ATTENTION, x.cols, heads, DEFAULTS, "self-attention")
    ffn = ffn_weights(options, x.cols)
    padding = _padding(options["padding"], n)
    labels = tokens(options["tokens"], n, "--tokens", "x")
    allowed = None
    if padding is not None and not all(padding):
        allowed = [[bool(p) for p in padding] for _ in range(n)]
    intro = explain.intro(x, labels, padding, attn, ffn, options, SUBLAYERS)
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
        **dict(zip(ATTENTION + FEED_FORWARD, attn + ffn[:4])),
        "heads": heads,
        "activation": ffn[4],
    }
    shown.update(norm=options["norm"], eps=options["eps"], padding=padding, tokens=list(labels))
    title = "Transformer encoder layer (" + ("post-LN" if post else "pre-LN") + ")"
    return Givens(title, values, intro, params(shown))


# --- test-suite hooks -------------------------------------------------------------------------------


def _sample(rng):
    n = int(rng.integers(2, 4))
    raw = sample_shared(rng, n, ATTENTION)
    if rng.random() < 0.5:
        raw["padding"] = " ".join(["1"] * (n - 1) + ["0"])
    return raw


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
    options=layer_options(
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
    stages=STAGES,
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
