"""The four stages both trainers share (alphabet, scores, merges, vocabulary), built for a scheme.

A ``Scheme`` is what distinguishes WordPiece from BPE: the continuation prefix, how pairs rank,
and the wording. The number of merges varies, so the merges live in one stage (answer
``merges``: the new tokens in order), each shown as its own table; ``scores`` grades the
first table, pair by pair.
"""

from __future__ import annotations

from derive import inputs
from derive import vocab_training as vt
from derive.blocks import prose, user
from derive.model import Givens, Mistake, Option, Stage
from derive.vocab_training import explain
from derive.vocab_training.scheme import Scheme, exact, first_stats, train

COURSE = "hug 10, pug 5, pun 12, bun 4, hugs 5"  # the Hugging Face course's toy corpus
SENNRICH = "low 5, lower 2, newest 6, widest 3"  # Sennrich et al. (2016), without "</w>"


def parse_merges(value, option: str) -> int:
    return inputs.integer(value, option, 1, vt.MAX_MERGES)


def prepare(scheme: Scheme, options) -> Givens:
    words, counts = options["corpus"]
    n_merges = options["merges"]
    corpus = ", ".join(f"{w} {c}" for w, c in zip(words, counts))
    plural = "merge" if n_merges == 1 else "merges"
    intro = (
        prose(scheme.intro),
        prose(
            "The corpus has {n} distinct words with their counts, {corpus}, and we learn {m} " + plural + ".",
            n=len(words),
            corpus=user(corpus),
            m=n_merges,
        ),
    )
    params = {"corpus": [[w, c] for w, c in zip(words, counts)], "merges": n_merges}
    values = {"words": words, "counts": counts, "n_merges": n_merges}
    return Givens(f"{scheme.label} training: {n_merges} {plural}", values, intro, params)


def stage_alphabet(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return list(vt.alphabet(vt.initial_splits(v.words, scheme.prefix)))

    return Stage(
        "alphabet",
        "Split the words into characters",
        compute,
        explain.alphabet(scheme),
        mistakes=tuple(mistakes),
    )


def stage_scores(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return [exact(s.score) for s in first_stats(v, scheme)]

    title = "Score every pair" if scheme.wordpiece else "Count every pair"
    return Stage("scores", title, compute, explain.scores(scheme), mistakes=tuple(mistakes))


def stage_merges(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return train(v, scheme).merges

    return Stage("merges", "Merge, pair by pair", compute, explain.merges(scheme), mistakes=tuple(mistakes))


def stage_vocab(scheme: Scheme) -> Stage:
    def compute(v):
        vocab = list(v.alphabet)
        vocab += [t for i, t in enumerate(v.merges) if t not in vocab and t not in v.merges[:i]]
        return vocab

    return Stage("vocab", "The learned vocabulary", compute, explain.vocab(scheme))


def unit_counts(v) -> tuple[int, ...]:
    """What a student who counts each distinct word once (ignoring its count) works with."""
    return (1,) * len(v.words)


IGNORED_COUNTS_HINT = (
    "Weight every pair by its word's count: a pair inside a word with count 10 occurs 10 times."
)


def ignored_counts(stage: str, scheme: Scheme) -> Mistake:
    """The misconception of counting each distinct word once, at the ``scores`` or ``merges`` stage."""
    if stage == "scores":
        return Mistake(
            "ignored-counts",
            IGNORED_COUNTS_HINT,
            lambda v: [exact(s.score) for s in first_stats(v, scheme, counts=unit_counts(v))],
        )
    return Mistake(
        "ignored-counts", IGNORED_COUNTS_HINT, lambda v: train(v, scheme, counts=unit_counts(v)).merges
    )


def sample(rng):
    letters = "abghnsu"
    words = []
    while len(words) < int(rng.integers(2, 7)):
        word = "".join(rng.choice(list(letters), int(rng.integers(1, 6))))
        if word not in words:
            words.append(word)
    counts = rng.integers(1, 13, len(words))
    corpus = ", ".join(f"{w} {c}" for w, c in zip(words, counts))
    if all(len(w) == 1 for w in words):
        corpus += ", ab 1"
    return {"corpus": corpus, "merges": str(int(rng.integers(1, 7)))}


def options() -> tuple[Option, ...]:
    return (
        Option(
            "corpus",
            f"words with counts, 'hug 10, pug 5' (at most {vt.MAX_WORDS} words of letters)",
            vt.parse_corpus,
            required=True,
        ),
        Option("merges", f"how many merges to learn, 1 to {vt.MAX_MERGES}", parse_merges, default="3"),
    )
