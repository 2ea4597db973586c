"""Word embeddings: lengths, dot products, cosine similarity, distance, nearest neighbours and
the analogy king - man + woman ≈ queen.

By default the vectors are a toy table of small integers (derive/data/word_vectors.py), so every
cosine is an exact surd; ``--vectors`` or ``--vectors-file`` (word2vec text format) replace it, so
that published analogies can be entered. As is standard (word2vec, gensim's most_similar), an
analogy's own input words are not candidates for its answer.
"""

from __future__ import annotations

import re

import sympy as sp

from derive import inputs
from derive.data.word_vectors import VECTORS
from derive.errors import InputError
from derive.model import Givens, Option, Stage, Topic
from derive.topics.embeddings import explain, stages, vocabulary

MAX_WORDS = 6  # the n×n matrices must fit a page
DEFAULT_ANALOGY = "king - man + woman"


def _words(value, option):
    text = inputs.text(value if isinstance(value, str) else " ".join(map(str, value)), option)
    return [inputs.label(w, option) for w in re.split(r"[\s,]+", text.strip()) if w]


_ANALOGY = re.compile(r"\s*([+-]?)\s*(\w+)")


def _analogy(value, option):
    """'king - man + woman' as signed terms [(1, 'king'), (-1, 'man'), (1, 'woman')], words not yet looked up."""
    text = inputs.text(value, option).strip()
    terms, position = [], 0
    while position < len(text):
        match = _ANALOGY.match(text, position)
        if not match or (terms and not match.group(1)):
            raise InputError(option, "expected words joined by + and -, such as 'king - man + woman'")
        terms.append((-1 if match.group(1) == "-" else 1, match.group(2)))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    if len(terms) < 2:
        raise InputError(
            option, "expected at least two words joined by + and -, such as 'king - man + woman'"
        )
    return terms


def _table(options) -> vocabulary.Vocabulary:
    if options["vectors"] is not None and options["vectors_file"] is not None:
        raise InputError("--vectors-file", "give the vectors either with --vectors or in a file, not both")
    return options["vectors"] or options["vectors_file"] or vocabulary.BUILT_IN


def _looked_up_words(words, table) -> list[str]:
    found = [table.lookup(w, "--words") for w in words]
    if len(found) < 2:
        raise InputError(
            "--words", f"give at least two words to compare, such as 'king queen'; known: {table.known()}"
        )
    if len(found) > MAX_WORDS:
        raise InputError("--words", f"at most {MAX_WORDS} words fit a worked solution, got {len(found)}")
    repeated = sorted({w for w in found if found.count(w) > 1})
    if repeated:
        raise InputError("--words", f"{repeated[0]!r} is given twice")
    return found


def _looked_up_terms(terms, table):
    if terms is None:
        terms = _analogy(DEFAULT_ANALOGY, "--analogy")
        if not all(word in table.vectors for _, word in terms):
            raise InputError(
                "--analogy",
                f"give an analogy of the given words, such as 'a - b + c' (the default, {DEFAULT_ANALOGY}, "
                "needs king, man and woman)",
            )
    return [(sign, table.lookup(word, "--analogy")) for sign, word in terms]


def _prepare(options) -> Givens:
    table = _table(options)
    words = _looked_up_words(options["words"], table)
    terms = _looked_up_terms(options["analogy"], table)
    if all(e == 0 for e in stages.analogy_vector_of(table.vectors, terms)):
        raise InputError(
            "--analogy", f"{stages.analogy_text(terms)} is the zero vector, so it has no direction"
        )
    params = {
        "words": list(words),
        "analogy": stages.analogy_text(terms),
        "vectors": None if table.builtin else {w: [str(e) for e in vec] for w, vec in table.vectors.items()},
    }
    values = {
        "words": words,
        "W": sp.Matrix([list(table.vectors[w]) for w in words]),
        "terms": terms,
        "vocabulary": table.vectors,
        "builtin": table.builtin,
    }
    intro = explain.intro(words, table)
    return Givens("Word embeddings: similarity, neighbours and analogies", values, intro, params)


def _sample(rng):
    if rng.random() < 0.3:
        return _sample_given_vectors(rng)
    words = list(VECTORS)
    count = int(rng.integers(2, 5))
    chosen = [words[i] for i in rng.permutation(len(words))[:count]]
    a, b, c = (words[i] for i in rng.permutation(len(words))[:3])
    return {"words": " ".join(chosen), "analogy": f"{a} - {b} + {c}"}


def _sample_given_vectors(rng):
    """Five words w1..w5 with small nonzero integer vectors, and an analogy that is not zero."""
    size = int(rng.integers(2, 5))
    while True:
        table = rng.integers(-3, 4, (5, size))
        if table.any(axis=1).all() and (table[0] - table[1] + table[2]).any():
            break
    text = "; ".join(f"w{j + 1}: " + " ".join(str(int(x)) for x in row) for j, row in enumerate(table))
    return {"vectors": text, "words": "w1 w2 w4", "analogy": "w1 - w2 + w3"}


def _reference(options):
    import numpy as np

    from derive import forward

    table = _table(options)
    E = {w: np.array([float(x) for x in vec]) for w, vec in table.vectors.items()}
    W = np.stack([E[w] for w in _looked_up_words(options["words"], table)])  # (n, d)
    n = len(W)
    x = sum(sign * E[w] for sign, w in _looked_up_terms(options["analogy"], table))  # (d,)
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
            f"2 to {MAX_WORDS} words of the table to compare, such as 'king queen man woman'",
            _words,
            required=True,
        ),
        Option(
            "analogy",
            f"an analogy of the table's words joined by + and - (default: {DEFAULT_ANALOGY})",
            _analogy,
        ),
        Option(
            "vectors",
            "your own word vectors instead of the built-in table, such as 'king: 1 2 3; queen: 1 -2 3'",
            vocabulary.from_text,
        ),
        Option(
            "vectors_file",
            "a word2vec text file of word vectors ('word x1 x2 ...' per line; a 'count dimensions' "
            "header line is optional)",
            vocabulary.from_file,
            path="file",
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
        "given": {
            "vectors": "king: 3 1; queen: 3 -1; man: 1 1; woman: 1 -1; apple: -1 0",
            "words": "king queen apple",
        },
    },
    example_notes={
        "royals": "king, queen, man and woman; king - man + woman is nearest to queen",
        "fruit": "fruit against a king; prince - man + woman lands exactly on princess",
        "given": "vectors of your own with --vectors: two dimensions, king - man + woman lands exactly on queen",
    },
    sample=_sample,
    reference=_reference,
)
