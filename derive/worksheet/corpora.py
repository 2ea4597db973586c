"""Tiny corpora for the vocabulary-training sheets (BPE, WordPiece): words drawn from families that
share letters, so that pairs repeat and merges build on each other, with counts, and a new word
to encode; the checks that each merge has one clear winner (no tie decides the answer unless the
tie is the lesson); and the key's merge-by-merge lines."""

from __future__ import annotations

import random
from collections.abc import Sequence

from derive import vocab_training as vt

SEARCH_ATTEMPTS = 60  # word sets and counts tried per family before the next family is tried

FAMILIES = (
    ("hug", "pug", "pun", "bun", "hugs", "gun", "nut", "tug", "bug"),
    ("low", "lower", "lowest", "new", "newer", "newest", "wide", "wider", "widest"),
    ("cat", "hat", "that", "chat", "bat", "at", "cats", "hats", "tab"),
    ("run", "runs", "fun", "sun", "sung", "rung", "nun", "urn", "funs"),
    ("sing", "ring", "rings", "king", "sink", "wing", "wings", "sin", "kings"),
    ("tree", "free", "three", "fee", "see", "tee", "trees", "seed", "feet"),
    ("pin", "pins", "spin", "tin", "tint", "pint", "nip", "spit", "tip"),
    ("mad", "made", "mud", "dam", "dame", "dim", "aim", "maid", "mid"),
)


def draw_corpus(rng: random.Random, words: int, encode: int, low: int, high: int) -> tuple[str, str]:
    """``("hug 10, pug 5, ...", "hugs")``: distinct words of one family with counts in [low, high],
    and ``encode`` other words of the same family to split with what was learned (made of the
    corpus's letters where the family allows, else with a letter never seen)."""
    family = rng.choice(FAMILIES)
    chosen = rng.sample(family, words)
    letters = set("".join(chosen))
    others = [w for w in family if w not in chosen]
    covered = [w for w in others if set(w) <= letters]
    new = rng.sample(covered if len(covered) >= encode else others, encode)
    corpus = ", ".join(f"{word} {rng.randint(low, high)}" for word in chosen)
    return corpus, " ".join(new)


def clear_winners(words: Sequence[str], counts: Sequence[int], merges: int, prefix: str, rule: str) -> bool:
    """Every merge's best pair scores strictly more than the runner-up, and all ``merges`` happen."""
    training = vt.train(words, counts, merges, prefix, rule)
    for step in training.steps:
        scores = sorted((stat.score for stat in step.pairs), reverse=True)
        if len(scores) > 1 and scores[0] == scores[1]:
            return False
    return len(training.steps) == merges


def same_under_either_rule(words: Sequence[str], counts: Sequence[int], merges: int) -> bool:
    """BPE learns the same merges whichever tie-breaking rule holds (no tie decides one)."""
    first, greatest = (
        vt.train(words, counts, merges, "", vt.FREQUENCY, rule) for rule in (vt.FIRST, vt.LEXICOGRAPHIC)
    )
    return first.merges == greatest.merges


def encoding_merges(values) -> bool:
    """Some learned token shows up in the encoded words (else encoding just spells them out)."""
    return values.encoded is not None and any(token in values.merges for token in values.encoded)


def wordpiece_corpus(rng: random.Random, words: int, merges: int, high: int, encode: int) -> tuple[str, str]:
    """As :func:`draw_corpus` for WordPiece, searched for a corpus that teaches: one clear winner at
    every merge (WordPiece's ratios tie whenever two pairs only ever occur in one word), counts
    that change the merges (its ratios often rank alike with every count 1), and new words whose
    split uses a learned token. Families are tried in random order, so that every family that can
    teach this shows up; the last draw is returned if none is found, and the screen rejects it."""
    usable: list[str] = []
    for family in _searched(rng):
        chosen = rng.sample(family, words)
        counts = [rng.randint(1, high) for _ in chosen]
        training = vt.train(chosen, counts, merges, vt.CONTINUATION, vt.WORDPIECE)
        unweighted = vt.train(chosen, [1] * words, merges, vt.CONTINUATION, vt.WORDPIECE)
        fits = clear_winners(chosen, counts, merges, vt.CONTINUATION, vt.WORDPIECE)
        if not fits or unweighted.merges == training.merges:
            usable = []
            continue
        usable = [
            w
            for w in family
            if w not in chosen and set(vt.encode_wordpiece(w, training.vocab)) & set(training.merges)
        ]
        if len(usable) >= encode:
            break
    corpus = ", ".join(f"{word} {count}" for word, count in zip(chosen, counts))
    others = usable if len(usable) >= encode else [w for w in family if w not in chosen]
    return corpus, " ".join(rng.sample(others, encode))


def _searched(rng: random.Random):
    """Each family SEARCH_ATTEMPTS times in a row, the families in random order."""
    for family in rng.sample(FAMILIES, len(FAMILIES)):
        yield from [family] * SEARCH_ATTEMPTS


def merge_lines(values, prefix: str, rule: str) -> list[str]:
    """The key's merges, one line each: the winning pair, its count or score, the new token."""
    training = vt.train(values.words, values.counts, values.n_merges, prefix, rule, values.tie_break)
    lines = []
    for number, step in enumerate(training.steps, 1):
        best = step.best
        how = (
            f"{best.count}/({best.left}·{best.right}) = {best.score}"
            if rule == vt.WORDPIECE
            else f"{best.count} times"
        )
        lines.append(f"{number}. ({best.pair[0]}, {best.pair[1]}): {how} → {step.token}")
    return lines
