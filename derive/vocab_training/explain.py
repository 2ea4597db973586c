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
LEXICOGRAPHIC_RULE = (
    "When several pairs share the {best}, the greatest pair wins (--tie-break lexicographic): compare "
    "the first tokens as strings, character by character, and if they are equal the second ones, as "
    "Python's max over (a, b) tuples does. This is the rule of a well-known university assignment "
    "(Stanford's CS336); the Hugging Face course keeps the pair it met first instead."
)


END_MARKER = (
    "Every word ends in the end-of-word marker </w> of Sennrich et al. (2016), one symbol: a merge that "
    "takes it in can only happen at the end of a word, so a token such as 'er</w>' (a word's ending) and "
    "'er' (inside a word) are different. Encoding a new word appends the marker too."
)


FROM_TEXT = (
    "The corpus comes from the running text {t} (lines separated by /), line by line: split at spaces, with every punctuation mark a word of "
    "its own (BERT's pre-tokenizer, as the Hugging Face course does for WordPiece), and each distinct word "
    "counted."
)
BYTE_LEVEL = (
    "The corpus comes from the running text {t} (lines separated by /), each line pre-tokenized as GPT-2 "
    "does (byte-level, as the Hugging "
    "Face course does for BPE): words, numbers and runs of punctuation are split apart, a space stays "
    "attached to the start of the word after it, and every byte is spelled with a printable character, so "
    "the space becomes Ġ (and é, two bytes in UTF-8, becomes Ã©). Each distinct word is counted."
)


def tie_rule(v, best: str) -> str:
    return (LEXICOGRAPHIC_RULE if v.tie_break == vt.LEXICOGRAPHIC else TIE_RULE).format(best=best)


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


def _winner_text(scheme: Scheme, winner, stats, tie_break: str) -> list:
    if scheme.wordpiece:
        text, number = "The best score is {s}, for ({a}, {b}).", exact(winner.score)
    else:
        text, number = "The most frequent pair is ({a}, {b}), {s} times.", sp.Integer(winner.count)
    tied = [s for s in stats if s.score == winner.score and s is not winner]
    if tied:
        others = "1 other pair" if len(tied) == 1 else f"{len(tied)} other pairs"
        why = "it is the greatest pair" if tie_break == vt.LEXICOGRAPHIC else "it is listed first"
        text += f" It ties with {others}, but {why}, so it wins."
    return [prose(text, s=number, **_pair(winner))]


def _contrast(scheme: Scheme, v, stats, winner) -> list:
    """The headline difference: the most frequent pair against the best-scored one."""
    if scheme.wordpiece:
        frequent = vt.best(first_stats(v, scheme, rule=vt.FREQUENCY), v.tie_break)
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
    rival = vt.best(first_stats(v, scheme, rule=vt.WORDPIECE), v.tie_break)
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
        winner = vt.best(stats, v.tie_break)
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
        blocks.append(prose(tie_rule(v, "best score" if scheme.wordpiece else "highest count")))
        blocks.append(stats_table(scheme, stats, winner))
        blocks += _winner_text(scheme, winner, stats, v.tie_break)
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
                blocks += _winner_text(scheme, step.best, step.pairs, v.tie_break)
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


def _encoded_rows_bpe(v, training):
    rows = []
    known = set(v.alphabet)
    for word in v.encode:
        start = [c if c in known else vt.UNK for c in (*word, *([vt.END_OF_WORD] if v.end_marker else []))]
        split, used = tuple(start), []
        for number, step in enumerate(training.steps, 1):
            after = vt.apply_merge((split,), step.best.pair, step.token)[0]
            if after != split:
                used.append(str(number))
            split = after
        rows.append((user(word), user(" ".join(start)), ", ".join(used) or "none", user(" ".join(split))))
    return rows


def encoded(scheme):
    """The explainer of the optional encoding stage for ``scheme``."""

    def explain(v):
        if scheme.wordpiece:
            rows = [(user(w), user(" ".join(vt.encode_wordpiece(w, v.vocab)))) for w in v.encode]
            return (
                prose(
                    "WordPiece encodes with the vocabulary alone, as the Hugging Face course's encode_word does: "
                    "take the longest vocabulary entry that starts the word, then the longest “##” piece of what "
                    "is left, and so on. If at some point no piece fits, the whole word becomes [UNK] (a "
                    "character never seen in the corpus does that)."
                ),
                table(("word", "pieces"), rows),
                prose("{n} tokens: {t}", n=len(v.encoded), t=user(" ".join(v.encoded))),
            )
        training = train(v, scheme)
        merges = ", ".join(
            f"{n}. {a} {b}" for n, (a, b) in enumerate((s.best.pair for s in training.steps), 1)
        )
        return (
            prose(
                "BPE encodes by replaying the merges in the order they were learned ({m}): split the word into "
                "its characters, then apply merge 1 everywhere it fits, then merge 2, and so on. A character "
                "never seen in the corpus becomes [UNK], as Hugging Face's BPE model does with an unknown token.",
                m=user(merges),
            ),
            table(("word", "characters", "merges used", "tokens"), _encoded_rows_bpe(v, training)),
            prose("{n} tokens: {t}", n=len(v.encoded), t=user(" ".join(v.encoded))),
        )

    return explain
