"""Word embeddings on a toy table: lengths, dot products, cosine similarity, distance,
nearest neighbours and the analogy king - man + woman ≈ queen.

The vectors are small integers (derive/data/word_vectors.py), so every cosine is an exact surd.
As is standard (word2vec, gensim's most_similar), an analogy's own input words are not
candidates for its answer.
"""

from __future__ import annotations

import re

import sympy as sp

from derive import inputs
from derive.data.word_vectors import DIMENSIONS, VECTORS
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic
from derive.topics import _embeddings_steps as steps
from derive.topics._embeddings_steps import (
    analogy_inputs,
    analogy_text,
    dot_score,
    nearest_by_dot,
    norm,
    ranked,
    vector_of,
    word_rows,
)

MAX_WORDS = 6  # the n×n matrices must fit a page


def _known() -> str:
    return ", ".join(VECTORS)


def _lookup(word: str, option: str) -> str:
    key = word.lower()
    if key not in VECTORS:
        raise InputError(option, f"unknown word {word[:40]!r}; the built-in words are: {_known()}")
    return key


def _words(value, option):
    text = inputs.text(value if isinstance(value, str) else " ".join(map(str, value)), option)
    words = [_lookup(w, option) for w in re.split(r"[\s,]+", text.strip()) if w]
    if len(words) < 2:
        raise InputError(
            option, f"give at least two words to compare, such as 'king queen'; known: {_known()}"
        )
    if len(words) > MAX_WORDS:
        raise InputError(option, f"at most {MAX_WORDS} words fit a worked solution, got {len(words)}")
    repeated = sorted({w for w in words if words.count(w) > 1})
    if repeated:
        raise InputError(option, f"{repeated[0]!r} is given twice")
    return words


_ANALOGY = re.compile(r"\s*([+-]?)\s*([A-Za-z]+)")


def _analogy(value, option):
    """'king - man + woman' as signed terms [(1, 'king'), (-1, 'man'), (1, 'woman')]."""
    text = inputs.text(value, option).strip()
    terms, position = [], 0
    while position < len(text):
        match = _ANALOGY.match(text, position)
        if not match or (terms and not match.group(1)):
            raise InputError(option, "expected words joined by + and -, such as 'king - man + woman'")
        terms.append((-1 if match.group(1) == "-" else 1, _lookup(match.group(2), option)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    if len(terms) < 2:
        raise InputError(
            option, "expected at least two words joined by + and -, such as 'king - man + woman'"
        )
    return terms


def _prepare(options) -> Givens:
    words, terms = options["words"], options["analogy"]
    total = sp.zeros(1, len(DIMENSIONS))
    for sign, word in terms:
        total += sign * vector_of(word)
    if all(e == 0 for e in total):
        raise InputError("--analogy", f"{analogy_text(terms)} is the zero vector, so it has no direction")
    params = {"words": list(words), "analogy": analogy_text(terms)}
    values = {"words": words, "W": sp.Matrix([list(VECTORS[w]) for w in words]), "terms": terms}
    return Givens("Word embeddings: similarity, neighbours and analogies", values, steps.intro(words), params)


def _norms(v):
    return sp.Matrix([[norm(row) for row in word_rows(v)]])


def _dots(v):
    return v.W * v.W.T


def _cosine_matrix(dots, norms):
    n = dots.rows
    return sp.Matrix(n, n, lambda i, j: sp.radsimp(dots[i, j] / (norms[0, i] * norms[0, j])))


def _similarity(v):
    return _cosine_matrix(v.dots, v.norms)


def _distance(v):
    rows = word_rows(v)
    n = len(rows)
    return sp.Matrix(n, n, lambda i, j: norm(rows[i] - rows[j]))


def _squared_distance(v):
    rows = word_rows(v)
    n = len(rows)
    return sp.Matrix(n, n, lambda i, j: sum((e**2 for e in rows[i] - rows[j]), sp.Integer(0)))


def _nearest(v):
    return [ranked(vector_of(w), exclude=(w,))[0] for w in v.words]


def _analogy_vector(v):
    total = sp.zeros(1, len(DIMENSIONS))
    for sign, word in v.terms:
        total += sign * vector_of(word)
    return total


def _analogy_word(v):
    return ranked(v.analogy_vector, exclude=analogy_inputs(v))[:1]


def _analogy_by_dot(v):
    return ranked(v.analogy_vector, exclude=analogy_inputs(v), score=dot_score)[:1]


def _analogy_with_inputs(v):
    return ranked(v.analogy_vector)[:1]


def _sample(rng):
    words = list(VECTORS)
    count = int(rng.integers(2, 5))
    chosen = [words[i] for i in rng.permutation(len(words))[:count]]
    a, b, c = (words[i] for i in rng.permutation(len(words))[:3])
    return {"words": " ".join(chosen), "analogy": f"{a} - {b} + {c}"}


def _reference(options):
    import numpy as np

    from derive import forward

    E = {w: np.array(vec, dtype=float) for w, vec in VECTORS.items()}
    W = np.stack([E[w] for w in options["words"]])  # (n, 4)
    n = len(W)
    x = sum(sign * E[w] for sign, w in options["analogy"])  # (4,)
    return {
        "norms": np.linalg.norm(W, axis=1),
        "dots": W @ W.T,
        "similarity": np.array([[forward.cosine_similarity(W[i], W[j]) for j in range(n)] for i in range(n)]),
        "distance": np.linalg.norm(W[:, None, :] - W[None, :, :], axis=-1),
        "analogy_vector": x,
    }


DOT_HINT = (
    "Cosine similarity divides the dot product by both lengths; the raw dot product also rewards length."
)

TOPIC = Topic(
    name="embeddings",
    summary="Word vectors: cosine similarity, distance, nearest neighbours and king - man + woman ≈ queen",
    options=(
        Option(
            "words",
            f"2 to {MAX_WORDS} built-in words to compare, such as 'king queen man woman'",
            _words,
            required=True,
        ),
        Option(
            "analogy",
            "an analogy of built-in words joined by + and -",
            _analogy,
            default="king - man + woman",
        ),
    ),
    prepare=_prepare,
    stages=(
        Stage("norms", "The length of each vector", _norms, steps.explain_norms),
        Stage("dots", "Dot products", _dots, steps.explain_dots),
        Stage(
            "similarity",
            "Cosine similarity",
            _similarity,
            steps.explain_similarity,
            mistakes=(Mistake("dot-for-cosine", DOT_HINT, lambda v: v.dots),),
        ),
        Stage(
            "distance",
            "Euclidean distance",
            _distance,
            steps.explain_distance,
            mistakes=(
                Mistake(
                    "squared-distance",
                    "The distance is the square root of the sum of squared differences.",
                    _squared_distance,
                ),
            ),
        ),
        Stage(
            "nearest",
            "Nearest neighbours",
            _nearest,
            steps.explain_nearest,
            mistakes=(Mistake("dot-for-cosine", DOT_HINT, nearest_by_dot),),
        ),
        Stage("analogy_vector", "Analogy arithmetic", _analogy_vector, steps.explain_analogy_vector),
        Stage(
            "analogy",
            "The answer to the analogy",
            _analogy_word,
            steps.explain_analogy,
            mistakes=(
                Mistake("dot-for-cosine", DOT_HINT, _analogy_by_dot),
                Mistake(
                    "kept-inputs",
                    "The words of the analogy itself are not candidates for its answer.",
                    _analogy_with_inputs,
                ),
            ),
        ),
    ),
    result="analogy",
    examples={
        "royals": {"words": "king queen man woman"},
        "fruit": {"words": "apple orange banana king", "analogy": "prince - man + woman"},
    },
    example_notes={
        "royals": "king, queen, man and woman; king - man + woman is nearest to queen",
        "fruit": "fruit against a king; prince - man + woman lands exactly on princess",
    },
    sample=_sample,
    reference=_reference,
)
