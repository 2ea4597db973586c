"""What both trainers say: the splits and pair tables, the winner, the contrast between the rules."""

from __future__ import annotations

import sympy as sp

from derive import vocab_training as vt
from derive.blocks import eq, prose, table, user
from derive.numbers import approx
from derive.vocab_training.scheme import Scheme, exact, first_stats, train

a, b, ab = sp.symbols("a b ab")
FREQ, SCORE = sp.Function("freq"), sp.Function("score")
SCORE_FORMULA = FREQ(ab) / (FREQ(a) * FREQ(b))


TIE_RULE = (
    "When several pairs share the {best}, the one listed first wins: pairs are listed in the order "
    "they first appear, reading the words in corpus order and each word from left to right (the rule of "
    "the Hugging Face course's code, which keeps the first maximum it meets)."
)


def _tokens(tokens) -> str:
    return ", ".join(tokens)


def _pair(stat) -> dict:
    return {"a": user(stat.pair[0]), "b": user(stat.pair[1])}


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
            score = exact(stat.score)
            cells += [sp.Integer(stat.left), sp.Integer(stat.right), score, approx(score, 4)]
        rows.append((*cells, mark))
    header = ["a", "b", "freq(ab)"]
    if scheme.wordpiece:
        header += ["freq(a)", "freq(b)", "score", "≈"]
    return table((*header, ""), rows)


def _winner_text(scheme: Scheme, winner, stats) -> list:
    if scheme.wordpiece:
        text, number = "The best score is {s}, for ({a}, {b}).", exact(winner.score)
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
                s=exact(frequent.score),
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
            s=exact(rival.score),
            **_pair(rival),
        )
    ]


def alphabet(scheme):
    """The explainer of the alphabet stage for ``scheme``."""

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

    return explain


def scores(scheme):
    """The explainer of the scores stage for ``scheme``."""

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

    return explain


def merges(scheme):
    """The explainer of the merges stage for ``scheme``."""

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

    return explain


def vocab(scheme):
    """The explainer of the vocab stage for ``scheme``."""

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

    return explain
