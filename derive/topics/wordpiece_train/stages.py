"""WordPiece's scheme ("##" continuations, the score) and the misconceptions it invites."""

from __future__ import annotations

import sympy as sp

from derive import vocab_training as vt
from derive.model import Mistake
from derive.topics.wordpiece_train import explain
from derive.vocab_training.scheme import Scheme, first_stats, train

WORDPIECE = Scheme(
    "WordPiece",
    vt.CONTINUATION,
    vt.WORDPIECE,
    intro=explain.INTRO,
    how_to_split=explain.HOW_TO_SPLIT,
    alphabet_order=explain.ALPHABET_ORDER,
    afterwards=explain.AFTERWARDS,
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


NO_PREFIX = Mistake("no-prefix", explain.NO_PREFIX, _no_prefix)
FREQUENCY_FOR_SCORE_SCORES = Mistake("frequency-for-score", explain.FREQUENCY, _frequencies)
FREQUENCY_FOR_SCORE_MERGES = Mistake("frequency-for-score", explain.FREQUENCY, _by_frequency)
KEPT_INNER_PREFIX = Mistake("kept-inner-prefix", explain.KEPT_INNER_PREFIX, _kept_inner_prefix)
