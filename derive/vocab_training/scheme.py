"""What distinguishes WordPiece from BPE, and the training run on a topic's givens for either."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive import vocab_training as vt


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
    byte_level_intro: str = ""  # replaces ``intro`` with --byte-level

    @property
    def wordpiece(self) -> bool:
        return self.rule == vt.WORDPIECE


def exact(score) -> sp.Rational:
    return sp.Rational(score.numerator, score.denominator)


def train(v, scheme: Scheme, rule: str | None = None, counts=None, tie_break: str | None = None):
    """The full training on the givens; ``rule``, ``counts`` and ``tie_break`` swap in a misconception's."""
    return vt.train(
        v.words, counts or v.counts, v.n_merges, scheme.prefix, rule or scheme.rule, tie_break or v.tie_break
    )


def first_stats(v, scheme: Scheme, rule: str | None = None, counts=None):
    splits = vt.initial_splits(v.words, scheme.prefix)
    return vt.pair_stats(splits, counts or v.counts, rule or scheme.rule)
