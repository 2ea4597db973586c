"""WordPiece training on a tiny corpus: level 1 three words and two merges, level 2 four words and
three merges, level 3 five words, three merges and two new words (counts stay at most 12, so that no
score is a few thousandths, which no sheet decimals tell apart). Every merge has one clear
winner (the topic breaks ties by the pair met first, but the sheet does not make a lesson of it),
and the new word's split uses a learned token."""

from __future__ import annotations

from derive import vocab_training as vt
from derive.worksheet import corpora


def _draw(rng, words, merges, high):
    corpus, encode = corpora.wordpiece_corpus(rng, words, merges, high, 1 if words < 5 else 2)
    return {"corpus": corpus, "merges": str(merges), "encode": encode}


def level_1(rng):
    return _draw(rng, 3, 2, 9)


def level_2(rng):
    return _draw(rng, 4, 3, 9)


def level_3(rng):
    return _draw(rng, 5, 3, 12)


def suitable(values, level):
    """One clear winner at every merge, and a learned token in the new word's split."""
    clear = corpora.clear_winners(values.words, values.counts, values.n_merges, vt.CONTINUATION, vt.WORDPIECE)
    return clear and corpora.encoding_merges(values)


def worked(values):
    return {"merges": corpora.merge_lines(values, vt.CONTINUATION, vt.WORDPIECE)}


SYMBOLS = {"corpus": None, "merges": None, "encode": None}


def task(given):
    return (
        "Train WordPiece on this corpus of words with their counts: split each word into characters, "
        "marking every character after the first with ##; score each pair of adjacent tokens "
        f"freq(ab)/(freq(a)·freq(b)) and merge the best, {given['merges']} times. Then split the words "
        "to encode, longest vocabulary entry first. List characters alphabetically (word-initial ones, "
        "then the ## ones), pairs in the order they first appear."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
