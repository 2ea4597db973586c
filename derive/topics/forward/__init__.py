"""A full forward pass, layer by layer: a seeded toy encoder, or a real BERT checkpoint (--model).

Besides per-layer summaries and attention heatmaps, ``--explain-token`` works one attention step
by hand with the model's own numbers (query, scores, scaled scores, weights), and ``derive check``
grades those. Without ``--explain-token`` those four answers are empty (no numbers to check).

Toy models give their answers as SymPy Float matrices (hand-sized); a real checkpoint gives NumPy
arrays. The stages (stages.py) and most explanations (explain.py) need NumPy, so they are imported
on first use; what needs no NumPy (the inputs, the introduction, the tokens) is here.
"""

from __future__ import annotations

from functools import partial
from importlib import import_module

import sympy as sp

from derive import inputs
from derive.blocks import prose, same, table, user
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

MAX_TOKENS = 128
MAX_TEXT = 2000
TOY = {"layers": (2, 1, 12), "d_model": (16, 1, 256), "heads": (4, 1, 64), "d_ff": (64, 1, 1024)}
TOY_SEED = (0, 0, 2**32 - 1)
TOY_POSITIONS = 128
MAX_ROWS = 16  # tokens listed one per row; more go four to a row
C_, d_k = sp.Symbol("d_model"), sp.Symbol("d_k")


def _lazy(module: str, name: str):
    """A function of this package's ``stages`` or ``explain``, imported on first use (they need NumPy)."""

    def call(v):
        return getattr(import_module(f"{__name__}.{module}"), name)(v)

    call.__name__ = name
    return call


def _text(value, option: str) -> str:
    text = str(value)
    if not text.strip():
        raise InputError(option, "expected some text")
    if len(text) > MAX_TEXT:
        raise InputError(option, f"expected at most {MAX_TEXT} characters")
    return text


def _folder(value, option: str) -> str:
    text = str(value)
    if not text.strip() or len(text) > 1000 or "\x00" in text:
        raise InputError(option, "expected the path of a model folder")
    return text


def _whole(low: int, high: int):
    return partial(_whole_number, low=low, high=high)


def _whole_number(value, option: str, low: int, high: int) -> int:
    return inputs.integer(value, option, low, high)


# --- inputs ---------------------------------------------------------------------------------------


def _toy(options):
    import numpy as np

    from derive import forward
    from derive import wordpiece as wp

    sizes = {
        name: options[name] if options[name] is not None else default for name, (default, _, _) in TOY.items()
    }
    if sizes["d_model"] % sizes["heads"]:
        raise InputError("--heads", f"{sizes['heads']} heads do not divide d_model = {sizes['d_model']}")
    seed = options["seed"] if options["seed"] is not None else TOY_SEED[0]
    vocab = wp.tiny_vocab()
    cfg = forward.Config(
        d_model=sizes["d_model"],
        n_heads=sizes["heads"],
        d_ff=sizes["d_ff"],
        n_layers=sizes["layers"],
        activation="gelu",
        eps=1e-12,
        vocab_size=len(vocab),
        max_positions=TOY_POSITIONS,
        type_vocab_size=2,
        embed_norm=True,
        causal=False,
    )
    state = forward.init_state_dict(cfg, seed, np.float64)
    model = forward.Transformer.from_state_dict(cfg, state)
    about = {
        "kind": "toy",
        "seed": seed,
        "vocab_size": len(vocab),
        "n_params": sum(a.size for a in state.values()),
    }
    return cfg, model, vocab, True, about


def _checkpoint(options):
    from derive import checkpoint

    for name in (*TOY, "seed"):
        if options[name] is not None:
            flag = "--" + name.replace("_", "-")
            raise InputError(
                flag, "belongs to the toy model; with --model the model comes from its config.json"
            )
    loaded = checkpoint.load(options["model"])
    about = {
        "kind": "checkpoint",
        "folder": str(loaded.folder),
        "vocab_size": loaded.config.vocab_size,
        "n_params": loaded.n_params,
        "dtype": str(loaded.dtype),
        "lowercase": loaded.lowercase,
    }
    return loaded.config, loaded.model, loaded.vocab, loaded.lowercase, about


def _tokens(text: str, vocab, lowercase: bool, cfg):
    from derive import wordpiece as wp

    tokens, ids = wp.encode(text, vocab, lowercase)
    limit = min(MAX_TOKENS, cfg.max_positions)
    if len(tokens) > limit:
        raise InputError("--text", f"gives {len(tokens)} tokens; at most {limit} are allowed")
    return tuple(tokens), tuple(ids)


def _focus(token, tokens) -> int | None:
    if token is None:
        return None
    if token in tokens:
        return tokens.index(token)
    shown = ", ".join(repr(t) for t in tokens[:12]) + (", ..." if len(tokens) > 12 else "")
    raise InputError("--explain-token", f"{token[:40]!r} is not one of the text's tokens ({shown})")


def _in_range(option: str, value, count: int, what: str) -> int | None:
    if value is not None and value >= count:
        raise InputError(option, f"the model has {count} {what}, numbered 0 to {count - 1}")
    return value


def _prepare(options) -> Givens:
    real = options["model"] is not None
    cfg, model, vocab, lowercase, about = _checkpoint(options) if real else _toy(options)
    layer = _in_range("--layer", options["layer"], cfg.n_layers, "layers") or 0
    head = _in_range("--head", options["head"], cfg.n_heads, "heads per layer")
    tokens, ids = _tokens(options["text"], vocab, lowercase, cfg)
    focus = _focus(options["explain_token"], tokens)
    values = {
        "model": model,
        "cfg": cfg,
        "about": about,
        "text": options["text"],
        "tokens": tokens,
        "ids": ids,
        "layer": layer,
        "head": head,
        "explained_head": head or 0,
        "focus": focus,
        "exact": not real,
    }
    params = {
        "text": options["text"],
        "model": about.get("folder"),
        "layers": cfg.n_layers,
        "d_model": cfg.d_model,
        "heads": cfg.n_heads,
        "d_ff": cfg.d_ff,
        "seed": about.get("seed"),
        "explain_token": options["explain_token"],
        "layer": layer,
        "head": head,
        "tokens": list(tokens),
    }
    title = (
        "Forward pass through a BERT checkpoint" if real else "Forward pass through a toy BERT-style encoder"
    )
    return Givens(title, values, _intro(values), params)


# --- what needs no NumPy: the introduction, the tokens, and the steps without --explain-token ----


def _intro(v) -> tuple:
    cfg, about = v["cfg"], v["about"]
    blocks = [
        prose(
            "A forward pass runs text through the whole encoder. The text becomes tokens, each token a "
            "vector (its embeddings), and each of the {L} layers lets every token gather information "
            "from the others (multi-head self-attention) and then transforms each token on its own (a "
            "feed-forward network). Each of the two sits inside a residual connection followed by "
            "LayerNorm (post-LN, as in BERT). Out comes one vector per token: the last hidden state.",
            L=cfg.n_layers,
        )
    ]
    if about["kind"] == "toy":
        blocks.append(
            prose(
                "This is a toy model with BERT's shape and random weights drawn with seed {seed}: each "
                "weight matrix is normal with variance 1/fan-in, so the vectors stay near unit size. Its "
                "vocabulary is derive's tiny one.",
                seed=about["seed"],
            )
        )
    else:
        blocks.append(
            prose(
                "The model is the pretrained checkpoint in {folder}: config.json gives its shape, "
                "model.safetensors its weights (" + about["dtype"] + ", memory-mapped) and vocab.txt its "
                "tokens. The text is " + ("lowercased" if about["lowercase"] else "kept in its case") + ", "
                "as its tokenizer settings say.",
                folder=user(about["folder"]),
            )
        )
    rows = [
        (sp.Symbol("L"), "layers", cfg.n_layers),
        (C_, "width of every token vector", cfg.d_model),
        (sp.Symbol("h"), "attention heads per layer", cfg.n_heads),
        (same(d_k, C_ / sp.Symbol("h")), "width of one head", cfg.d_k),
        (sp.Symbol("d_ff"), "width of the feed-forward layer", cfg.d_ff),
        (sp.Symbol("V"), "tokens in the vocabulary", about["vocab_size"]),
        ("", "parameters (weights and biases)", f"{about['n_params']:,}"),
    ]
    blocks += [table(("symbol", "meaning", "value"), rows), prose("The text: {text}", text=user(v["text"]))]
    return tuple(blocks)


def _token_table(tokens, ids):
    per_row = 1 if len(tokens) <= MAX_ROWS else 4
    header = ("position", "token", "id") * per_row
    rows = []
    for start in range(0, len(tokens), per_row):
        cells = []
        for i in range(start, start + per_row):
            cells += [i, user(tokens[i]), ids[i]] if i < len(tokens) else ["", "", ""]
        rows.append(cells)
    return table(header, rows)


def _explain_input_ids(v):
    return (
        prose(
            "WordPiece, BERT's tokenizer, splits the text at spaces and punctuation and cuts each word "
            "into the longest pieces found in the vocabulary (a piece written ##… continues a word; a "
            "word it cannot cut becomes [UNK]). [CLS] opens the sequence and [SEP] closes it. A token's "
            "id is its line number in the vocabulary, counting from 0; positions count from 0 too."
        ),
        _token_table(v.tokens, v.input_ids),
        prose("So {T} tokens go in.", T=same(sp.Symbol("T"), len(v.tokens))),
    )


def input_ids(v):
    return list(v.ids)


def _explained(name: str, first: bool = False):
    """A stage's explanation, or a note that no token was chosen."""

    def explain(v):
        if v.focus is not None:
            return _lazy("explain", name)(v)
        if not first:
            return (prose("Skipped: no --explain-token was given."),)
        return (
            prose(
                "No token was chosen. Give --explain-token with one of the text's tokens (and --layer and "
                "--head to pick the attention head) to see its query, scores and weights worked out from the "
                "model's own numbers; derive check then grades yours."
            ),
        )

    return explain


# --- misconceptions -------------------------------------------------------------------------------

NO_SCALING = "Divide the scores by the square root of d_k before the softmax."
BY_DK = "Divide by the square root of d_k, not by d_k itself."


TOPIC = Topic(
    name="forward",
    summary="A full forward pass (toy model or a real BERT checkpoint): layers, heads, one token worked by hand",
    options=(
        Option("text", "the text to run through the model", _text, required=True),
        Option(
            "model",
            "a Hugging Face BERT folder (config.json, model.safetensors, vocab.txt); "
            "without it, a seeded toy model",
            _folder,
            path="folder",
        ),
        Option("layers", "toy model: number of layers (default 2, at most 12)", _whole(*TOY["layers"][1:])),
        Option("d_model", "toy model: width of the token vectors (default 16)", _whole(*TOY["d_model"][1:])),
        Option(
            "heads", "toy model: attention heads, dividing d_model (default 4)", _whole(*TOY["heads"][1:])
        ),
        Option("d_ff", "toy model: width of the feed-forward layer (default 64)", _whole(*TOY["d_ff"][1:])),
        Option("seed", "toy model: seed of the random weights (default 0)", _whole(*TOY_SEED[1:])),
        Option("explain_token", "work one attention step by hand for this token: 'bank'", inputs.label),
        Option("layer", "the layer whose attention is drawn and explained (default 0)", _whole(0, 10_000)),
        Option("head", "the head to explain (default 0); only this head is drawn", _whole(0, 10_000)),
    ),
    prepare=_prepare,
    stages=(
        Stage("input_ids", "Tokenize", input_ids, _explain_input_ids),
        Stage(
            "layers",
            "Embeddings, then layer by layer",
            _lazy("stages", "run_layers"),
            _lazy("explain", "explain_layers"),
            answer=False,
        ),
        Stage(
            "attention",
            "Attention patterns",
            _lazy("stages", "attention"),
            _lazy("explain", "explain_attention"),
            answer=False,
        ),
        Stage(
            "query",
            "One token by hand: its query",
            _lazy("stages", "query"),
            _explained("explain_query", first=True),
        ),
        Stage(
            "scores", "Its scores against every key", _lazy("stages", "scores"), _explained("explain_scores")
        ),
        Stage(
            "scaled",
            "Scale by the square root of d_k",
            _lazy("stages", "scaled"),
            _explained("explain_scaled"),
            mistakes=(
                Mistake("no-scaling", NO_SCALING, _lazy("stages", "unscaled")),
                Mistake("scaled-by-dk", BY_DK, _lazy("stages", "scaled_by_dk")),
            ),
        ),
        Stage(
            "weights",
            "Softmax: the attention weights",
            _lazy("stages", "weights"),
            _explained("explain_weights"),
            mistakes=(
                Mistake("no-scaling", NO_SCALING, _lazy("stages", "weights_unscaled")),
                Mistake("scaled-by-dk", BY_DK, _lazy("stages", "weights_by_dk")),
            ),
            distribution=True,
        ),
        Stage(
            "last_hidden_state",
            "The last hidden state",
            _lazy("stages", "last_hidden_state"),
            _lazy("explain", "explain_hidden"),
        ),
    ),
    result="last_hidden_state",
    examples={
        "toy": {"text": "the king bought milk", "explain_token": "milk", "layer": "1", "head": "2"},
    },
    example_notes={
        "toy": "a seeded 2-layer toy encoder on 'the king bought milk'; 'milk' worked by hand in layer 1, head 2",
    },
)
