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
from derive.model import Givens, Option, Stage, Topic
from derive.topics.embeddings import explain, stages

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
    vocabulary = VECTORS
    if all(e == 0 for e in stages.analogy_vector_of(vocabulary, terms)):
        raise InputError(
            "--analogy", f"{stages.analogy_text(terms)} is the zero vector, so it has no direction"
        )
    params = {"words": list(words), "analogy": stages.analogy_text(terms)}
    values = {
        "words": words,
        "W": sp.Matrix([list(vocabulary[w]) for w in words]),
        "terms": terms,
        "vocabulary": vocabulary,
    }
    intro = explain.intro(words, vocabulary, DIMENSIONS)
    return Givens("Word embeddings: similarity, neighbours and analogies", values, intro, params)


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
        Stage("norms", "The length of each vector", stages.norms, explain.explain_norms),
        Stage("dots", "Dot products", stages.dots, explain.explain_dots),
        Stage(
            "similarity",
            "Cosine similarity",
            stages.similarity,
            explain.explain_similarity,
            mistakes=(stages.DOT_FOR_COSINE,),
        ),
        Stage(
            "distance",
            "Euclidean distance",
            stages.distance,
            explain.explain_distance,
            mistakes=(stages.SQUARED_DISTANCE,),
        ),
        Stage(
            "nearest",
            "Nearest neighbours",
            stages.nearest,
            explain.explain_nearest,
            mistakes=(stages.NEAREST_BY_DOT,),
        ),
        Stage("analogy_vector", "Analogy arithmetic", stages.analogy_vector, explain.explain_analogy_vector),
        Stage(
            "analogy",
            "The answer to the analogy",
            stages.analogy,
            explain.explain_analogy,
            mistakes=(stages.ANALOGY_BY_DOT, stages.KEPT_INPUTS),
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
