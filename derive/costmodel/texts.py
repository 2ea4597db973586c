"""The prose of the cost topic: one sentence or two per stage, worded for the model's architecture.

Each function returns ``(template, fields)`` for ``blocks.prose``. Templates stay plain ASCII words;
every symbol or formula goes in a field, so every renderer prints it as math.
"""

from __future__ import annotations

import sympy as sp

from derive.costmodel.formulas import SYMBOLS
from derive.costmodel.presets import Model

S = sp.Symbol
d, dff, V, ctx, T, L = S("d_model"), S("d_ff"), S("n_vocab"), S("n_ctx"), S("n_types"), S("n_layer")
WEIGHTS = {"wq": S("W_Q"), "wk": S("W_K"), "wv": S("W_V"), "wo": S("W_O")}


def by(rows, cols) -> sp.Tuple:
    """A matrix's shape, ``(rows, cols)`` as PyTorch prints it."""
    return sp.Tuple(rows, cols)


def mul(*factors) -> sp.Expr:
    """A product kept in the written order."""
    return sp.Mul(*factors, evaluate=False)


def describe(m: Model) -> tuple[str, dict]:
    if m.arch == "gpt2":
        return (
            "{label} is a decoder-only transformer: a LayerNorm before each sublayer (pre-LN) and one "
            "more after the last layer, learned positions, and an output layer "
            + (
                "tied to the token embedding."
                if m.head == "tied"
                else "with its own weights."
                if m.head == "untied"
                else "left out of the count."
            ),
            {},
        )
    if m.arch == "bert":
        parts = "learned positions" + (" and segment embeddings" if m.n_types else "")
        pool = ", and a pooler on the first token" if m.pooler else ""
        return (f"{{label}} is an encoder: a LayerNorm after each sublayer (post-LN), {parts}{pool}.", {})
    return (
        "{label} is the original encoder-decoder: {n} encoder and {n} decoder layers, post-LN, "
        "sinusoidal positions, and one embedding matrix shared by both sides and the pre-softmax layer.",
        {"n": sp.Integer(m.n_layer)},
    )


def embeddings(m: Model):
    if m.arch == "transformer":
        return (
            "One matrix of {shape}, shared by the encoder's and the decoder's embeddings (and, as the "
            "next steps show, by the pre-softmax layer). The positions are sinusoidal: computed, not "
            "learned, so they add nothing.",
            {"shape": by(V, d)},
        )
    if m.arch == "gpt2":
        return (
            "A learned token embedding of {tok} and a learned position embedding of {pos}.",
            {"tok": by(V, d), "pos": by(ctx, d)},
        )
    types = "" if not m.n_types else ", the segment (token type) embedding of {typ}"
    note = "" if m.n_types else " This model has no segment embeddings."
    return (
        "The token embedding of {tok}, the position embedding of {pos}" + types + ", and the "
        "LayerNorm applied to their sum, with a gain and a bias of {d} values each." + note,
        {"tok": by(V, d), "pos": by(ctx, d), "typ": by(T, d), "d": d},
    )


def _wide_heads(m: Model):
    """n_heads × d_head ≠ d_model: the projections are d_model × d_attn and W_O is d_attn × d_model."""
    dattn = sp.Eq(S("d_attn"), mul(S("n_heads"), S("d_head")), evaluate=False)
    fields = {"dattn": dattn, "d": d, "q": by(d, S("d_attn")), "o": by(S("d_attn"), d), **WEIGHTS}
    kv = "{wk} and {wv} are {q} as well"
    if m.kv_heads != m.n_heads:
        kv = (
            "{wk} and {wv} are only {kvshape}, where {dkv}, since the query heads share {kvh} key/value heads"
        )
        fields.update(
            kvshape=by(d, S("d_kv")),
            dkv=sp.Eq(S("d_kv"), mul(S("n_kv"), S("d_head")), evaluate=False),
            kvh=S("n_kv"),
        )
    return (
        "Here the heads are set by --d-head, not by d_model / n_heads: all heads together are {dattn} "
        "wide, which differs from d_model, as in GPT-3's table (24 heads of 128 at d_model 2048) and Gemma "
        "7B (16 heads of 256 at d_model 3072). So {wq} is {q}, " + kv + ", each with a bias as wide as "
        "its output, and the output projection {wo} is {o} with a bias of {d} values.",
        fields,
    )


def attention_per_layer(m: Model):
    if m.wide_heads:
        return _wide_heads(m)
    if m.kv_heads != m.n_heads:
        return (
            "With grouped-query attention the {h} query heads share {kv} key/value heads, so {wq} and "
            "the output {wo} are {big} while {wk} and {wv} are only {small}, where {dkv}. Each has a bias "
            "as wide as its output.",
            {
                "h": S("n_heads"),
                "kv": S("n_kv"),
                "big": by(d, d),
                **WEIGHTS,
                "small": by(d, S("d_kv")),
                "dkv": sp.Eq(S("d_kv"), mul(S("n_kv"), S("d_head")), evaluate=False),
            },
        )
    fused = (
        " GPT-2 stores the first three side by side as one matrix of {fused} (c_attn): the same count."
        if m.style == "gpt2"
        else ""
    )
    return (
        "Self-attention has four matrices of {shape}: {wq}, {wk}, {wv} and the output projection {wo}, "
        "each with a bias of {d} values. Splitting the width into {h} heads of {dh} columns changes "
        "nothing in the count." + fused,
        {
            "shape": by(d, d),
            "d": d,
            "h": S("n_heads"),
            "dh": S("d_head"),
            **WEIGHTS,
            "fused": by(d, mul(3, d)),
        },
    )


def ffn_per_layer(m: Model):
    return (
        "The feed-forward network maps {d} features to {dff} and back: a matrix of {up} with a bias of "
        "{dff}, then a matrix of {down} with a bias of {d}.",
        {"d": d, "dff": dff, "up": by(d, dff), "down": by(dff, d)},
    )


def layernorms_per_layer(m: Model):
    where = {
        "gpt2": "before the attention and before the feed-forward network",
        "bert": "after the attention and after the feed-forward network",
        "transformer": "after the self-attention and after the feed-forward network",
    }[m.arch]
    return (f"Each layer has two LayerNorms, {where}; each has a gain and a bias of {{d}} values.", {"d": d})


def per_layer(m: Model):
    return ("One layer is the sum of its parts.", {})


def all_layers(m: Model):
    if m.arch == "transformer":
        return (
            "The encoder has {L} such layers. Each decoder layer has the same parts plus a second "
            "attention block over the encoder's output (another {pa}) and its LayerNorm ({ln}).",
            {"L": L, "pa": S("P_attn"), "ln": mul(2, d)},
        )
    return ("The {L} layers are identical.", {"L": L})


def final_norm(m: Model):
    if m.arch == "gpt2":
        return (
            "Pre-LN leaves the last layer's output unnormalised, so GPT-2 adds a final LayerNorm (ln_f).",
            {},
        )
    return (
        "With LayerNorm after each sublayer (post-LN) the output is already normalised: there is no "
        "final LayerNorm.",
        {},
    )


def pooler(m: Model):
    if m.pooler:
        return (
            "The pooler is a dense layer of {shape} with a bias, applied to the first token ([CLS]).",
            {"shape": by(d, d)},
        )
    return ("This model has no pooler.", {})


def lm_head(m: Model):
    if m.head == "tied":
        return (
            "The output layer turns a vector of {d} features into {V} logits. Its weights are the token "
            "embedding matrix, transposed: the head is tied, so it adds no parameters of its own.",
            {"d": d, "V": V},
        )
    if m.head == "untied":
        return (
            "The output layer has its own matrix of {shape} (no bias): it is not tied to the embedding.",
            {"shape": by(d, V)},
        )
    return (
        "The count is of the base model without an output layer (a task head such as BERT's masked-LM "
        "head is a separate module).",
        {},
    )


def parameters(m: Model):
    return ("Add the parts.", {})


def matmul_parameters(m: Model):
    text = (
        "Kaplan et al. (2020, Table 1) count compute with N, the parameters of the layers' matrix "
        "multiplications: the attention projections and the feed-forward matrices. Embeddings are table "
        "lookups, biases and LayerNorms are element-wise, and, as in Kaplan et al., the output layer is "
        "left out, so N excludes them. Here {dattn} is the width of all heads together."
    )
    if m.arch == "transformer":
        text += (
            " For the encoder-decoder, N counts both stacks, so the cost below is for one source token "
            "through the encoder and one target token through the decoder."
        )
    return text, {"dattn": sp.Eq(S("d_attn"), mul(S("n_heads"), S("d_head")), evaluate=False)}


def flops_per_token(m: Model):
    if m.arch == "transformer":
        where = (
            "a source and a target token pass three attention blocks per layer (encoder self-attention, "
            "decoder self-attention and cross-attention), each comparing the token with the {s} "
            "positions of a sequence at {att} FLOPs"
        )
    else:
        where = (
            "each layer's attention compares the token with the {s} positions of its sequence, at {att} FLOPs"
        )
    return (
        "A multiply-add is 2 floating-point operations, so each matrix parameter costs 2 FLOPs per token. "
        f"On top of that, {where} (Kaplan et al. write {{ctx}} for s).",
        {"s": S("s"), "att": mul(2, S("s"), S("d_attn")), "ctx": ctx},
    )


def attention_share(m: Model):
    return ("The share of the forward FLOPs that the attention term takes at this sequence length:", {})


def training_flops(m: Model):
    return (
        "Training runs the forward pass (2 FLOPs per parameter and token) and the backward pass, which "
        "costs about twice as much (gradients for both the activations and the weights): 6 FLOPs per "
        "parameter and token, over D training tokens.",
        {},
    )


def weights_bytes(m: Model):
    return ("Storing the weights takes {nb} bytes per parameter, by the number format.", {"nb": S("n_bytes")})


def training_state_bytes(m: Model):
    return (
        "Mixed-precision training with AdamW (Rajbhandari et al. 2020) keeps five numbers per parameter: "
        "16-bit weights and gradients for the forward and backward passes, and in fp32 a master copy of "
        "the weights and Adam's two moments m and v.",
        {},
    )


def activations_per_layer(m: Model):
    text = (
        "Korthikanti et al. (2022) count the bytes one layer stores for the backward pass, with 16-bit "
        "activations and 1-byte dropout masks: {lin} for the attention block's linear parts, {mlp} for "
        "the feed-forward network and {ln} for the two LayerNorms, {all} in all; plus 5 bytes for each "
        "of the attention scores ({h} heads, each s by s, for each sequence): the scores' softmax, its "
        "dropout mask and the dropout's output. That last term grows with the square of s."
    )
    fields = {
        "lin": mul(11, S("s"), S("b"), d),
        "mlp": mul(19, S("s"), S("b"), d),
        "ln": mul(4, S("s"), S("b"), d),
        "all": mul(34, S("s"), S("b"), d),
        "h": S("n_heads"),
    }
    if m.d_ff != 4 * m.d_model:
        text += " The formula assumes {dff4}; this model's feed-forward width differs, so treat it as an estimate."
        fields["dff4"] = sp.Eq(dff, mul(4, d), evaluate=False)
    if m.wide_heads:
        text += " It also assumes {dattn}; with --d-head the heads differ, so this is an estimate too."
        fields["dattn"] = sp.Eq(mul(S("n_heads"), S("d_head")), d, evaluate=False)
    return text, fields


def activations(m: Model):
    if m.arch == "transformer":
        return (
            "Both stacks store their layers' activations ({L2} layers; the decoder's cross-attention, "
            "not in Korthikanti's formula, is left out).",
            {"L2": mul(2, L)},
        )
    return ("Every layer stores its own.", {})


def activations_recompute(m: Model):
    return (
        "With full recomputation only each layer's input is kept ({inp} bytes in 16 bits) and the rest is "
        "recomputed during the backward pass, at the price of a second forward pass (about 33% more "
        "compute).",
        {"inp": mul(2, S("s"), S("b"), d)},
    )


def training_bytes(m: Model):
    return (
        "Training memory without recomputation: optimizer state plus activations (for one micro-batch, "
        "on one device, without parallelism).",
        {},
    )


def kv_cache_bytes(m: Model):
    if m.arch == "transformer":
        text = (
            "While generating, the decoder keeps every earlier token's keys and values (the first 2) in "
            "each layer, for its self-attention and for the cross-attention over a source of s tokens "
            "(the second 2)."
        )
    else:
        text = (
            "While generating, each layer keeps every earlier token's keys and values (the 2) so they "
            "are not recomputed: {kv} heads of {dh} values, {nb} bytes each."
        )
        if m.arch == "bert":
            text += " An encoder such as BERT does not generate; this is what caching would take."
    return text, {"kv": S("n_kv"), "dh": S("d_head"), "nb": S("n_bytes")}


# One explanation per answer id: every id of formulas.SYMBOLS has a function of that name here.
TEXTS = {name: globals()[name] for name in SYMBOLS}
