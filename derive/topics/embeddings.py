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
from derive.blocks import (
    eq,
    heatmap,
    needs_approx,
    prose,
    same,
    table,
    unevaluated_dot,
    unevaluated_sum,
    user,
    vectors,
)
from derive.data.word_vectors import DIMENSIONS, VECTORS
from derive.errors import InputError
from derive.model import Givens, Mistake, Option, Stage, Topic

MAX_WORDS = 6  # the n×n matrices must fit a page
WORK_DPS = 30
W = sp.Symbol("w")
a_sym, b_sym = sp.symbols("a b")


def _vector(word: str) -> sp.Matrix:
    return sp.Matrix([VECTORS[word]])


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


def _analogy_text(terms) -> str:
    text = ("-" if terms[0][0] < 0 else "") + terms[0][1]
    return text + "".join(f" {'-' if s < 0 else '+'} {w}" for s, w in terms[1:])


def _label(j: int) -> sp.Symbol:
    return sp.Symbol(f"w_{j + 1}")


def _prepare(options) -> Givens:
    words, terms = options["words"], options["analogy"]
    total = sp.zeros(1, len(DIMENSIONS))
    for sign, word in terms:
        total += sign * _vector(word)
    if all(e == 0 for e in total):
        raise InputError("--analogy", f"{_analogy_text(terms)} is the zero vector, so it has no direction")
    params = {"words": list(words), "analogy": _analogy_text(terms)}
    header = ["word", *DIMENSIONS]
    vocabulary = table(header, [[user(w), *map(sp.Integer, vec)] for w, vec in VECTORS.items()])
    names = ", ".join(f"{{s{j}}} = {{u{j}}}" for j in range(len(words)))
    fields = {f"s{j}": _label(j) for j in range(len(words))} | {f"u{j}": user(w) for j, w in enumerate(words)}
    intro = (
        prose(
            "An embedding gives every word a vector, so that words used alike point alike. Real models "
            "learn hundreds of dimensions; this toy table has four, chosen by hand to mean roughly "
            "royalty, gender (+1 male, -1 female), person and food:"
        ),
        vocabulary,
        prose(f"The words compared are {names}, in this order (the rows and columns below).", **fields),
    )
    values = {"words": words, "W": sp.Matrix([list(VECTORS[w]) for w in words]), "terms": terms}
    return Givens("Word embeddings: similarity, neighbours and analogies", values, intro, params)


def _rows(v):
    return [v.W.row(j) for j in range(v.W.rows)]


def _norm(vector):
    return sp.sqrt(sum((e**2 for e in vector), sp.Integer(0)))


def _norms(v):
    return sp.Matrix([[_norm(row) for row in _rows(v)]])


def _explain_norms(v):
    with sp.evaluate(False):
        written = [sp.sqrt(unevaluated_sum([sp.Pow(e, 2) for e in row])) for row in _rows(v)]
    blocks = [prose("The length of each vector is the square root of the sum of its squared entries:")]
    for j in range(v.W.rows):
        value = v.norms[0, j]
        parts = (
            [sp.Abs(_label(j)), written[j], value]
            if str(written[j]) != str(value)
            else [sp.Abs(_label(j)), value]
        )
        blocks.append(eq(*parts, approx=value if needs_approx(value) else None))
    return tuple(blocks)


def _dots(v):
    return v.W * v.W.T


def _explain_dots(v):
    rows = _rows(v)
    return (
        prose(
            "The dot product of two words multiplies their entries pairwise and adds the products. "
            "For {a} and {b}:",
            a=_label(0),
            b=_label(1),
        ),
        eq(_pair(0, 1), unevaluated_dot(list(rows[0]), list(rows[1])), v.dots[0, 1]),
        prose(
            "Every pair at once: with the word vectors as the rows of W, the entry in row i and column j "
            "of {G} is the dot product of word i with word j, and the diagonal holds each word's squared "
            "length.",
            G=sp.Symbol("G"),
        ),
        eq(sp.Symbol("G"), _gram_symbol(v.W.rows), v.dots),
    )


def _gram_symbol(n):
    W = sp.MatrixSymbol("W", n, len(DIMENSIONS))
    return sp.MatMul(W, W.T, evaluate=False)


def _pair(i, j):
    return sp.Mul(_label(i), _label(j), evaluate=False)


def _cosine_matrix(dots, norms):
    n = dots.rows
    return sp.Matrix(n, n, lambda i, j: sp.radsimp(dots[i, j] / (norms[0, i] * norms[0, j])))


def _similarity(v):
    return _cosine_matrix(v.dots, v.norms)


def _numeric(value):
    return sp.N(value, WORK_DPS)


def _best_pair(matrix, closest=False):
    """The pair (i < j) with the largest entry, or the smallest with ``closest``; ties go to the first."""
    pairs = [(i, j) for i in range(matrix.rows) for j in range(i + 1, matrix.cols)]
    sign = -1 if closest else 1
    return max(pairs, key=lambda p: (sign * _numeric(matrix[p]), -p[0], -p[1]))


def _explain_similarity(v):
    with sp.evaluate(False):
        written = sp.Mul(v.dots[0, 1], sp.Pow(sp.Mul(v.norms[0, 0], v.norms[0, 1]), -1))
    value = v.similarity[0, 1]
    i, j = _best_pair(v.similarity)
    blocks = [
        prose(
            "The cosine similarity divides the dot product by both lengths, so only the directions "
            "count: 1 for the same direction, 0 for a right angle, -1 for opposite directions."
        ),
        eq(
            sp.Function("cos")(a_sym, b_sym),
            sp.Mul(a_sym, b_sym, evaluate=False) / (sp.Abs(a_sym) * sp.Abs(b_sym)),
        ),
        prose("For {a} and {b}:", a=_label(0), b=_label(1)),
        eq(
            sp.Function("cos")(_label(0), _label(1)),
            written,
            value,
            approx=value if needs_approx(value) else None,
        ),
        prose("Every pair (the diagonal is 1: each word points exactly its own way):"),
        eq(sp.Symbol("S"), v.similarity, approx=v.similarity),
        prose(
            "The most similar pair is {a} and {b}, with cosine {c}" + _about(v.similarity[i, j]) + ".",
            a=user(v.words[i]),
            b=user(v.words[j]),
            c=v.similarity[i, j],
        ),
        heatmap("embeddings-cosine", "Cosine similarity", v.similarity, v.words, v.words),
        _plot(v.words),
    ]
    return tuple(blocks)


def _plot(words):
    """The words' vectors, centred and projected onto their two principal directions (signs fixed)."""
    import numpy as np

    table = np.array([[float(x) for x in VECTORS[w]] for w in words])
    table -= table.mean(axis=0)
    _, _, axes = np.linalg.svd(table, full_matrices=False)
    axes = axes[:2] * np.sign(axes[:2, [int(np.argmax(np.abs(row))) for row in axes[:2]]].diagonal())[:, None]
    points = table @ axes.T
    return vectors(
        "embeddings-plot",
        "Word vectors (centred) on their two main directions",
        {w: (round(float(x), 6), round(float(y), 6)) for w, (x, y) in zip(words, points)},
    )


def _about(value) -> str:
    """`` ≈ 0.9282`` after an exact value in prose, when the decimals add something."""
    return f" ≈ {_decimal(value)}" if needs_approx(value) else ""


def _distance(v):
    rows = _rows(v)
    n = len(rows)
    return sp.Matrix(n, n, lambda i, j: _norm(rows[i] - rows[j]))


def _squared_distance(v):
    rows = _rows(v)
    n = len(rows)
    return sp.Matrix(n, n, lambda i, j: sum((e**2 for e in rows[i] - rows[j]), sp.Integer(0)))


def _explain_distance(v):
    rows = _rows(v)
    diff = rows[0] - rows[1]
    with sp.evaluate(False):
        written = sp.sqrt(unevaluated_sum([sp.Pow(e, 2) for e in diff]))
    value = v.distance[0, 1]
    blocks = [
        prose(
            "The Euclidean distance is the length of the difference of two vectors. Unlike the cosine it "
            "also counts length: a long and a short vector pointing the same way are far apart. For {a} "
            "and {b}, the difference is {d}, so",
            a=_label(0),
            b=_label(1),
            d=same(_label(0) - _label(1), diff),
        ),
        eq(
            sp.Abs(_label(0) - _label(1)),
            written,
            value,
            approx=value if needs_approx(value) else None,
        ),
        prose("Every pair (0 on the diagonal):"),
        eq(sp.Symbol("D"), v.distance, approx=v.distance),
    ]
    close, best = _best_pair(v.distance, closest=True), _best_pair(v.similarity)
    verdict = (
        "is not the most similar pair by cosine: the two can rank pairs differently"
        if close != best
        else "is also the most similar pair by cosine; that need not hold, since distance also counts length"
    )
    blocks.append(
        prose(
            "The closest pair by distance, {a} and {b}, " + verdict + ". Search and retrieval mostly use "
            "the cosine (or 1 - cosine, the cosine distance).",
            a=user(v.words[close[0]]),
            b=user(v.words[close[1]]),
        )
    )
    return tuple(blocks)


def _cosine(a, b):
    return sp.radsimp((a * b.T)[0, 0] / (_norm(a) * _norm(b)))


def _ranked(vector, exclude=(), score=None):
    """Vocabulary words by decreasing score (cosine unless given), ties in table order."""
    score = score or _cosine
    order = list(VECTORS)
    candidates = [w for w in order if w not in exclude]
    return sorted(candidates, key=lambda w: (-_numeric(score(vector, _vector(w))), order.index(w)))


def _dot_score(a, b):
    return (a * b.T)[0, 0]


def _nearest(v):
    return [_ranked(_vector(w), exclude=(w,))[0] for w in v.words]


def _nearest_by_dot(v):
    return [_ranked(_vector(w), exclude=(w,), score=_dot_score)[0] for w in v.words]


def _decimal(value) -> str:
    return f"{float(_numeric(value)):.4f}"


def _explain_nearest(v):
    header = ["candidate", *[user(w) for w in v.words]]
    rows = []
    for candidate in VECTORS:
        cells = [user(candidate)]
        for w in v.words:
            cells.append("itself" if w == candidate else _decimal(_cosine(_vector(w), _vector(candidate))))
        rows.append(cells)
    blocks = [
        prose(
            "A word's nearest neighbour is the other word of the whole table with the largest cosine. "
            "The cosine of each given word (columns) with every word of the table (rows):"
        ),
        table(header, rows),
    ]
    for w, best in zip(v.words, v.nearest):
        value = _cosine(_vector(w), _vector(best))
        blocks.append(
            prose(
                "The nearest neighbour of {w} is {best}, with cosine {c}" + _about(value) + ".",
                w=user(w),
                best=user(best),
                c=value,
            )
        )
    differ = [(w, c, d) for w, c, d in zip(v.words, v.nearest, _nearest_by_dot(v)) if c != d]
    if differ:
        w, c, d = differ[0]
        blocks.append(
            prose(
                "The raw dot product would pick {d} for {w} instead of {c}: it grows with length, so long "
                "vectors win it whatever their direction. That is why similarity uses the cosine.",
                d=user(d),
                w=user(w),
                c=user(c),
            )
        )
    return tuple(blocks)


def _analogy_vector(v):
    total = sp.zeros(1, len(DIMENSIONS))
    for sign, word in v.terms:
        total += sign * _vector(word)
    return total


def _explain_analogy_vector(v):
    vectors = [sp.ImmutableMatrix(_vector(w)) for _, w in v.terms]
    with sp.evaluate(False):
        signed = [
            vector if sign > 0 else sp.MatMul(-1, vector) for (sign, _), vector in zip(v.terms, vectors)
        ]
        written = sp.MatAdd(*signed)

    names = ", ".join(f"{{u{j}}}" for j in range(len(v.terms)))
    fields = {f"u{j}": user(w) for j, (_, w) in enumerate(v.terms)}
    return (
        prose(
            "Analogy arithmetic: {text} adds and subtracts the vectors of " + names + ". Subtracting one "
            "word and adding another moves along the direction between them (here from male to female).",
            text=user(_analogy_text(v.terms)),
            **fields,
        ),
        eq(sp.Symbol("x"), written, v.analogy_vector),
    )


def _inputs(v):
    return {w for _, w in v.terms}


def _analogy_word(v):
    return _ranked(v.analogy_vector, exclude=_inputs(v))[:1]


def _analogy_by_dot(v):
    return _ranked(v.analogy_vector, exclude=_inputs(v), score=_dot_score)[:1]


def _analogy_with_inputs(v):
    return _ranked(v.analogy_vector)[:1]


def _explain_analogy(v):
    x = v.analogy_vector
    excluded = _inputs(v)
    rows = []
    for word in _ranked(x):
        value = _cosine(x, _vector(word))
        rows.append([user(word), _decimal(value), "input word: not a candidate" if word in excluded else ""])
    best = v.analogy[0]
    value = _cosine(x, _vector(best))
    dot, lengths = (x * _vector(best).T)[0, 0], (_norm(x), _norm(_vector(best)))
    with sp.evaluate(False):
        written = sp.Mul(dot, sp.Pow(sp.Mul(*lengths), -1))

    blocks = [
        prose(
            "The answer is the word whose vector has the largest cosine with {x}. As is standard "
            "(word2vec, gensim), the words of the analogy itself are not candidates: the result tends "
            "to stay close to its inputs, which would otherwise often win.",
            x=sp.Symbol("x"),
        ),
        table(("word", "cosine with x", "note"), rows),
        prose("The answer is {best}. With {w} its vector:", best=user(best), w=sp.Symbol("w")),
        eq(
            sp.Function("cos")(sp.Symbol("x"), sp.Symbol("w")),
            written,
            value,
            approx=value if needs_approx(value) else None,
        ),
    ]
    top = _ranked(x)[0]
    if top in excluded:
        blocks.append(
            prose(
                "Without the exclusion the answer would be the input word {top}, an example of why it is "
                "needed.",
                top=user(top),
            )
        )
    if value == 1:
        blocks.append(prose("The cosine is exactly 1: the analogy holds exactly in this toy table."))
    return tuple(blocks)


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
        Stage("norms", "The length of each vector", _norms, _explain_norms),
        Stage("dots", "Dot products", _dots, _explain_dots),
        Stage(
            "similarity",
            "Cosine similarity",
            _similarity,
            _explain_similarity,
            mistakes=(Mistake("dot-for-cosine", DOT_HINT, lambda v: v.dots),),
        ),
        Stage(
            "distance",
            "Euclidean distance",
            _distance,
            _explain_distance,
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
            _explain_nearest,
            mistakes=(Mistake("dot-for-cosine", DOT_HINT, _nearest_by_dot),),
        ),
        Stage("analogy_vector", "Analogy arithmetic", _analogy_vector, _explain_analogy_vector),
        Stage(
            "analogy",
            "The answer to the analogy",
            _analogy_word,
            _explain_analogy,
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
