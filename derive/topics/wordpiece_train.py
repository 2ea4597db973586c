"""WordPiece vocabulary training: merge the adjacent pair with the best score freq(ab)/(freq(a)·freq(b)).

The stage builders here are shared with ``bpe_train``, which differs only in its scheme: plain
characters instead of "##" continuations, and the raw pair frequency instead of the score.
The number of merges varies, so the merges live in one stage (answer ``merges``: the new tokens
in order), each shown as its own table; ``scores`` grades the first table, pair by pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive import inputs
from derive import vocab_training as vt
from derive.blocks import eq, prose, table, user
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.numbers import approx

a, b, ab = sp.symbols("a b ab")
FREQ, SCORE = sp.Function("freq"), sp.Function("score")
SCORE_FORMULA = FREQ(ab) / (FREQ(a) * FREQ(b))
COURSE = "hug 10, pug 5, pun 12, bun 4, hugs 5"
SENNRICH = "low 5, lower 2, newest 6, widest 3"
TIE_RULE = (
    "When several pairs share the {best}, the one listed first wins: pairs are listed in the order "
    "they first appear, reading the words in corpus order and each word from left to right (the rule of "
    "the Hugging Face course's code, which keeps the first maximum it meets)."
)


@dataclass(frozen=True)
class Scheme:
    """What distinguishes WordPiece from BPE: the continuation prefix, how pairs rank, the wording."""

    label: str
    prefix: str
    rule: str
    intro: str
    how_to_split: str
    alphabet_order: str
    afterwards: str

    @property
    def wordpiece(self) -> bool:
        return self.rule == vt.WORDPIECE


WORDPIECE = Scheme(
    "WordPiece",
    vt.CONTINUATION,
    vt.WORDPIECE,
    intro="WordPiece, the tokenizer of BERT, learns its vocabulary from a corpus of words with counts. It "
    "starts from single characters and repeatedly merges the pair of adjacent tokens with the best score, "
    "which divides how often the pair occurs by how often its parts occur. This follows the Hugging Face "
    "course's chapter on WordPiece.",
    how_to_split="Split every word into characters. The first character stays as it is; every later one "
    "gets the prefix “##”, which marks a piece that continues a word, so “##g” inside “hug” and “g” at the "
    "start of a word are different tokens.",
    alphabet_order="word-initial characters in alphabetical order, then the continuation characters",
    afterwards="To tokenize new text, WordPiece keeps only this vocabulary, not the merges: it takes the "
    "longest vocabulary entry that starts each word, then the longest “##” piece after it, and so on. A "
    "real trainer such as BERT's also adds special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) and merges "
    "until the vocabulary reaches a target size.",
)


def _exact(score) -> sp.Rational:
    return sp.Rational(score.numerator, score.denominator)


def _tokens(tokens) -> str:
    return ", ".join(tokens)


def _pair(stat) -> dict:
    return {"a": user(stat.pair[0]), "b": user(stat.pair[1])}


def train(v, scheme: Scheme, rule: str | None = None, counts=None):
    """The full training on the givens; ``rule`` and ``counts`` swap in a misconception's."""
    return vt.train(v.words, counts or v.counts, v.n_merges, scheme.prefix, rule or scheme.rule)


def first_stats(v, scheme: Scheme, rule: str | None = None, counts=None):
    splits = vt.initial_splits(v.words, scheme.prefix)
    return vt.pair_stats(splits, counts or v.counts, rule or scheme.rule)


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


def splits_table(v, splits):
    rows = [(user(w), sp.Integer(c), user(" ".join(s))) for w, c, s in zip(v.words, v.counts, splits)]
    return table(("word", "count", "split"), rows)


def stats_table(scheme: Scheme, stats, winner):
    """Every pair's statistics; the winner and the pairs tied with it are marked."""
    rows = []
    for stat in stats:
        mark = "best" if stat is winner else "tie" if stat.score == winner.score else ""
        cells = [user(stat.pair[0]), user(stat.pair[1]), sp.Integer(stat.count)]
        if scheme.wordpiece:
            score = _exact(stat.score)
            cells += [sp.Integer(stat.left), sp.Integer(stat.right), score, approx(score, 4)]
        rows.append((*cells, mark))
    header = ["a", "b", "freq(ab)"]
    if scheme.wordpiece:
        header += ["freq(a)", "freq(b)", "score", "≈"]
    return table((*header, ""), rows)


def _winner_text(scheme: Scheme, winner, stats) -> list:
    if scheme.wordpiece:
        text, number = "The best score is {s}, for ({a}, {b}).", _exact(winner.score)
    else:
        text, number = "The most frequent pair is ({a}, {b}), {s} times.", sp.Integer(winner.count)
    tied = [s for s in stats if s.score == winner.score and s is not winner]
    if tied:
        others = "1 other pair" if len(tied) == 1 else f"{len(tied)} other pairs"
        text += f" It ties with {others}, but it is listed first, so it wins."
    return [prose(text, s=number, **_pair(winner))]


def _contrast(scheme: Scheme, v, stats, winner) -> list:
    """The headline difference: the most frequent pair against the best-scored one."""
    if scheme.wordpiece:
        frequent = vt.best(first_stats(v, scheme, rule=vt.FREQUENCY))
        if frequent.pair == winner.pair:
            return [prose("Here the most frequent pair is also the best-scored one.")]
        frequent = next(s for s in stats if s.pair == frequent.pair)
        common = frequent.pair[0] if frequent.left >= frequent.right else frequent.pair[1]
        return [
            prose(
                "Note the contrast with BPE: the most frequent pair is ({a}, {b}), {n} times, and BPE would "
                "merge it first. But {c} occurs {total} times in all, so the score of ({a}, {b}) is only {s}. "
                "The score favours pairs whose parts are rarely seen apart.",
                n=frequent.count,
                c=user(common),
                total=max(frequent.left, frequent.right),
                s=_exact(frequent.score),
                **_pair(frequent),
            )
        ]
    rival = vt.best(first_stats(v, scheme, rule=vt.WORDPIECE))
    if rival.pair == winner.pair:
        return [prose("WordPiece's score, which divides by freq(a)·freq(b), would pick the same pair here.")]
    return [
        prose(
            "Note the contrast with WordPiece, which divides each count by freq(a)·freq(b), how often the "
            "two parts occur at all: its score would instead pick ({a}, {b}), at {s}.",
            s=_exact(rival.score),
            **_pair(rival),
        )
    ]


def stage_alphabet(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return list(vt.alphabet(vt.initial_splits(v.words, scheme.prefix)))

    def explain(v):
        splits = vt.initial_splits(v.words, scheme.prefix)
        return (
            prose(scheme.how_to_split),
            splits_table(v, splits),
            prose(
                f"The starting vocabulary is every distinct character token, {{n}} of them "
                f"({scheme.alphabet_order}): {{tokens}}.",
                n=len(v.alphabet),
                tokens=user(_tokens(v.alphabet)),
            ),
        )

    return Stage("alphabet", "Split the words into characters", compute, explain, mistakes=tuple(mistakes))


def stage_scores(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return [_exact(s.score) for s in first_stats(v, scheme)]

    def explain(v):
        stats = first_stats(v, scheme)
        winner = vt.best(stats)
        if scheme.wordpiece:
            blocks = [
                prose(
                    "Score every pair of adjacent tokens (a, b): how often they occur together, divided by "
                    "how often each occurs at all."
                ),
                eq(SCORE(a, b), SCORE_FORMULA),
                prose(
                    "Every frequency is weighted by the word counts: a pair inside a word with count 10 "
                    "occurs 10 times. The answer “scores” lists the scores in the order of the table."
                ),
            ]
        else:
            blocks = [
                prose(
                    "Count every pair of adjacent tokens, weighted by the word counts: a pair inside a word "
                    "with count 10 occurs 10 times. BPE merges the most frequent pair. The answer “scores” "
                    "lists these frequencies in the order of the table."
                )
            ]
        blocks.append(prose(TIE_RULE.format(best="best score" if scheme.wordpiece else "highest count")))
        blocks.append(stats_table(scheme, stats, winner))
        blocks += _winner_text(scheme, winner, stats)
        blocks += _contrast(scheme, v, stats, winner)
        return tuple(blocks)

    title = "Score every pair" if scheme.wordpiece else "Count every pair"
    return Stage("scores", title, compute, explain, mistakes=tuple(mistakes))


def stage_merges(scheme: Scheme, mistakes=()) -> Stage:
    def compute(v):
        return train(v, scheme).merges

    def explain(v):
        training = train(v, scheme)
        blocks = []
        vocab = list(training.alphabet)
        for number, step in enumerate(training.steps, 1):
            fields = {**_pair(step.best), "t": user(step.token)}
            if number == 1:
                text = "Merge 1: the winner of the previous step, ({a}, {b}), becomes the token {t}."
                if scheme.wordpiece:
                    text += " The “##” of the second part is dropped when the two are joined."
                blocks.append(prose(text, **fields))
            else:
                blocks.append(prose(f"Merge {number}: recount the pairs in the new splits."))
                blocks.append(stats_table(scheme, step.pairs, step.best))
                blocks += _winner_text(scheme, step.best, step.pairs)
                blocks.append(prose("So ({a}, {b}) becomes the token {t}.", **fields))
            blocks.append(splits_table(v, step.splits))
            if step.token in vocab:
                blocks.append(prose("{t} is already in the vocabulary, which does not grow.", t=fields["t"]))
            else:
                vocab.append(step.token)
            blocks.append(
                prose(
                    "The vocabulary now has {n} tokens: {tokens}.", n=len(vocab), tokens=user(_tokens(vocab))
                )
            )
        done = len(training.steps)
        if done < v.n_merges:
            after = "one merge" if done == 1 else f"{done} merges"
            blocks.append(
                prose(
                    f"After {after} every word is a single token: no pair is left, so training stops early, "
                    "with fewer merges than the {n} asked for.",
                    n=v.n_merges,
                )
            )
        return tuple(blocks)

    return Stage("merges", "Merge, pair by pair", compute, explain, mistakes=tuple(mistakes))


def stage_vocab(scheme: Scheme) -> Stage:
    def compute(v):
        vocab = list(v.alphabet)
        vocab += [t for i, t in enumerate(v.merges) if t not in vocab and t not in v.merges[:i]]
        return vocab

    def explain(v):
        return (
            prose(
                "The learned vocabulary is the starting characters followed by the new tokens in the order "
                "they were learned, {n} tokens: {tokens}.",
                n=len(v.vocab),
                tokens=user(_tokens(v.vocab)),
            ),
            prose(scheme.afterwards),
        )

    return Stage("vocab", "The learned vocabulary", compute, explain)


def unit_counts(v) -> tuple[int, ...]:
    """What a student who counts each distinct word once (ignoring its count) works with."""
    return (1,) * len(v.words)


def ignored_counts_scores(scheme: Scheme):
    return lambda v: [_exact(s.score) for s in first_stats(v, scheme, counts=unit_counts(v))]


def ignored_counts_merges(scheme: Scheme):
    return lambda v: train(v, scheme, counts=unit_counts(v)).merges


IGNORED_COUNTS_HINT = (
    "Weight every pair by its word's count: a pair inside a word with count 10 occurs 10 times."
)


def _no_prefix(v):
    return list(vt.alphabet(vt.initial_splits(v.words, "")))


def _frequencies(v):
    return [sp.Integer(s.count) for s in first_stats(v, WORDPIECE)]


def _by_frequency(v):
    return train(v, WORDPIECE, rule=vt.FREQUENCY).merges


def _kept_inner_prefix(v):
    """The same merges, each spelled as the literal concatenation of its parts (“##g##s”)."""
    spelled, out = {}, []
    for step in train(v, WORDPIECE).steps:
        first, second = (spelled.get(t, t) for t in step.best.pair)
        spelled[step.token] = first + second
        out.append(first + second)
    return out


FREQUENCY_HINT = (
    "WordPiece divides a pair's frequency by freq(a)·freq(b) and merges the best score; "
    "picking the most frequent pair is BPE's rule."
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


TOPIC = Topic(
    name="wordpiece-train",
    summary="WordPiece vocabulary training: merge by merge, pair scores freq(ab)/(freq(a)·freq(b))",
    options=options(),
    prepare=lambda options: prepare(WORDPIECE, options),
    stages=(
        stage_alphabet(
            WORDPIECE,
            mistakes=(
                Mistake(
                    "no-prefix",
                    "Every character after the first of a word carries the '##' prefix: '##u' and 'u' differ.",
                    _no_prefix,
                ),
            ),
        ),
        stage_scores(
            WORDPIECE,
            mistakes=(
                Mistake("frequency-for-score", FREQUENCY_HINT, _frequencies),
                Mistake("ignored-counts", IGNORED_COUNTS_HINT, ignored_counts_scores(WORDPIECE)),
            ),
        ),
        stage_merges(
            WORDPIECE,
            mistakes=(
                Mistake("frequency-for-score", FREQUENCY_HINT, _by_frequency),
                Mistake(
                    "kept-inner-prefix",
                    "Joining a and '##b' drops the '##' of the second part: '##g' + '##s' = '##gs'.",
                    _kept_inner_prefix,
                ),
                Mistake("ignored-counts", IGNORED_COUNTS_HINT, ignored_counts_merges(WORDPIECE)),
            ),
        ),
        stage_vocab(WORDPIECE),
    ),
    result="vocab",
    examples={
        "course": {"corpus": COURSE, "merges": "3"},
        "sennrich": {"corpus": SENNRICH, "merges": "4"},
    },
    example_notes={
        "course": "the Hugging Face course's toy corpus: '##g ##s' wins, not the frequent '##u ##g'",
        "sennrich": "the corpus of the BPE paper (Sennrich et al., 2016), scored by WordPiece",
    },
    sample=sample,
)
