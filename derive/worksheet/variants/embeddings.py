"""Word embeddings: a small table of six word vectors given on the command line (--vectors), three
of its words to compare and an analogy a - b + c. Level 1 three dimensions, every vector of
whole length (1 2 2, 2 3 6, 0 3 4, ...), so lengths and cosines are rational; level 2 small
integers; level 3 decimals.

Each draw is looked at in floats first (the exact screen is the costly part): every nearest word
and the analogy's answer win by a clear margin, and the misconceptions (ranking by dot product,
keeping the analogy's own words as candidates) pick another word, so the checker can tell them apart.
"""

from __future__ import annotations

import math
from decimal import Decimal

import sympy as sp

from derive.worksheet import draw

# Each theme: a - b + c lands nearest to d (draws where it does not are redrawn); two distractors.
THEMES = (
    ("king", "man", "woman", "queen", "prince", "apple"),
    ("paris", "france", "italy", "rome", "city", "pizza"),
    ("kitten", "cat", "dog", "puppy", "pet", "car"),
    ("walked", "walk", "swim", "swam", "run", "lake"),
    ("bigger", "big", "small", "smaller", "tiny", "tree"),
    ("uncle", "man", "woman", "aunt", "niece", "bread"),
    ("tokyo", "japan", "spain", "madrid", "island", "train"),
    ("boys", "boy", "girl", "girls", "child", "stone"),
)
MARGIN = 0.03  # cosines (and dot products) a winner must lead by: more than the sheet's rounding
PARALLEL = 0.995  # two words pointing this much the same way would tie as neighbours
MAX_ENTRY = 9
WHOLE_LENGTH = tuple(  # three integers whose length is whole: 1 2 2, 2 3 6, 0 3 4, ...
    (x, y, z)
    for x in range(-MAX_ENTRY, MAX_ENTRY + 1)
    for y in range(-MAX_ENTRY, MAX_ENTRY + 1)
    for z in range(-MAX_ENTRY, MAX_ENTRY + 1)
    if (x, y, z) != (0, 0, 0) and math.isqrt(x * x + y * y + z * z) ** 2 == x * x + y * y + z * z
)


def _winner(scores: dict) -> str | None:
    """The word with the highest score if it leads the next by MARGIN, else None."""
    ranked = sorted(scores, key=scores.get, reverse=True)
    return ranked[0] if scores[ranked[0]] - scores[ranked[1]] > MARGIN else None


def _telling(table: dict, compared: list[str], terms: tuple, expected: str) -> bool:
    """The analogy lands clearly on the ``expected`` word (queen, not apple), and keeping its own
    words or ranking by dot product picks another; no two words point almost the same way; every
    compared word has a clear nearest word by cosine and by dot product, and somewhere they differ.
    (The rarest conditions first: most draws fail.)"""
    table = {word: [float(e) for e in vector] for word, vector in table.items()}
    length = {word: math.sqrt(draw.dot(vector, vector)) for word, vector in table.items()}
    target = [sum(sign * table[word][i] for sign, word in terms) for i in range(len(table[expected]))]
    if not any(target):
        return False
    to_target = {word: draw.dot(target, vector) for word, vector in table.items()}
    target_length = math.sqrt(draw.dot(target, target))
    cosines = {word: dot / (length[word] * target_length) for word, dot in to_target.items()}
    candidates = [word for word in table if word not in {w for _, w in terms}]
    if _winner({w: cosines[w] for w in candidates}) != expected:
        return False
    if _winner(cosines) in (None, expected) or _winner({w: to_target[w] for w in candidates}) in (
        None,
        expected,
    ):
        return False
    words = list(table)
    dots = {(a, b): draw.dot(table[a], table[b]) for a in words for b in words if a != b}
    if any(dot > PARALLEL * length[a] * length[b] for (a, b), dot in dots.items()):
        return False
    by_cosine, by_dot = [], []
    for word in compared:
        others = [w for w in words if w != word]
        by_cosine.append(_winner({w: dots[word, w] / (length[word] * length[w]) for w in others}))
        by_dot.append(_winner({w: dots[word, w] for w in others}))
    return None not in by_cosine + by_dot and by_cosine != by_dot


def _given(rng, level) -> dict | None:
    """A theme's words and vectors, three of them compared, and its analogy; None when the draw
    cannot tell the misconceptions apart."""
    theme = rng.choice(THEMES)
    table = {word: LEVEL_VECTORS[level](rng) for word in theme}
    compared = rng.sample(theme, 3)
    terms = ((1, theme[0]), (-1, theme[1]), (1, theme[2]))
    if not _telling(table, compared, terms, theme[3]):
        return None
    return {
        "vectors": "; ".join(f"{word}: {draw.vector_text(table[word])}" for word in theme),
        "words": " ".join(compared),
        "analogy": f"{theme[0]} - {theme[1]} + {theme[2]}",
    }


def _drawn(rng, level) -> dict:
    while True:
        given = _given(rng, level)
        if given is not None:
            return given


def _tenths(rng, low, high):
    return [Decimal(e) for e in draw.tenths(rng, 3, low, high)]


LEVEL_VECTORS = {
    1: lambda rng: list(rng.choice(WHOLE_LENGTH)),
    2: lambda rng: draw.nonzero_row(rng, 3, -3, 3),
    3: lambda rng: _tenths(rng, -25, 25),
}


def level_1(rng):
    return _drawn(rng, 1)


def level_2(rng):
    return _drawn(rng, 2)


def level_3(rng):
    return _drawn(rng, 3)


SYMBOLS = {"vectors": sp.Symbol("vectors"), "words": None, "analogy": None}


def task(given):
    return (
        "The table gives each word's vector. For the words to compare: their lengths, dot products, "
        "cosine similarities, distances and each one's nearest other word of the table by cosine; then "
        "the analogy's vector and the word of the table, not one of the analogy's own, nearest to it by cosine."
    )


LEVELS = {1: level_1, 2: level_2, 3: level_3}
