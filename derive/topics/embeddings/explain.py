"""What each embeddings stage shows a student: the lengths, the Gram matrix, the cosines, the
distances, the candidates table of the neighbours, and the analogy's arithmetic."""

from __future__ import annotations

import sympy as sp

from derive.blocks import (
    eq,
    heatmap,
    needs_approx,
    prose,
    rounded,
    same,
    table,
    unevaluated_dot,
    unevaluated_sum,
    user,
)
from derive.exact import vectors as exact_vectors
from derive.topics.embeddings.figures import word_plot
from derive.topics.embeddings.stages import (
    analogy_inputs,
    analogy_text,
    cosine,
    nearest_by_dot,
    numeric,
    ranked,
    vector_of,
    word_rows,
)

a_sym, b_sym = sp.symbols("a b")


def _label(j: int) -> sp.Symbol:
    return sp.Symbol(f"w_{j + 1}")


def _vocabulary_prose(vocabulary):
    if vocabulary.builtin:
        return prose(
            "An embedding gives every word a vector, so that words used alike point alike. Real models "
            "learn hundreds of dimensions; this toy table has four, chosen by hand to mean roughly "
            "royalty, gender (+1 male, -1 female), person and food:"
        )
    source = (
        "given with --vectors"
        if vocabulary.source == "--vectors"
        else "read from the word2vec text file {file}"
    )
    return prose(
        "An embedding gives every word a vector, so that words used alike point alike. The table here has "
        "{n} words of {d} dimensions, " + source + ":",
        n=len(vocabulary.vectors),
        d=len(vocabulary.dimensions),
        file=user(vocabulary.source),
    )


def intro(words, vocabulary) -> tuple:
    """The vocabulary, and which word is w_1, w_2, ...: the rows and columns of every matrix."""
    header = ["word", *vocabulary.dimensions]
    listing = table(header, [[user(w), *vec] for w, vec in vocabulary.vectors.items()])
    names = ", ".join(f"{{s{j}}} = {{u{j}}}" for j in range(len(words)))
    fields = {f"s{j}": _label(j) for j in range(len(words))} | {f"u{j}": user(w) for j, w in enumerate(words)}
    return (
        _vocabulary_prose(vocabulary),
        listing,
        prose(f"The words compared are {names}, in this order (the rows and columns below).", **fields),
    )


def explain_norms(v):
    written = [
        sp.sqrt(unevaluated_sum([sp.Pow(e, 2, evaluate=False) for e in row]), evaluate=False)
        for row in word_rows(v)
    ]
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


def explain_dots(v):
    rows = word_rows(v)
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
        eq(sp.Symbol("G"), _gram_symbol(v.W.rows, v.W.cols), v.dots),
    )


def _gram_symbol(n, cols):
    W = sp.MatrixSymbol("W", n, cols)
    return sp.MatMul(W, W.T, evaluate=False)


def _pair(i, j):
    return sp.Mul(_label(i), _label(j), evaluate=False)


def _best_pair(matrix, closest=False):
    """The pair (i < j) with the largest entry, or the smallest with ``closest``; ties go to the first."""
    pairs = [(i, j) for i in range(matrix.rows) for j in range(i + 1, matrix.cols)]
    sign = -1 if closest else 1
    return max(pairs, key=lambda p: (sign * numeric(matrix[p]), -p[0], -p[1]))


def explain_similarity(v):
    lengths = sp.Mul(v.norms[0, 0], v.norms[0, 1], evaluate=False)
    written = sp.Mul(v.dots[0, 1], sp.Pow(lengths, -1, evaluate=False), evaluate=False)
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
            about=rounded(v.similarity[i, j]),
            a=user(v.words[i]),
            b=user(v.words[j]),
            c=v.similarity[i, j],
        ),
        heatmap("embeddings-cosine", "Cosine similarity", v.similarity, v.words, v.words),
        word_plot(v.vocabulary, v.words),
    ]
    return tuple(blocks)


def _about(value) -> str:
    """`` ≈ {about}`` after an exact value in prose, when the decimals add something; the caller passes
    the value as the field ``about`` (``blocks.rounded``), so the renderer rounds it."""
    return " ≈ {about}" if needs_approx(value) else ""


def explain_distance(v):
    rows = word_rows(v)
    diff = rows[0] - rows[1]
    written = sp.sqrt(unevaluated_sum([sp.Pow(e, 2, evaluate=False) for e in diff]), evaluate=False)
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


def explain_nearest(v):
    header = ["candidate", *[user(w) for w in v.words]]
    rows = []
    for candidate in v.vocabulary:
        cells = [user(candidate)]
        for w in v.words:
            cells.append(
                "itself"
                if w == candidate
                else rounded(cosine(vector_of(v.vocabulary, w), vector_of(v.vocabulary, candidate)))
            )
        rows.append(cells)
    blocks = [
        prose(
            "A word's nearest neighbour is the other word of the whole table with the largest cosine. "
            "The cosine of each given word (columns) with every word of the table (rows):"
        ),
        table(header, rows),
    ]
    for w, best in zip(v.words, v.nearest):
        value = cosine(vector_of(v.vocabulary, w), vector_of(v.vocabulary, best))
        blocks.append(
            prose(
                "The nearest neighbour of {w} is {best}, with cosine {c}" + _about(value) + ".",
                about=rounded(value),
                w=user(w),
                best=user(best),
                c=value,
            )
        )
    differ = [(w, c, d) for w, c, d in zip(v.words, v.nearest, nearest_by_dot(v)) if c != d]
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


def explain_analogy_vector(v):
    vectors = [sp.ImmutableMatrix(vector_of(v.vocabulary, w)) for _, w in v.terms]
    signed = [
        vector if sign > 0 else sp.MatMul(-1, vector, evaluate=False)
        for (sign, _), vector in zip(v.terms, vectors)
    ]
    written = sp.MatAdd(*signed, evaluate=False)

    names = ", ".join(f"{{u{j}}}" for j in range(len(v.terms)))
    fields = {f"u{j}": user(w) for j, (_, w) in enumerate(v.terms)}
    blocks = (
        prose(
            "Analogy arithmetic: {text} adds and subtracts the vectors of " + names + ". Subtracting one "
            "word and adding another moves along the direction between them"
            + (" (here from male to female)." if v.builtin else "."),
            text=user(analogy_text(v.terms)),
            **fields,
        ),
        eq(sp.Symbol("x"), written, v.analogy_vector),
    )
    if v.builtin:
        return blocks
    return blocks + (
        prose(
            "The vectors are used as given. word2vec's and gensim's analogy search (most_similar) first "
            "scales every vector to length 1, which gives the same answer when the given vectors have "
            "length 1 and may give another when their lengths differ."
        ),
    )


def explain_analogy(v):
    x = v.analogy_vector
    excluded = analogy_inputs(v)
    rows = []
    for word in ranked(v.vocabulary, x):
        value = cosine(x, vector_of(v.vocabulary, word))
        rows.append([user(word), rounded(value), "input word: not a candidate" if word in excluded else ""])
    best = v.analogy[0]
    best_vector = vector_of(v.vocabulary, best)
    value = cosine(x, best_vector)
    dot, lengths = exact_vectors.dot(x, best_vector), (exact_vectors.norm(x), exact_vectors.norm(best_vector))
    written = sp.Mul(dot, sp.Pow(sp.Mul(*lengths, evaluate=False), -1, evaluate=False), evaluate=False)

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
    top = ranked(v.vocabulary, x)[0]
    if top in excluded:
        blocks.append(
            prose(
                "Without the exclusion the answer would be the input word {top}, an example of why it is "
                "needed.",
                top=user(top),
            )
        )
    if value == 1:
        where = "this toy table" if v.builtin else "this table"
        blocks.append(prose(f"The cosine is exactly 1: the analogy holds exactly in {where}."))
    return tuple(blocks)
