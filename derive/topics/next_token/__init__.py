"""Next-token prediction: logits through the tied embedding, temperature, top-k / top-p, a token."""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.next_token import explain, stages
from derive.topics.next_token.stages import NO_RENORMALISE, NO_TEMPERATURE, SORTED_ORDER, TOP_P_EXCLUSIVE

# --- inputs ----------------------------------------------------------------------------------------


def _top_p_option(value, option: str):
    number = inputs.scalar(value, option)
    if not (number.is_positive and stages.sign(number - 1) <= 0):
        raise InputError(option, "expected a probability p with 0 < p ≤ 1")
    return number


def _top_k_option(value, option):
    return inputs.integer(value, option, 1, limits.MAX_TOKENS)


def _seed(value, option):
    return inputs.integer(value, option, 0, 2**32 - 1)


def _prepare(options) -> Givens:
    hidden, embedding = options["hidden"], options["embedding"]
    limits.check_shape("--hidden", hidden, 1)
    limits.check_shape("--embedding", embedding)
    size, d = embedding.shape
    if d != hidden.cols:
        raise InputError("--embedding", f"has {d} columns but --hidden has {hidden.cols}: E must be V × d")
    words = options["vocab"] or [str(n) for n in range(size)]
    if len(words) != size:
        raise InputError("--vocab", f"expected {size} words, one per row of --embedding, got {len(words)}")
    if len(set(words)) != len(words):
        raise InputError("--vocab", "expected distinct words")
    top_k, mode, seed = options["top_k"], options["sample"], options["seed"]
    if top_k is not None and top_k > size:
        raise InputError("--top-k", f"expected a whole number from 1 to {size}, the vocabulary size")
    mode = mode or ("seeded" if seed is not None else "greedy")
    if mode == "greedy" and seed is not None:
        raise InputError("--seed", "is only used with --sample seeded")
    seed, draw = (0 if seed is None else seed), None
    if mode == "seeded":
        import numpy as np

        draw = sp.Rational(repr(float(np.random.default_rng(seed).random())))
    values = dict(h=hidden, E=embedding, words=words, T=options["temperature"], k=top_k, p=options["top_p"])
    values.update(mode=mode, seed=seed, u=draw)
    intro = explain.intro(embedding, words)
    params = {
        "hidden": [str(e) for e in hidden],
        "embedding": [[str(e) for e in r] for r in embedding.tolist()],
    }
    params.update(vocab=words, temperature=str(values["T"]), top_k=top_k, sample=mode)
    params.update(
        top_p=None if values["p"] is None else str(values["p"]), seed=seed if draw is not None else None
    )
    return Givens("Next-token prediction", values, intro, params)


# --- the test suite's random inputs and NumPy reference --------------------------------------------


def _sample(rng):
    size, d = int(rng.integers(2, 7)), int(rng.integers(1, 4))
    options = {
        "hidden": " ".join(str(int(x)) for x in rng.integers(-2, 3, d)),
        "embedding": "; ".join(" ".join(str(int(x)) for x in rng.integers(-2, 3, d)) for _ in range(size)),
        "temperature": str(rng.choice(["1", "1/2", "0.7", "2"])),
    }
    if rng.random() < 0.5:
        options["top_k"] = str(int(rng.integers(1, size + 1)))
    if rng.random() < 0.5:
        options["top_p"] = str(rng.choice(["0.5", "0.8", "0.9", "1"]))
    if rng.random() < 0.5:
        options["sample"], options["seed"] = "seeded", str(int(rng.integers(0, 1000)))
    return options


def _reference(options):
    import numpy as np

    from derive import forward

    logits = (
        np.array([float(x) for x in options["hidden"]]) @ np.array(options["embedding"].tolist(), float).T
    )
    probs = forward.softmax(logits, temperature=float(options["temperature"]))
    filtered = probs.copy()
    if options["top_k"] is not None:
        filtered = np.where(filtered >= np.sort(filtered)[::-1][options["top_k"] - 1] - 1e-12, filtered, 0)
        filtered /= filtered.sum()
    if options["top_p"] is not None:
        order = np.argsort(-filtered, kind="stable")
        keep = np.zeros_like(filtered, dtype=bool)
        keep[order] = np.cumsum(filtered[order]) - filtered[order] < float(options["top_p"]) - 1e-12
        filtered = np.where(keep, filtered, 0) / filtered[keep].sum()
    return {"logits": logits, "probabilities": probs, "filtered": filtered}


BASE = {"hidden": "1 0 2", "embedding": "1 1 1; 2 0 1; 0 1 1; -1 2 0; 1 -1 -1", "vocab": "the cat sat on mat"}
TOPIC = Topic(
    name="next-token",
    summary="Next-token prediction: tied-embedding logits, temperature, top-k / top-p, greedy or seeded sampling",
    options=(
        Option(
            "hidden",
            "the last position's final hidden state h (d numbers)",
            inputs.vector,
            required=True,
            sets_answer_shape=True,
        ),
        Option("embedding", "the V × d token embedding E, tied to the output", inputs.matrix, required=True),
        Option("vocab", "the V words, one per row of E [default: 0 1 2 ...]", inputs.tokens),
        Option("temperature", "divide the logits by T > 0", inputs.positive, default="1"),
        Option("top_k", "keep only the k most probable words", _top_k_option),
        Option("top_p", "nucleus filtering: keep the smallest set reaching probability p", _top_p_option),
        Option("sample", "greedy or seeded [default: seeded with --seed]", inputs.choice("greedy", "seeded")),
        Option("seed", "numpy.random.default_rng seed for seeded sampling [default: 0]", _seed),
    ),
    prepare=_prepare,
    stages=(
        Stage("hidden", "The final hidden state", stages.hidden, explain.hidden, answer=False),
        Stage("logits", "Logits through the tied embedding", stages.logits, explain.logits),
        Stage(
            "probabilities",
            "Softmax with temperature",
            stages.probabilities,
            explain.probabilities,
            (NO_TEMPERATURE,),
            distribution=True,
        ),
        Stage(
            "filtered",
            "Top-k / top-p filtering",
            stages.filtered,
            explain.filtered,
            (NO_RENORMALISE, TOP_P_EXCLUSIVE),
            distribution=True,
        ),
        Stage("token", "Choose the next token", stages.token, explain.token, (SORTED_ORDER,)),
    ),
    result="token",
    examples={
        "greedy": BASE,
        "top-k": {**BASE, "temperature": "2", "top_k": "3", "seed": "0"},
        "top-p": {**BASE, "top_p": "0.9", "seed": "42"},
    },
    example_notes={
        "greedy": "logits h Eᵀ, softmax, and the argmax",
        "top-k": "temperature 2, top-k 3, a seeded draw",
        "top-p": "nucleus filtering with p = 0.9, a seeded draw",
    },
    sample=_sample,
    reference=_reference,
)
