"""Multi-head attention: d_model split into h heads of d_k = d_model/h columns, each head's attention,
the concatenation and the output projection W_O, with every shape and the layer's parameter count.

Per-head answers (scores, scaled, weights, heads) are the heads' matrices stacked vertically, head 1
on top. Each stage reads the earlier stages' values, so a student's own slip follows through; the
misconceptions recompute the heads from Q, K and V (see ``_multi_head_steps.attend``).
"""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.blocks import eq, prose, same, table
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.topics import _attention_steps as single
from derive.topics import _multi_head_steps as steps
from derive.topics._attention_steps import _listing, _transposed
from derive.topics._multi_head_steps import (
    OUT,
    W_K,
    W_O,
    W_Q,
    W_V,
    K,
    Q,
    T,
    V,
    X,
    concat,
    d_k,
    d_model,
    h,
    head_out,
    per_head,
    weight_slice,
)
from derive.topics.attention import masked_softmax, weighted_values

WEIGHTS = (("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"), ("wo", "W_O"))


# --- the exact computation ------------------------------------------------------------------------


def _projection(key):
    return lambda v: v.X * v[key]


def _split(v):
    return sp.Matrix.vstack(*(steps.head_slice(v.Q, i, v.H) for i in range(v.H)))


def _scores(v):
    return sp.Matrix.vstack(
        *(steps.head_slice(v.Q, i, v.H) * steps.head_slice(v.K, i, v.H).T for i in range(v.H))
    )


def _scaled(v):
    return v.scores / sp.sqrt(v.d_k)


def _weights(v):
    return sp.Matrix.vstack(*(masked_softmax(block, v.causal) for block in steps.blocks(v.scaled, v.H)))


def _heads(v):
    return sp.Matrix.vstack(
        *(
            weighted_values(a, steps.head_slice(v.V, i, v.H))
            for i, a in enumerate(steps.blocks(v.weights, v.H))
        )
    )


def _concat(v):
    return sp.Matrix.hstack(*steps.blocks(v.heads, v.H))


def _output(v):
    return v.concat * v.W_O


def _parameters(v):
    return sp.Integer(4 * v.d_model**2)


# --- misconceptions -------------------------------------------------------------------------------


def _interleaved(name):
    """Head i built from columns i, i+h, i+2h, ...: the whole chain recomputed from Q, K and V."""

    def compute(v):
        if v.H == 1 or v.d_k == 1:  # one column per head: interleaved and consecutive agree
            return None
        wrong = steps.attend(v.Q, v.K, v.V, v.H, v.causal, interleaved=True)
        return wrong["concat"] * v.W_O if name == "output" else wrong[name]

    return compute


def _by_dmodel(name):
    """√d_model instead of √d_k: from the student's own scores where they gave them."""

    def compute(v):
        if v.H == 1:
            return None
        root = sp.sqrt(v.d_model)
        if name == "scaled":
            return v.scores / root
        if name == "weights":
            return sp.Matrix.vstack(
                *(masked_softmax(b / root, v.causal) for b in steps.blocks(v.scores, v.H))
            )
        return steps.attend(v.Q, v.K, v.V, v.H, v.causal, root=root)["concat"] * v.W_O

    return compute


def _no_projection(v):
    return v.concat


def _full_size_heads(v):
    return None if v.H == 1 else sp.Integer((3 * v.H + 1) * v.d_model**2)


SPLIT_HINT = (
    "Head i takes d_k consecutive columns of W_Q, W_K and W_V (columns (i-1)·d_k+1 to i·d_k), "
    "not every h-th column."
)
DMODEL_HINT = "Scale each head's scores by the square root of its own width d_k = d_model/h, not of d_model."


def _split_wrong(name):
    return Mistake("split-wrong", SPLIT_HINT, _interleaved(name))


def _scale_by_dmodel(name):
    return Mistake("scale-by-dmodel", DMODEL_HINT, _by_dmodel(name))


# --- the givens ---------------------------------------------------------------------------------


def _intro(values) -> tuple:
    n, heads, width, dk = values["n"], values["H"], values["d_model"], values["d_k"]
    listing, fields = _listing(values["tokens"])
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
        eq(head_i, sp.Function("softmax")(qi * _transposed(ki) / sp.sqrt(d_k)) * vi),
        prose("Head i's queries use only its own columns of the query projection, and likewise for K and V:"),
        eq(qi, X * weight_slice(W_Q, "i")),
        prose("Tokens are rows, and the softmax runs along each row."),
        prose(f"The {n} tokens, one per row, are {listing}. Embeddings and weights:", **fields),
    ]
    blocks_ += [eq(sym, values[key]) for sym, key in ((X, "X"), (W_Q, "W_Q"), (W_K, "W_K"), (W_V, "W_V"))]
    blocks_.append(eq(W_O, values["W_O"]))
    blocks_.append(
        prose("So {dm} and {h}, and each head has width", dm=same(d_model, width), h=same(h, heads))
    )
    with sp.evaluate(False):
        ratio = sp.Mul(width, sp.Pow(heads, -1))
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


# --- inputs ---------------------------------------------------------------------------------------


def heads_option(value, option):
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


def check_tokens(labels, n_rows: int) -> list[str]:
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
    labels = check_tokens(options["tokens"], x.rows)
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
    return Givens("Multi-head attention", values, _intro(values), params)


# --- test-suite hooks -----------------------------------------------------------------------------


def random_matrix(rng, rows, cols):
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


def _sample(rng):
    heads = int(rng.choice([1, 2, 3]))
    d_head, n = int(rng.integers(1, 3)), int(rng.integers(2, 4))
    width = heads * d_head
    raw = {name: random_matrix(rng, width, width) for name, _ in WEIGHTS}
    return {
        **raw,
        "x": random_matrix(rng, n, width),
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
        Option("heads", "number of heads h; d_model must be divisible by h", heads_option, required=True),
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
        Stage("Q", "Queries for all heads at once", _projection("W_Q"), single.explain_projection("Q")),
        Stage("K", "Keys", _projection("W_K"), single.explain_projection("K")),
        Stage("V", "Values", _projection("W_V"), single.explain_projection("V")),
        Stage("split", "Split into heads: column slices", _split, steps.explain_split, answer=False),
        Stage(
            "scores", "Each head's scores", _scores, steps.explain_scores, mistakes=(_split_wrong("scores"),)
        ),
        Stage(
            "scaled",
            "Scale by the square root of the head width",
            _scaled,
            steps.explain_scaled,
            mistakes=(_scale_by_dmodel("scaled"), _split_wrong("scaled")),
        ),
        Stage(
            "weights",
            "Each head's attention weights",
            _weights,
            steps.explain_weights,
            mistakes=(_scale_by_dmodel("weights"), _split_wrong("weights")),
        ),
        Stage("heads", "Each head's output", _heads, steps.explain_heads, mistakes=(_split_wrong("heads"),)),
        Stage(
            "concat",
            "Concatenate the heads",
            _concat,
            steps.explain_concat,
            mistakes=(_split_wrong("concat"),),
        ),
        Stage(
            "output",
            "The output projection",
            _output,
            steps.explain_output,
            mistakes=(
                Mistake(
                    "no-output-projection",
                    "Multiply the concatenated heads by the output projection W_O.",
                    _no_projection,
                ),
                _split_wrong("output"),
                _scale_by_dmodel("output"),
            ),
        ),
        Stage(
            "parameters",
            "Parameters of the layer",
            _parameters,
            steps.explain_parameters,
            mistakes=(
                Mistake(
                    "full-size-heads",
                    "Each head uses a d_model × d_k slice of W_Q, W_K and W_V, not a d_model × d_model "
                    "matrix of its own: the total is 4·d_model² for any h.",
                    _full_size_heads,
                ),
            ),
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
