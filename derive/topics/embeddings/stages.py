"""The embeddings topic's values, from derive.exact.vectors, and its misconceptions.

``v.vocabulary`` maps every word of the table to its vector; ``v.W`` holds the compared words'
vectors as rows. As is standard (word2vec, gensim's most_similar), an analogy's own input words
are not candidates for its answer.
"""

from __future__ import annotations

import sympy as sp

from derive.exact import vectors
from derive.model import Mistake

WORK_DPS = 30


def numeric(value):
    return sp.N(value, WORK_DPS)


def vector_of(vocabulary, word: str) -> sp.Matrix:
    return sp.Matrix([list(vocabulary[word])])


def word_rows(v):
    return [v.W.row(j) for j in range(v.W.rows)]


def cosine(a, b):
    """The cosine with a rationalised denominator: 28/√910 is shown as 2√910/65."""
    return sp.radsimp(vectors.cosine_similarity(a, b))


def cosine_order(a, b):
    """Orders like the cosine, without square roots: cos·|cos| = (a·b)|a·b| / (|a|²|b|²). Exact and
    quick for rational entries (a worksheet ranks a whole table for every draw)."""
    dot = vectors.dot(a, b)
    return dot * abs(dot) / (vectors.sum_of_squares(a) * vectors.sum_of_squares(b))


def ranked(vocabulary, vector, exclude=(), score=cosine_order):
    """Vocabulary words by decreasing score (the cosine's order unless given), ties in table order."""
    order = list(vocabulary)
    candidates = [w for w in order if w not in exclude]
    return sorted(candidates, key=lambda w: (-numeric(score(vector, vocabulary[w])), order.index(w)))


def analogy_text(terms) -> str:
    text = ("-" if terms[0][0] < 0 else "") + terms[0][1]
    return text + "".join(f" {'-' if s < 0 else '+'} {w}" for s, w in terms[1:])


def analogy_inputs(v):
    return {w for _, w in v.terms}


def analogy_vector_of(vocabulary, terms) -> sp.Matrix:
    return vectors.combine((sign, vocabulary[word]) for sign, word in terms)


def norms(v):
    return sp.Matrix([[vectors.norm(row) for row in word_rows(v)]])


def dots(v):
    return vectors.gram(v.W)


def similarity(v):
    rows = word_rows(v)
    return sp.Matrix(len(rows), len(rows), lambda i, j: cosine(rows[i], rows[j]))


def distance(v):
    rows = word_rows(v)
    return sp.Matrix(len(rows), len(rows), lambda i, j: vectors.distance(rows[i], rows[j]))


def nearest(v):
    return [ranked(v.vocabulary, vector_of(v.vocabulary, w), exclude=(w,))[0] for w in v.words]


def nearest_by_dot(v):
    return [ranked(v.vocabulary, vector_of(v.vocabulary, w), (w,), vectors.dot)[0] for w in v.words]


def analogy_vector(v):
    return analogy_vector_of(v.vocabulary, v.terms)


def analogy(v):
    return ranked(v.vocabulary, v.analogy_vector, exclude=analogy_inputs(v))[:1]


def _squared_distance(v):
    rows = word_rows(v)
    return sp.Matrix(len(rows), len(rows), lambda i, j: vectors.squared_distance(rows[i], rows[j]))


DOT_HINT = (
    "Cosine similarity divides the dot product by both lengths; the raw dot product also rewards length."
)
DOT_FOR_COSINE = Mistake("dot-for-cosine", DOT_HINT, lambda v: v.dots)
NEAREST_BY_DOT = Mistake("dot-for-cosine", DOT_HINT, nearest_by_dot)
SQUARED_DISTANCE = Mistake(
    "squared-distance",
    "The distance is the square root of the sum of squared differences.",
    _squared_distance,
)
ANALOGY_BY_DOT = Mistake(
    "dot-for-cosine",
    DOT_HINT,
    lambda v: ranked(v.vocabulary, v.analogy_vector, analogy_inputs(v), vectors.dot)[:1],
)
KEPT_INPUTS = Mistake(
    "kept-inputs",
    "The words of the analogy itself are not candidates for its answer.",
    lambda v: ranked(v.vocabulary, v.analogy_vector)[:1],
)
