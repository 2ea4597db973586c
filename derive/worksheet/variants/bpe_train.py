"""BPE training on a tiny corpus: level 1 three words and two merges, each with one clear winner;
level 2 four words and three merges, level 3 five words and five merges with larger counts, where
the sheet states the tie-breaking rule (the pair met first, or the greatest pair) and a tie may
decide a merge: then the other rule gives other merges, and that misconception is screened."""

from __future__ import annotations

from derive import vocab_training as vt
from derive.worksheet import corpora


def _draw(rng, words, merges, high, rule):
    corpus, encode = corpora.draw_corpus(rng, words, 1 if words < 5 else 2, 1, high)
    given = {"corpus": corpus, "merges": str(merges), "encode": encode}
    if rule:
        given["tie_break"] = rng.choice([vt.FIRST, vt.LEXICOGRAPHIC])
    return given


def level_1(rng):
    return _draw(rng, 3, 2, 9, rule=False)


def level_2(rng):
    return _draw(rng, 4, 3, 12, rule=True)


def level_3(rng):
    return _draw(rng, 5, 5, 40, rule=True)


def moot(given):
    """The other tie-breaking rule is no misconception where no tie decides a merge."""
    words, counts = vt.parse_corpus(given["corpus"], "--corpus")
    return (
        {"other-tie-break"} if corpora.same_under_either_rule(words, counts, int(given["merges"])) else set()
    )


def suitable(values, level):
    """Every merge happens and one shows in the encoding; at level 1, whose sheet states no tie
    rule, each merge has one clear winner."""
    if not corpora.encoding_merges(values):
        return False
    if level == 1:
        return corpora.clear_winners(values.words, values.counts, values.n_merges, "", vt.FREQUENCY)
    return len(values.merges) == values.n_merges


def worked(values):
    return {"merges": corpora.merge_lines(values, "", vt.FREQUENCY)}


SYMBOLS = {"corpus": None, "merges": None, "encode": None, "tie_break": None}

_RULES = {
    vt.FIRST: "among pairs with the same count, the one met first wins (reading the words in order, each "
    "left to right)",
    vt.LEXICOGRAPHIC: "among pairs with the same count, the greatest wins (pairs compared as (left, right) "
    "in alphabetical order)",
}


def task(given):
    rule = f" Ties: {_RULES[given['tie_break']]}." if "tie_break" in given else ""
    return (
        "Train BPE on this corpus of words with their counts: start from single characters and merge "
        f"the most frequent pair of adjacent tokens, {given['merges']} times.{rule} Then split the words "
        "to encode with the merges learned, in order. List characters alphabetically, pairs in the order "
        "they first appear."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
