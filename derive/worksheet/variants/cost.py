"""Parameter counts (and, from level 2, FLOPs and memory) of a custom model: level 1 a tiny
GPT-2-style model multiplied out by hand, level 2 a small GPT-2 with an untied head or a BERT,
level 3 a real-size model and its workload, calculator work."""

from __future__ import annotations

import sympy as sp

LEVEL_1_MAX_PARAMETERS = 5000
# The answers that need the workload (tokens, batch, number format, training tokens), drawn from level 2.
WORKLOAD = frozenset(
    (
        "flops_per_token",
        "attention_share",
        "training_flops",
        "weights_bytes",
        "training_state_bytes",
        "activations_per_layer",
        "activations",
        "activations_recompute",
        "training_bytes",
        "kv_cache_bytes",
    )
)
REAL_WIDTHS = (256, 384, 512, 640, 768, 1024, 1280)
REAL_VOCABS = (30522, 32000, 32768, 50257, 50304)


def _sizes(layers, d_model, heads, d_ff, vocab, context) -> dict:
    return {
        "layers": str(layers),
        "d_model": str(d_model),
        "heads": str(heads),
        "d_ff": str(d_ff),
        "vocab": str(vocab),
        "context": str(context),
    }


def level_1(rng):
    d_model = rng.choice([2, 3, 4, 6, 8])
    heads = rng.choice([h for h in (1, 2) if d_model % h == 0])
    d_ff = d_model * rng.choice([2, 3, 4])
    sizes = _sizes(rng.choice([2, 3]), d_model, heads, d_ff, rng.randint(5, 30), rng.randint(4, 16))
    return {"head": "tied", **sizes}


def level_2(rng):
    d_model = rng.choice([8, 12, 16, 20, 24, 32])
    heads = rng.choice([h for h in (2, 4) if d_model % h == 0])
    context = rng.choice([16, 32, 64])
    sizes = _sizes(
        rng.randint(2, 6), d_model, heads, d_model * rng.choice([2, 3, 4]), 10 * rng.randint(5, 100), context
    )
    model = {"architecture": "bert"} if rng.random() < 0.5 else {"architecture": "gpt2", "head": "untied"}
    return {**model, **sizes, **_workload(rng, context, [1, 2, 4], ["fp32", "fp16"], [1, 2, 5])}


def level_3(rng):
    d_model = rng.choice(REAL_WIDTHS)
    context = rng.choice([512, 1024, 2048])
    sizes = _sizes(
        rng.choice([4, 6, 8, 12, 16, 24]),
        d_model,
        d_model // 64,
        4 * d_model,
        rng.choice(REAL_VOCABS),
        context,
    )
    model = {"architecture": "bert"} if rng.random() < 0.4 else {"architecture": "gpt2", "head": "tied"}
    workload = _workload(rng, context, [1, 2, 4, 8, 16], ["fp32", "fp16", "bf16"], range(1, 10))
    return {**model, **sizes, **workload}


def _workload(rng, context, batches, dtypes, billions) -> dict:
    return {
        "tokens": str(rng.choice([context, context // 2])),
        "batch": str(rng.choice(batches)),
        "dtype": rng.choice(dtypes),
        "training_tokens": f"{rng.choice(list(billions))}e9",
    }


def refuse(answer, level):
    if level == 1 and answer in WORKLOAD:
        return "it needs a workload (tokens, batch, number format), which levels 2 and 3 give"
    if level == 1 and answer == "pooler":
        return "level 1 models are GPT-2-style and have no pooler (ask it at level 2 or 3)"
    return None


def suitable(values, level):
    """Level 1 totals small enough to multiply out by hand."""
    return level != 1 or values.parameters <= LEVEL_1_MAX_PARAMETERS


SYMBOLS = {
    "architecture": None,
    "head": None,
    "layers": sp.Symbol("n_layer"),
    "d_model": sp.Symbol("d_model"),
    "heads": sp.Symbol("n_heads"),
    "d_ff": sp.Symbol("d_ff"),
    "vocab": sp.Symbol("n_vocab"),
    "context": sp.Symbol("n_ctx"),
    "tokens": sp.Symbol("s"),
    "batch": sp.Symbol("b"),
    "dtype": None,
    "training_tokens": sp.Symbol("D"),
}

_MODELS = {
    "gpt2": "a GPT-2-style decoder (pre-LN with a final LayerNorm, learned positions, biases in every linear layer)",
    "bert": "a BERT-style encoder (learned positions, 2 segment embeddings, an embedding LayerNorm, a pooler, "
    "no output layer)",
}
_HEADS = {"tied": ", its output layer tied to the token embedding", "untied": ", its output layer untied"}


def task(given):
    model = _MODELS[given.get("architecture", "gpt2")] + _HEADS.get(given.get("head", ""), "")
    workload = (
        " It processes s tokens per sequence, b sequences per batch, in the number format given; D is the "
        "number of training tokens."
        if "tokens" in given
        else ""
    )
    return f"The model is {model}.{workload} Work out each quantity asked from these sizes."


LEVELS = {1: level_1, 2: level_2, 3: level_3}
