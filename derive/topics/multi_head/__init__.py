"""Multi-head attention: d_model split into h heads of d_k = d_model/h columns, each head's attention,
the concatenation and the output projection W_O, with every shape and the layer's parameter count.

Per-head answers (scores, scaled, weights, heads) are the heads' matrices stacked vertically, head 1
on top (see ``stages``).
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.attention_prose import explain_projection
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.multi_head import explain, stages
from derive.topics.multi_head.stages import scale_by_dmodel, split_wrong

WEIGHTS = (("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"), ("wo", "W_O"))


# --- inputs ---------------------------------------------------------------------------------------


def _heads_option(value, option):
    return inputs.integer(value, option, 1, limits.MAX_DIM)


def _check_weights(options):
    x = options["x"]
    limits.check_shape("--x", x)
    width = x.cols
    for name, symbol in WEIGHTS:
        w = options[name]
        limits.check_shape("--" + name, w, rows=limits.MAX_DIM, cols=limits.MAX_DIM)
        if w.shape != (width, width):
            raise InputError(
                "--" + name,
                f"{symbol} is {w.rows}×{w.cols} but must be d_model × d_model = {width}×{width} "
                f"(X has {width} columns)",
            )


def _check_tokens(labels, n_rows: int) -> list[str]:
    if labels is None:
        return [f"t{i}" for i in range(1, n_rows + 1)]
    if len(labels) != n_rows:
        raise InputError("--tokens", f"{len(labels)} tokens but X has {n_rows} rows; give one token per row")
    return labels


def _prepare(options) -> Givens:
    _check_weights(options)
    x, heads = options["x"], options["heads"]
    width = x.cols
    if width % heads:
        raise InputError(
            "--heads",
            f"d_model = {width} is not divisible by {heads} heads; each head needs d_model/h columns",
        )
    labels = _check_tokens(options["tokens"], x.rows)
    values = {symbol: options[name] for name, symbol in WEIGHTS}
    values.update(
        X=x,
        H=heads,
        d_model=width,
        d_k=sp.Integer(width // heads),
        causal=options["mask"] == "causal",
        tokens=tuple(labels),
        n=x.rows,
        focus_index=x.rows - 1,
    )
    params = {
        name: [[str(e) for e in row] for row in options[name].tolist()] for name, _ in (("x", 0), *WEIGHTS)
    }
    params.update(heads=heads, mask=options["mask"], tokens=list(labels))
    return Givens("Multi-head attention", values, explain.intro(values), params)


# --- test-suite hooks -----------------------------------------------------------------------------


def _random_matrix(rng, rows, cols):
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


def _sample(rng):
    heads = int(rng.choice([1, 2, 3]))
    d_head, n = int(rng.integers(1, 3)), int(rng.integers(2, 4))
    width = heads * d_head
    raw = {name: _random_matrix(rng, width, width) for name, _ in WEIGHTS}
    return {
        **raw,
        "x": _random_matrix(rng, n, width),
        "heads": str(heads),
        "mask": str(rng.choice(["none", "causal"])),
    }


def _reference(options):
    import numpy as np

    from derive import forward

    def array(name):
        return np.array(options[name].evalf(30).tolist(), dtype=float)

    x = array("x")  # (T, C)
    heads, n = options["heads"], x.shape[0]
    layer = forward.MultiHeadAttention(*(array(name) for name, _ in WEIGHTS), heads)
    trace: dict = {}
    output = layer(x, causal=options["mask"] == "causal", trace=trace)  # (T, C)
    scores = trace["scores"]  # (h, T, T)
    return {
        "Q": x @ layer.W_Q,
        "K": x @ layer.W_K,
        "V": x @ layer.W_V,
        "scores": scores.reshape(heads * n, n),
        "scaled": scores.reshape(heads * n, n) / np.sqrt(layer.d_k),
        "weights": trace["weights"].reshape(heads * n, n),
        "heads": trace["heads"].reshape(heads * n, layer.d_k),
        "concat": trace["concat"],
        "output": output,
        "parameters": float(layer.n_params),
    }


TWO_HEADS = {
    "tokens": "the cat sat",
    "x": "1 0 1 0; 0 1 0 1; 1 1 0 0",
    "wq": "0 0 1 0; 1 0 0 1; 1 0 1 0; 0 1 0 1",
    "wk": "0 0 2 0; 0 1 0 2; 0 0 1 0; 2 -1 0 1",
    "wv": "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1",
    "wo": "1 0 0 1; 0 1 0 0; 1 0 1 0; 0 1 1 0",
    "heads": "2",
}

TOPIC = Topic(
    name="multi-head",
    summary="Multi-head attention: heads as column slices, each head's attention, Concat and W_O, shapes, parameters",
    options=(
        Option("x", "token embeddings X, one row per token (T × d_model)", inputs.matrix, required=True),
        Option("wq", "query projection W_Q (d_model × d_model)", inputs.matrix, required=True),
        Option("wk", "key projection W_K (d_model × d_model)", inputs.matrix, required=True),
        Option("wv", "value projection W_V (d_model × d_model)", inputs.matrix, required=True),
        Option("wo", "output projection W_O (d_model × d_model)", inputs.matrix, required=True),
        Option("heads", "number of heads h; d_model must be divisible by h", _heads_option, required=True),
        Option(
            "mask",
            "none, or causal: each token attends only to itself and earlier tokens",
            inputs.choice("none", "causal"),
            default="none",
        ),
        Option("tokens", "token labels, one per row: 'the cat sat' (default t1 t2 ...)", inputs.tokens),
    ),
    prepare=_prepare,
    stages=(
        Stage("Q", "Queries for all heads at once", stages.projection("W_Q"), explain_projection("Q")),
        Stage("K", "Keys", stages.projection("W_K"), explain_projection("K")),
        Stage("V", "Values", stages.projection("W_V"), explain_projection("V")),
        Stage("split", "Split into heads: column slices", stages.split, explain.explain_split, answer=False),
        Stage(
            "scores",
            "Each head's scores",
            stages.scores,
            explain.explain_scores,
            mistakes=(split_wrong("scores"), stages.REVERSED_SCORES),
        ),
        Stage(
            "scaled",
            "Scale by the square root of the head width",
            stages.scaled,
            explain.explain_scaled,
            mistakes=(scale_by_dmodel("scaled"), split_wrong("scaled")),
        ),
        Stage(
            "weights",
            "Each head's attention weights",
            stages.weights,
            explain.explain_weights,
            mistakes=(scale_by_dmodel("weights"), split_wrong("weights"), stages.NOT_NORMALISED),
            distribution=True,
        ),
        Stage(
            "heads",
            "Each head's output",
            stages.heads,
            explain.explain_heads,
            mistakes=(split_wrong("heads"),),
        ),
        Stage(
            "concat",
            "Concatenate the heads",
            stages.concat,
            explain.explain_concat,
            mistakes=(split_wrong("concat"),),
        ),
        Stage(
            "output",
            "The output projection",
            stages.output,
            explain.explain_output,
            mistakes=(stages.NO_OUTPUT_PROJECTION, split_wrong("output"), scale_by_dmodel("output")),
        ),
        Stage(
            "parameters",
            "Parameters of the layer",
            stages.parameters,
            explain.explain_parameters,
            mistakes=(stages.FULL_SIZE_HEADS,),
        ),
    ),
    result="output",
    examples={"two-heads": TWO_HEADS, "one-head": {**TWO_HEADS, "heads": "1"}},
    example_notes={
        "two-heads": "d_model 4 split into 2 heads of d_k = 2 over 'the cat sat'; 64 parameters",
        "one-head": "the same layer with h = 1: single-head attention followed by W_O",
    },
    sample=_sample,
    reference=_reference,
)
