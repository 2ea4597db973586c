"""Scaled dot-product attention, softmax(Q Kᵀ / √d_k) V, with tokens as rows."""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.attention import explain, stages

PROJECTIONS = (("x", "X"), ("wq", "W_Q"), ("wk", "W_K"), ("wv", "W_V"))
GIVEN_QKV = (("q", "Q"), ("k", "K"), ("v", "V"))


# --- inputs ---------------------------------------------------------------------------------------


def _matrices(options, pairs):
    return {name: options[name] for name, _ in pairs if options[name] is not None}


def _require_one_route(options):
    projection, given = _matrices(options, PROJECTIONS), _matrices(options, GIVEN_QKV)
    if projection and given:
        raise InputError(
            "--" + next(iter(given)), "give either --x with --wq, --wk, --wv, or --q, --k, --v, not both"
        )
    if not projection and not given:
        raise InputError(
            "--x",
            "is required with --wq, --wk and --wv (or give --q, --k and --v, "
            "or use --example; see 'derive topics')",
        )
    pairs, named = (PROJECTIONS, projection) if projection else (GIVEN_QKV, given)
    for name, _ in pairs:
        if name not in named:
            raise InputError("--" + name, f"is required with --{next(iter(named))}")
    return bool(projection)


def _check_projection(options):
    x, memory = options["x"], options["memory"]
    limits.check_shape("--x", x)
    source = x if memory is None else memory
    if memory is not None:
        limits.check_shape("--memory", memory)
        if memory.cols != x.cols:
            raise InputError(
                "--memory", f"has {memory.cols} columns but X has {x.cols}; both live in the same d_model"
            )
    for name, symbol in PROJECTIONS[1:]:
        w = options[name]
        limits.check_shape("--" + name, w, rows=limits.MAX_DIM, cols=limits.MAX_DIM)
        if w.rows != x.cols:
            raise InputError(
                "--" + name,
                f"{symbol} has {w.rows} rows but X has {x.cols} columns; X {symbol} needs them equal",
            )
    wq, wk, wv = (options[name] for name in ("wq", "wk", "wv"))
    if wk.cols != wq.cols:
        raise InputError(
            "--wk",
            f"W_K has {wk.cols} columns but W_Q has {wq.cols}; queries and keys need the same width d_k",
        )
    return x.rows, source.rows, wq.cols, wv


def _check_given(options):
    q, k, v = (options[name] for name, _ in GIVEN_QKV)
    for name, _ in GIVEN_QKV:
        limits.check_shape("--" + name, options[name])
    if options["memory"] is not None:
        raise InputError(
            "--memory", "goes with --x and the projections; with --q, give --k and --v of any length"
        )
    if k.cols != q.cols:
        raise InputError(
            "--k", f"K has {k.cols} columns but Q has {q.cols}; queries and keys need the same width d_k"
        )
    if v.rows != k.rows:
        raise InputError("--v", f"V has {v.rows} rows but K has {k.rows}; every key needs one value row")
    return q.rows, k.rows, q.cols, v


def _labels(given, n_rows, option, what, prefix):
    if given is None:
        return [f"{prefix}{i}" for i in range(1, n_rows + 1)]
    if len(given) > limits.MAX_TOKENS:
        raise InputError(
            option, f"{len(given)} tokens is too many for a worked solution (at most {limits.MAX_TOKENS})"
        )
    if len(given) != n_rows:
        raise InputError(option, f"{len(given)} tokens but {what} has {n_rows} rows; give one token per row")
    return given


def _check_tokens(options, n_rows, first):
    labels = _labels(options["tokens"], n_rows, "--tokens", first, "t")
    focus = options["focus"]
    if focus is None:
        return labels, n_rows - 1
    if focus not in labels:
        shown = ", ".join(repr(t) for t in labels[:8]) + (", ..." if len(labels) > 8 else "")
        raise InputError("--focus", f"{focus[:40]!r} is not one of the tokens ({shown})")
    return labels, labels.index(focus)


def _check_keys(options, n, n_keys, labels, projected):
    """The key rows' labels; self-attention when the keys are the query tokens themselves."""
    memory, given = options["memory"], options["memory_tokens"]
    self_attention = memory is None and given is None and n_keys == n
    if options["mask"] == "causal":
        if memory is not None:
            raise InputError(
                "--mask", "causal does not apply to a --memory: cross-attention sees every memory row"
            )
        if n_keys < n:
            raise InputError(
                "--mask",
                f"causal needs at least as many keys as queries ({n_keys} keys, {n} queries): "
                "the queries are the last of the key positions",
            )
    if self_attention:
        return labels, True
    what = "the memory" if memory is not None else ("X" if projected else "K")
    return _labels(given, n_keys, "--memory-tokens", what, "s"), False


def _params(options):
    params = {
        name: [[str(e) for e in row] for row in options[name].tolist()]
        for name, _ in PROJECTIONS + GIVEN_QKV + (("memory", "M"),)
        if options[name] is not None
    }
    chosen = {name: options[name] for name in ("mask", "scale", "tokens", "focus")}
    return {**params, **chosen}


def _prepare(options) -> Givens:
    projected = _require_one_route(options)
    n, n_keys, d_k, values_matrix = _check_projection(options) if projected else _check_given(options)
    labels, focus = _check_tokens(options, n, "X" if projected else "Q")
    key_labels, self_attention = _check_keys(options, n, n_keys, labels, projected)
    values = dict.fromkeys(("X", "W_Q", "W_K", "W_V", "Q_given", "K_given", "V_given"))
    for name, symbol in PROJECTIONS if projected else GIVEN_QKV:
        values[symbol if projected else symbol + "_given"] = options[name]
    values.update(
        d_k=sp.Integer(d_k),
        d_v=values_matrix.cols,
        causal=options["mask"] == "causal",
        unscaled=options["scale"] == "none",
        tokens=tuple(labels),
        key_tokens=tuple(key_labels),
        self_attention=self_attention,
        own_key_offset=n_keys - n if self_attention or options["mask"] == "causal" else None,
        memory=options["memory"],
        focus_index=focus,
        n=n,
        n_keys=n_keys,
    )
    params = _params(options)
    params["tokens"], params["focus"] = list(labels), labels[focus]
    if not self_attention:
        params["memory_tokens"] = list(key_labels)
    title = "Dot-product attention, unscaled" if values["unscaled"] else "Scaled dot-product attention"
    return Givens(title, values, explain.intro(values), params)


# --- test-suite hooks -----------------------------------------------------------------------------


def _random_matrix(rng, rows, cols):
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-3, 4, cols)) for _ in range(rows))


def _sample(rng):
    n, d_model, d_k, d_v = (int(rng.integers(2, 5)) for _ in range(4))
    n_keys = n + int(rng.integers(0, 3))  # sometimes more keys than queries
    cross = rng.random() < 0.25
    raw = {
        "mask": "none" if cross else str(rng.choice(["none", "causal"])),
        "scale": str(rng.choice(["sqrt-dk", "none"])),
    }
    if rng.random() < 0.5:
        raw.update(
            q=_random_matrix(rng, n, d_k),
            k=_random_matrix(rng, n_keys, d_k),
            v=_random_matrix(rng, n_keys, d_v),
        )
    else:
        raw.update(
            x=_random_matrix(rng, n, d_model),
            wq=_random_matrix(rng, d_model, d_k),
            wk=_random_matrix(rng, d_model, d_k),
            wv=_random_matrix(rng, d_model, d_v),
        )
        if cross:
            raw["memory"] = _random_matrix(rng, int(rng.integers(1, 5)), d_model)
    return raw


def _reference(options):
    import numpy as np

    from derive import forward

    def array(name):
        return np.array(options[name].evalf(30).tolist(), dtype=float)

    if options["x"] is not None:
        x = array("x")  # (T, d_model)
        source = x if options["memory"] is None else array("memory")  # (S, d_model)
        q, k, v = x @ array("wq"), source @ array("wk"), source @ array("wv")  # (T, d_k), (S, d_k), (S, d_v)
    else:
        q, k, v = array("q"), array("k"), array("v")
    mask = forward.causal_mask(q.shape[0], k.shape[0]) if options["mask"] == "causal" else None
    factor = 1.0 if options["scale"] == "none" else None
    output, weights = forward.scaled_dot_product_attention(q, k, v, mask, scale=factor)
    scores = q @ k.T  # (T, S)
    return {
        "Q": q,
        "K": k,
        "V": v,
        "scores": scores,
        "scaled": scores if factor else scores / np.sqrt(q.shape[1]),
        "weights": weights,
        "output": output,
    }


RIVER = {
    "tokens": "the river bank",
    "x": "1 0 0 0; 0 2 0 1; 0 0 1 1",
    "wq": "0 0 0 2; 0 0 0 0; 0 0 0 0; 0 2 2 0",
    "wk": "1 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 0",
    "wv": "0 0 0 0; 0 1 0 0; 0 0 1 0; 0 0 0 1",
    "focus": "bank",
}


def _matrix(value, option):
    """A matrix whose entries may be letters: the derivation then stays symbolic."""
    return inputs.matrix(value, option, symbols=True)


TOPIC = Topic(
    name="attention",
    summary="Scaled dot-product attention softmax(Q K^T / sqrt(d_k)) V step by step, optionally causal",
    options=(
        Option("x", "token embeddings X, one row per token: '1 0; 0 1'", _matrix),
        Option("wq", "query projection W_Q (d_model × d_k)", _matrix),
        Option("wk", "key projection W_K (d_model × d_k)", _matrix),
        Option("wv", "value projection W_V (d_model × d_v)", _matrix),
        Option(
            "memory",
            "keys and values from these rows instead of X (cross-attention: K = M W_K, V = M W_V)",
            _matrix,
        ),
        Option("q", "queries Q, one row per token (instead of --x and the projections)", _matrix),
        Option("k", "keys K, one row per key token (as many as the queries, or more or fewer)", _matrix),
        Option("v", "values V, one row per key token", _matrix),
        Option(
            "mask",
            "none, or causal: each token attends only to itself and earlier tokens (with more keys than "
            "queries, the queries are the last positions)",
            inputs.choice("none", "causal"),
            default="none",
        ),
        Option(
            "scale",
            "sqrt-dk: divide the scores by √d_k (the paper); none: softmax of the raw scores "
            "(Luong et al.'s dot-product attention, simplified self-attention in some textbooks)",
            inputs.choice("sqrt-dk", "none"),
            default="sqrt-dk",
        ),
        Option("tokens", "token labels, one per row: 'the river bank' (default t1 t2 ...)", inputs.tokens),
        Option(
            "memory_tokens",
            "labels of the key rows when they are not the query tokens (--memory, or --k of its own "
            "length); default s1 s2 ...",
            inputs.tokens,
        ),
        Option("focus", "the token whose row is narrated in full (default: the last)", inputs.label),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "Q",
            "Queries",
            stages.queries,
            explain.explain_projection("Q"),
            mistakes=stages.projection_mistakes("Q"),
        ),
        Stage(
            "K",
            "Keys",
            stages.keys,
            explain.explain_projection("K"),
            mistakes=stages.projection_mistakes("K"),
        ),
        Stage(
            "V",
            "Values",
            stages.values,
            explain.explain_projection("V"),
            mistakes=stages.projection_mistakes("V"),
        ),
        Stage(
            "scores",
            "Raw scores: every query against every key",
            stages.scores,
            explain.explain_scores,
            mistakes=stages.SCORES_MISTAKES,
        ),
        Stage(
            "scaled",
            explain.scaled_title,
            stages.scaled,
            explain.explain_scaled,
            mistakes=stages.SCALED_MISTAKES,
        ),
        Stage(
            "weights",
            "Softmax along each row: the attention weights",
            stages.weights,
            explain.explain_weights,
            mistakes=stages.WEIGHTS_MISTAKES,
            distribution=True,
        ),
        Stage("output", "Weighted sum of the value rows", stages.output, explain.explain_output),
        Stage(
            "focus",
            "Read one row: what the focus token attends to",
            stages.focus_row,
            explain.explain_focus,
            answer=False,
        ),
    ),
    result="output",
    examples={
        "river": RIVER,
        "causal": {**RIVER, "mask": "causal"},
        "unscaled": {**RIVER, "scale": "none"},
        "cross": {
            "tokens": "le chat",
            "x": "1 0 1; 0 1 1",
            "memory": "1 0 0; 0 1 0; 1 1 0",
            "memory_tokens": "the black cat",
            "wq": "1 0; 0 1; 1 1",
            "wk": "2 0; 0 2; 0 0",
            "wv": "1 0; 0 1; 0 0",
            "focus": "chat",
        },
        "cached": {
            "tokens": "cat sat",
            "q": "0 2 0 0; 0 0 2 2",
            "k": "2 0 0 0; 0 2 0 0; 0 1 2 0",
            "v": "1 0; 0 1; 1 1",
            "memory_tokens": "the cat sat",
            "mask": "causal",
        },
        "qkv": {
            "tokens": "I saw it",
            "q": "1 0; 0 2; 1 1",
            "k": "1 1; 0 1; 2 0",
            "v": "1 0; 0 1; 1 1",
            "focus": "it",
        },
    },
    example_notes={
        "river": "'the river bank': bank attends most to river (d_k = 4, so sqrt(d_k) = 2)",
        "causal": "the river example under a causal mask: no token sees later ones",
        "unscaled": "the river example with --scale none: softmax of the raw scores, no division by sqrt(d_k)",
        "cross": "cross-attention: queries from 'le chat', keys and values from the memory 'the black cat'",
        "cached": "two queries over three keys under the causal mask: the queries are the last two positions",
        "qkv": "start from given queries, keys and values (d_k = 2, so sqrt(d_k) = sqrt(2))",
    },
    sample=_sample,
    reference=_reference,
)
