"""BERT's masked-LM objective: seeded 15% / 80-10-10 corruption, the MLM head, the loss on masked tokens.

The random draws are made once in ``prepare`` (numpy.random.default_rng(seed)); the stages apply
them to ``v.chosen`` and so on, so a student's own chosen positions carry through to the rest.
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp

from derive import inputs, limits
from derive import wordpiece as wp
from derive.blocks import eq, heatmap, prose, same, table, user
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.numbers import Decimal, approx
from derive.topics.softmax import softmax_rows

RATE, MASK_SHARE, RANDOM_SHARE = sp.Rational(15, 100), sp.Rational(8, 10), sp.Rational(1, 10)
BUILTIN_SEED, BUILTIN_DIM = 2024, 3
MAX_VOCAB_BYTES = 20_000_000
SHOWN, MAX_EXACT_CHARS = 4, 80
H, EMB = sp.Symbol("H_M", commutative=False), sp.Symbol("E", commutative=False)
Z, P, L, b = sp.symbols("Z P L b")
k, m = sp.symbols("k m", integer=True, positive=True)
p_k_y = sp.Function("p_k")(sp.Symbol("y_k"))
OUTCOMES = {
    "mask": "r < 0.8: [MASK]",
    "random": "0.8 ≤ r < 0.9: a random token",
    "keep": "r ≥ 0.9: unchanged",
}


# The draws.


def chosen_count(candidates: int) -> int:
    """15% of the candidates, rounded half up, and at least one."""
    return max(1, int(sp.floor(RATE * candidates + sp.Rational(1, 2))))


def _exact(x) -> sp.Rational:
    """A float as the shortest decimal that prints it, kept exact so comparisons match what is shown."""
    return sp.Rational(repr(float(x)))


def draws(seed: int, candidates: int, ids: dict) -> tuple[list, list]:
    """u for every candidate, then per chosen position r (and a vocabulary index when r says random)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    by_id = sorted(ids, key=ids.get)
    u = [_exact(x) for x in rng.random(candidates)]
    decisions = []
    for _ in range(candidates):
        r = _exact(rng.random())
        if r < MASK_SHARE:
            decisions.append((r, "mask", wp.MASK))
        elif r < MASK_SHARE + RANDOM_SHARE:
            decisions.append((r, "random", by_id[int(rng.integers(len(by_id)))]))
        else:
            decisions.append((r, "keep", None))
    return u, decisions


# Inputs.


def _vocab(value, option: str) -> tuple[str, dict]:
    path = Path(str(value))
    if not path.is_file():
        raise InputError(option, f"no such file: {str(value)[:80]!r}")
    try:
        if path.stat().st_size > MAX_VOCAB_BYTES:
            raise InputError(option, "is larger than 20 MB: not a BERT vocab.txt")
        ids = wp.load_vocab(path)
    except (UnicodeDecodeError, OSError):
        raise InputError(option, "cannot be read as UTF-8 text: expected a BERT vocab.txt") from None
    missing = [t for t in (*wp.REQUIRED_TOKENS, wp.MASK) if t not in ids]
    if missing:
        raise InputError(option, f"lacks {', '.join(missing)}: expected a BERT vocab.txt, one token per line")
    return str(value), ids


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
    vocab_name, ids = options["vocab"] or (f"{wp.TINY_VOCAB} (built in)", wp.tiny_vocab())
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
    u, decisions = draws(options["seed"], len(candidates), ids)
    values = dict(tokens=tokens, candidates=candidates, count=chosen_count(len(candidates)), u=u)
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
        "vocab": vocab_name,
        "builtin": values["builtin"],
    }
    params.update(hidden=_strings(hidden), embedding=_strings(embedding), bias=[str(x) for x in bias])
    return Givens("Masked language modelling (BERT)", values, intro, params)


def _strings(matrix):
    return [[str(x) for x in row] for row in matrix.tolist()]


# Stages.


def _chosen(v):
    ranked = sorted(zip(v.u, v.candidates))
    return sorted(int(position) for _, position in ranked[: v.count])


def _explain_chosen(v):
    rows = [
        (position, user(v.tokens[position]), Decimal(str(float(x))), "chosen" if position in v.chosen else "")
        for x, position in zip(v.u, v.candidates)
    ]
    share = sp.Mul(sp.Float("0.15", 2), len(v.candidates), evaluate=False)
    return (
        prose(
            "[CLS] and [SEP] are never chosen, which leaves {candidates}. BERT predicts 15% of "
            "them, rounded, and at least one: {share}, so {n} here. To pick them, draw one uniform number "
            "per candidate with numpy.random.default_rng({s}).random({c}) and choose the {n} smallest: every "
            "candidate has the same chance.",
            c=len(v.candidates),
            candidates=f"{len(v.candidates)} candidate position" + ("" if len(v.candidates) == 1 else "s"),
            share=same(share, Decimal(str(float(RATE * len(v.candidates))))),
            n=v.count,
            s=v.seed,
        ),
        table(("position", "token", "u", ""), rows),
        prose("Chosen positions: {m}", m=", ".join(str(x) for x in v.chosen)),
    )


def _apply(v, mask_all: bool = False):
    corrupted = list(v.tokens)
    for (_, outcome, token), position in zip(v.decisions, sorted(v.chosen)):
        if mask_all or outcome == "mask":
            corrupted[position] = wp.MASK
        elif outcome == "random":
            corrupted[position] = token
    return corrupted


def _corrupted(v):
    return _apply(v)


def _all_masked(v):
    return _apply(v, mask_all=True)


def _explain_corrupted(v):
    rows = [
        (pos, user(v.tokens[pos]), Decimal(str(float(r))), OUTCOMES[outcome], user(v.corrupted[pos]))
        for (r, outcome, _), pos in zip(v.decisions, v.chosen)
    ]
    return (
        prose(
            "Each chosen token becomes [MASK] 80% of the time, a random token 10% of the time and stays "
            "unchanged 10% of the time, so the model cannot tell which tokens it will be asked about. The "
            "same generator continues: one more draw r per chosen position, in order, and for a random token "
            "a draw of integers({n}) picks any entry of the vocabulary, special tokens included, as in BERT's "
            "code.",
            n=v.vocab_size,
        ),
        table(("position", "token", "r", "rule", "becomes"), rows),
        prose("The corrupted input: {t}", t=user(" ".join(v.corrupted))),
    )


def _head(v, positions):
    """Logits h_i Eᵀ + b for the hidden states at ``positions``."""
    hidden = sp.Matrix.vstack(*(v.H.row(position) for position in positions))
    return hidden * v.E.T + sp.Matrix.vstack(*([v.b] * hidden.rows))


def _logits(v):
    return _head(v, sorted(v.chosen))


def _explain_logits(v):
    source = (
        "Built-in weights stand in for the trained encoder (fixed, not drawn with --seed): each hidden "
        "state is its token's row of E plus a little noise, as if the encoder had recovered the word."
        if v.builtin
        else "The hidden states and E are the ones given (--hidden, --embedding)."
    )
    return (
        prose(
            "The encoder would now read the corrupted input; its output, one hidden state per position, is "
            "given here rather than computed. BERT's MLM head transforms each state (dense layer, GELU, "
            "LayerNorm) and multiplies by the tied token embedding E plus a bias b over all 30,522 words. "
            "Simplified by hand: the transform is left out and the vocabulary is cut down to the {V} "
            "distinct words of this text, so E is {V} × {d}. " + source,
            V=len(v.words),
            d=v.E.cols,
        ),
        table(("word", "row of E", "b"), [(user(w), v.E.row(n), v.b[n]) for n, w in enumerate(v.words)]),
        prose("Only the chosen rows of H are needed ({H}):", H=H),
        eq(H, sp.Matrix.vstack(*(v.H.row(position) for position in v.chosen))),
        eq(Z, sp.Add(H * EMB ** sp.Symbol("T"), b, evaluate=False), v.logits),
    )


def _probabilities(v):
    return softmax_rows(v.logits)


def _explain_probabilities(v):
    rows = [f"{position}: {v.tokens[position]}" for position in v.chosen]
    return (
        prose(
            "Softmax along each row turns the logits into a distribution over the {V} words:", V=len(v.words)
        ),
        eq(P, approx=v.probabilities),
        heatmap(
            "mlm-probabilities", "MLM head probabilities", v.probabilities, rows, v.words, "word", "position"
        ),
    )


def _minus_log(q):
    return -sp.expand_log(sp.log(q), force=True)


def _losses(probs, positions, labels):
    return [_minus_log(probs[row, labels[position]]) for row, position in enumerate(positions)]


def _loss(v):
    terms = _losses(v.probabilities, sorted(v.chosen), v.labels)
    return sp.Add(*terms) / len(terms)


def _sum_not_mean(v):
    return sp.Add(*_losses(v.probabilities, sorted(v.chosen), v.labels))


def _all_positions(v):
    terms = _losses(softmax_rows(_head(v, v.candidates)), v.candidates, v.labels)
    return sp.Add(*terms) / len(terms)


def _explain_loss(v):
    rows, lines, names = [], [], []
    for row, position in enumerate(v.chosen):
        q, name = v.probabilities[row, v.labels[position]], sp.Symbol(f"l_{position}")
        rows.append((position, user(v.tokens[position]), user(v.corrupted[position]), approx(q, SHOWN)))
        p_label = sp.Function(f"p_{position}")(sp.Symbol(f"y_{position}"))
        lines.append(eq(name, -sp.log(p_label), _minus_log(q), approx=_minus_log(q)))
        names.append(name)
    mean = [sp.Mul(sp.Rational(1, len(names)), sp.Add(*names, evaluate=False), evaluate=False)]
    exact = [v.loss] if len(str(v.loss)) <= MAX_EXACT_CHARS else []  # JSON always has it
    return (
        prose(
            "The label at each chosen position is its original token, whatever the input showed there "
            "([MASK], a random token or the token itself). Cross-entropy averages −log of the probability "
            "the head gives the label over the m chosen positions only (k runs over them); every other "
            "position is ignored (label −100, ignore_index in PyTorch)."
        ),
        eq(L, -sp.Sum(sp.log(p_k_y), (k, 1, m)) / m),
        table(("position", "label", "input", "p(label)"), rows),
        prose(
            "Exactly, −log p is the log of the softmax denominator minus the label's logit (both shifted by "
            "the row's largest logit):"
        ),
        *lines,
        eq(L, *(mean if len(names) > 1 else names), *exact, approx=v.loss),
    )


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
    count = max(1, int(np.floor(0.15 * len(inner) + 0.5 + 1e-9)))
    u = np.random.default_rng(options["seed"]).random(len(inner))
    chosen = np.sort(inner[np.argsort(u, kind="stable")[:count]])
    H, E, bias = (np.array(givens.values[k].tolist(), dtype=float) for k in ("H", "E", "b"))
    logits = H[chosen] @ E.T + bias
    probs = forward.softmax(logits)
    loss = -np.mean(np.log(probs[np.arange(len(chosen)), [words.index(tokens[i]) for i in chosen]]))
    return {"chosen": chosen, "logits": logits, "probabilities": probs, "loss": loss}


ALL_MASKED = Mistake(
    "all-masked",
    "Only 80% of the chosen tokens become [MASK]: draw r; 0.8 ≤ r < 0.9 gives a random token and r ≥ 0.9 "
    "keeps the token.",
    _all_masked,
)
ALL_POSITIONS = Mistake(
    "loss-over-all-positions",
    "Average −log p over the chosen positions only: the others carry no label.",
    _all_positions,
)
SUM_NOT_MEAN = Mistake(
    "sum-not-mean", "Divide the sum of −log p by the number of chosen positions.", _sum_not_mean
)
TOPIC = Topic(
    name="masked-lm",
    summary="BERT's masked-LM objective: seeded 15% and 80/10/10 corruption, the MLM head, loss on masked tokens",
    options=(
        Option("text", "the sentence (at most 14 WordPiece tokens)", inputs.text, required=True),
        Option(
            "seed", "numpy.random.default_rng seed: which positions, and how corrupted", _seed, default="0"
        ),
        Option("vocab", "a BERT vocab.txt for tokenizing [default: a small built-in vocabulary]", _vocab),
        Option("hidden", "final hidden states, a row per token [default: built in]", inputs.matrix),
        Option("embedding", "the head's V × d embedding, a row per distinct token", inputs.matrix),
        Option("bias", "the head's output bias, one per distinct token [default: 0]", inputs.vector),
    ),
    prepare=_prepare,
    stages=(
        Stage("chosen", "Choose 15% of the positions", _chosen, _explain_chosen),
        Stage(
            "corrupted",
            "Corrupt them: 80% [MASK], 10% random, 10% kept",
            _corrupted,
            _explain_corrupted,
            (ALL_MASKED,),
        ),
        Stage("logits", "The MLM head at the chosen positions", _logits, _explain_logits),
        Stage("probabilities", "Softmax over the vocabulary", _probabilities, _explain_probabilities),
        Stage(
            "loss",
            "Cross-entropy over the masked positions",
            _loss,
            _explain_loss,
            (ALL_POSITIONS, SUM_NOT_MEAN),
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
