"""BPE's scheme (plain characters, the raw pair frequency) and the misconceptions it invites."""

from __future__ import annotations

import sympy as sp

from derive import vocab_training as vt
from derive.model import Mistake
from derive.topics.bpe_train import explain
from derive.vocab_training.scheme import Scheme, first_stats, train

BPE = Scheme(
    "BPE",
    "",
    vt.FREQUENCY,
    intro=explain.INTRO,
    how_to_split=explain.HOW_TO_SPLIT,
    alphabet_order=explain.ALPHABET_ORDER,
    afterwards=explain.AFTERWARDS,
    byte_level_intro=explain.BYTE_LEVEL_INTRO,
)


def _with_prefix(v):
    return list(vt.alphabet(vt.initial_splits(v.words, vt.CONTINUATION)))


def _normalised_scores(v):
    return [
        sp.Rational(s.score.numerator, s.score.denominator) for s in first_stats(v, BPE, rule=vt.WORDPIECE)
    ]


def _normalised_merges(v):
    return train(v, BPE, rule=vt.WORDPIECE).merges


ADDED_PREFIX = Mistake("added-prefix", explain.ADDED_PREFIX, _with_prefix)
SCORE_FOR_FREQUENCY_SCORES = Mistake("score-for-frequency", explain.NORMALISED, _normalised_scores)
SCORE_FOR_FREQUENCY_MERGES = Mistake("score-for-frequency", explain.NORMALISED, _normalised_merges)


def _other_tie_break(v):
    other = vt.FIRST if v.tie_break == vt.LEXICOGRAPHIC else vt.LEXICOGRAPHIC
    return train(v, BPE, tie_break=other).merges


OTHER_TIE_BREAK = Mistake("other-tie-break", explain.OTHER_TIE_BREAK, _other_tie_break)
