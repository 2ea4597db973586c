"""BERT's masked-LM objective: seeded 15% / 80-10-10 corruption, the MLM head, the loss on masked tokens."""

from __future__ import annotations

import sympy as sp

from derive import inputs, limits, vocabulary
from derive import wordpiece as wp
from derive.blocks import prose, user
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.masked_lm import explain, stages

BUILTIN_SEED, BUILTIN_DIM = 2024, 3

# Inputs.


def _vocab(value, option: str) -> vocabulary.Vocabulary:
    return vocabulary.parse_vocab(value, option, required=(*wp.REQUIRED_TOKENS, wp.MASK))


def _max_predictions(value, option):
    return inputs.integer(value, option, 1, 10**6)


def _seed(value, option):
    return inputs.integer(value, option, 0, 2**32 - 1)


def _builtin(tokens, words):
    """Small integer weights, fixed (not --seed): h_i is the embedding of token i plus a little noise."""
    import itertools

    import numpy as np

    rng = np.random.default_rng(BUILTIN_SEED)
    rows = [r for r in itertools.product((-1, 0, 1), repeat=BUILTIN_DIM) if any(r)]
    E = np.array(rows)[rng.permutation(len(rows))[: len(words)]]
    H = []
    for token in tokens:
        base = E[words.index(token)] if token in words else np.zeros(BUILTIN_DIM, dtype=int)
        H.append(base + rng.integers(-1, 2, BUILTIN_DIM) * (rng.random(BUILTIN_DIM) < 0.5))
    return sp.Matrix(np.array(H).tolist()), sp.Matrix(E.tolist())


def _weights(options, tokens, words):
    given = [options[name] is not None for name in ("hidden", "embedding")]
    if given == [True, True]:
        hidden, embedding = options["hidden"], options["embedding"]
        limits.check_shape("--hidden", hidden)
        limits.check_shape("--embedding", embedding)
        if hidden.rows != len(tokens):
            raise InputError("--hidden", f"expected {len(tokens)} rows, one per token, got {hidden.rows}")
        if embedding.rows != len(words):
            raise InputError(
                "--embedding",
                f"expected {len(words)} rows, one per distinct token ({' '.join(words)[:60]}), got {embedding.rows}",
            )
        if embedding.cols != hidden.cols:
            raise InputError(
                "--embedding", f"expected {hidden.cols} columns like --hidden, got {embedding.cols}"
            )
        return hidden, embedding
    if any(given):
        missing, other = ("--hidden", "--embedding") if given[1] else ("--embedding", "--hidden")
        raise InputError(missing, f"is required with {other}")
    return _builtin(tokens, words)


def _prepare(options) -> Givens:
    vocab = options["vocab"] or vocabulary.builtin()
    vocab_name, ids = vocab.name, vocab.ids
    tokens = wp.tokenize(options["text"], ids)
    if len(tokens) > limits.MAX_TOKENS:
        raise InputError(
            "--text", f"gives {len(tokens)} tokens; at most {limits.MAX_TOKENS} fit a worked solution"
        )
    if len(tokens) == 2:
        raise InputError("--text", "gives no tokens to mask")
    if any(t in wp.SPECIAL_TOKENS and t != wp.UNK for t in tokens[1:-1]):
        raise InputError("--text", "should be plain text without special tokens such as [MASK]")
    words = list(dict.fromkeys(tokens[1:-1]))
    hidden, embedding = _weights(options, tokens, words)
    bias = options["bias"] if options["bias"] is not None else sp.zeros(1, len(words))
    if bias.cols != len(words):
        raise InputError("--bias", f"expected {len(words)} numbers, one per word of the head's vocabulary")
    candidates = list(range(1, len(tokens) - 1))
    u, decisions = stages.draws(options["seed"], len(candidates), ids)
    rule, max_predictions = options["rule"], options["max_predictions"]
    if rule == stages.BERNOULLI and not stages.below_rate(u, candidates):
        raise InputError(
            "--seed",
            f"with --rule bernoulli, seed {options['seed']} chooses none of the {len(candidates)} candidates "
            "(each is chosen with probability 0.15); try another seed",
        )
    count = stages.chosen_count(len(tokens), max_predictions)
    values = dict(tokens=tokens, candidates=candidates, count=count, u=u, rule=rule)
    values.update(max_predictions=max_predictions)
    values.update(
        decisions=decisions, words=words, labels=[words.index(t) if t in words else None for t in tokens]
    )
    values.update(H=hidden, E=embedding, b=bias, seed=options["seed"], vocab_size=len(ids))
    values["builtin"] = options["hidden"] is None
    intro = (
        prose(
            "BERT learns by filling in blanks: a few tokens of each sentence are hidden or corrupted, the "
            "encoder reads the corrupted sentence, and a small head predicts the original token at each "
            "chosen position. The loss counts only those positions."
        ),
        prose("The text: {t}", t=user(options["text"])),
        prose(
            "The vocabulary is {name} ({n} entries). The text's {t} WordPiece tokens, with [CLS] first and "
            "[SEP] last (see derive tokenize for the splitting), numbered from 0: {tokens}",
            name=user(vocab_name),
            n=len(ids),
            t=len(tokens),
            tokens=user(" ".join(tokens)),
        ),
    )
    params = {
        "text": options["text"],
        "seed": options["seed"],
        "rule": rule,
        "max_predictions": max_predictions,
        "vocab": vocab_name,
        "builtin": values["builtin"],
    }
    params.update(hidden=_strings(hidden), embedding=_strings(embedding), bias=[str(x) for x in bias])
    return Givens("Masked language modelling (BERT)", values, intro, params)


def _strings(matrix):
    return [[str(x) for x in row] for row in matrix.tolist()]


# The test suite's random inputs and NumPy reference.

SAMPLE_WORDS = "the man woman king queen went to store and bought a gallon of milk house car new old".split()


def _matrix_text(rng, rows, cols, low=-2, high=3):
    return "; ".join(" ".join(str(int(x)) for x in rng.integers(low, high, cols)) for _ in range(rows))


def _sample(rng):
    words = [str(rng.choice(SAMPLE_WORDS)) for _ in range(int(rng.integers(1, 12)))]
    options = {"text": " ".join(words), "seed": str(int(rng.integers(0, 10_000)))}
    if rng.random() < 0.5:
        tokens = wp.tokenize(options["text"], wp.tiny_vocab())
        distinct, d = len(dict.fromkeys(tokens[1:-1])), int(rng.integers(1, 4))
        options["hidden"], options["embedding"] = (
            _matrix_text(rng, len(tokens), d),
            _matrix_text(rng, distinct, d),
        )
        options["bias"] = _matrix_text(rng, 1, distinct, -1, 2)
    return options


def _reference(options):
    import numpy as np

    from derive import forward

    givens = TOPIC.prepare(options)
    tokens, words = givens.values["tokens"], givens.values["words"]
    inner = np.arange(1, len(tokens) - 1)
    u = np.random.default_rng(options["seed"]).random(len(inner))
    if options["rule"] == "bernoulli":  # DataCollatorForLanguageModeling: each independently, p = 0.15
        chosen = inner[u < 0.15]
    else:  # create_pretraining_data.py: num_to_predict, counting [CLS] and [SEP]
        count = min(options["max_predictions"], max(1, int(round(len(tokens) * 0.15))))
        chosen = np.sort(inner[np.argsort(u, kind="stable")[:count]])
    H, E, bias = (np.array(givens.values[k].tolist(), dtype=float) for k in ("H", "E", "b"))
    logits = H[chosen] @ E.T + bias
    probs = forward.softmax(logits)
    loss = -np.mean(np.log(probs[np.arange(len(chosen)), [words.index(tokens[i]) for i in chosen]]))
    return {"chosen": chosen, "logits": logits, "probabilities": probs, "loss": loss}


TOPIC = Topic(
    name="masked-lm",
    summary="BERT's masked-LM objective: seeded 15% and 80/10/10 corruption, the MLM head, loss on masked tokens",
    options=(
        Option("text", "the sentence (at most 14 WordPiece tokens)", inputs.text, required=True),
        Option(
            "seed", "numpy.random.default_rng seed: which positions, and how corrupted", _seed, default="0"
        ),
        Option(
            "rule",
            "how positions are chosen: bert (BERT's create_pretraining_data.py: round(15% of all the tokens)) "
            "or bernoulli (Hugging Face's DataCollatorForLanguageModeling: each candidate with p = 0.15)",
            inputs.choice(stages.BERT, stages.BERNOULLI),
            default=stages.BERT,
        ),
        Option(
            "max_predictions",
            "the cap on chosen positions, BERT's max_predictions_per_seq (--rule bert)",
            _max_predictions,
            default=str(stages.MAX_PREDICTIONS),
        ),
        Option(
            "vocab",
            "a BERT vocab.txt for tokenizing [default: a small built-in vocabulary]",
            _vocab,
            path="file",
        ),
        Option("hidden", "final hidden states, a row per token [default: built in]", inputs.matrix),
        Option("embedding", "the head's V × d embedding, a row per distinct token", inputs.matrix),
        Option("bias", "the head's output bias, one per distinct token [default: 0]", inputs.vector),
    ),
    prepare=_prepare,
    stages=(
        Stage(
            "chosen",
            "Choose 15% of the positions",
            stages.chosen,
            explain.chosen,
            (stages.CANDIDATES_ONLY, stages.FIXED_COUNT),
        ),
        Stage(
            "corrupted",
            "Corrupt them: 80% [MASK], 10% random, 10% kept",
            stages.corrupted,
            explain.corrupted,
            (stages.ALL_MASKED,),
        ),
        Stage("logits", "The MLM head at the chosen positions", stages.logits, explain.logits),
        Stage(
            "probabilities",
            "Softmax over the vocabulary",
            stages.probabilities,
            explain.probabilities,
            distribution=True,
        ),
        Stage(
            "loss",
            "Cross-entropy over the masked positions",
            stages.loss,
            explain.loss,
            (stages.ALL_POSITIONS, stages.SUM_NOT_MEAN),
        ),
    ),
    result="loss",
    examples={
        "basic": {"text": "the man went to the store and bought a gallon of milk"},
        "custom": {
            "text": "the king and the queen",
            "seed": "1",
            "hidden": "0 0; 1 0; 2 1; 0 -1; 1 1; 1 2; 0 0",
            "embedding": "1 0; 1 1; 0 -1; 0 2",
            "bias": "0 0 0 1/2",
        },
    },
    example_notes={
        "basic": "built-in weights; two of twelve positions chosen, one becomes a random token",
        "custom": "hidden states, embedding and bias given by hand",
    },
    sample=_sample,
    reference=_reference,
)
