"""embeddings: exact surds against NumPy, neighbours and analogies, misconceptions, CLI errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from conftest import require

from derive import check, derive, registry
from derive.api import parse_options
from derive.data.word_vectors import VECTORS
from derive.model import run
from derive.render import render

TOPIC = registry.get("embeddings")
E = {w: np.array(v, dtype=float) for w, v in VECTORS.items()}


def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _nearest(vector, exclude=(), table=E):
    """Brute force over the table with NumPy, independent of the topic's ranking code."""
    candidates = [w for w in table if w not in exclude]
    return max(candidates, key=lambda w: _cos(vector, table[w]))


def _table_of(raw):
    """The vectors of a sample: the built-in table, or the --vectors text split here by hand."""
    if "vectors" not in raw:
        return E
    entries = (entry.split(":") for entry in raw["vectors"].split(";"))
    return {word.strip(): np.array(numbers.split(), dtype=float) for word, numbers in entries}


def _matrix(value):
    return np.array(value.evalf(30).tolist(), dtype=float)


@pytest.mark.parametrize("seed", range(12))
def test_exact_values_equal_numpy_on_random_words(seed):
    raw = TOPIC.sample(np.random.default_rng(seed))
    options = parse_options(TOPIC, raw)
    answers = run(TOPIC, TOPIC.prepare(options)).answers
    E = _table_of(raw)
    words = [w.lower() for w in options["words"]]
    W = np.stack([E[w] for w in words])
    np.testing.assert_allclose(_matrix(answers["norms"]).ravel(), np.linalg.norm(W, axis=1), rtol=1e-12)
    np.testing.assert_allclose(_matrix(answers["dots"]), W @ W.T)
    cosines = np.array([[_cos(a, b) for b in W] for a in W])
    np.testing.assert_allclose(_matrix(answers["similarity"]), cosines, rtol=1e-12, atol=1e-12)
    distances = np.sqrt(((W[:, None] - W[None]) ** 2).sum(-1))
    np.testing.assert_allclose(_matrix(answers["distance"]), distances, rtol=1e-12, atol=1e-12)
    assert answers["nearest"] == [_nearest(E[w], exclude=(w,), table=E) for w in words]
    x = sum(sign * E[w.lower()] for sign, w in options["analogy"])
    np.testing.assert_allclose(_matrix(answers["analogy_vector"]).ravel(), x)
    exclude = {w.lower() for _, w in options["analogy"]}
    assert answers["analogy"] == [_nearest(x, exclude=exclude, table=E)]


def test_king_minus_man_plus_woman_is_queen():
    answers = derive("embeddings", words="king queen man woman").answers
    assert answers["analogy_vector"] == sp.Matrix([[5, -1, 3, 0]])
    assert answers["analogy"] == ["queen"]
    # independently: the NumPy brute force agrees, and queen wins by a clear margin
    x = E["king"] - E["man"] + E["woman"]
    assert _nearest(x, exclude=("king", "man", "woman")) == "queen"
    assert _cos(x, E["queen"]) == pytest.approx(30 / np.sqrt(35 * 26))


def test_cosines_are_exact_surds():
    answers = derive("embeddings", words="king queen man woman").answers
    S = answers["similarity"]
    assert S[0, 1] == sp.Rational(28) / sp.sqrt(35 * 26)
    assert S[2, 3] == sp.Rational(15, 17)
    assert all(S[i, i] == 1 for i in range(4))
    assert answers["distance"][2, 3] == 2
    assert answers["norms"] == sp.Matrix([[sp.sqrt(35), sp.sqrt(26), sp.sqrt(17), sp.sqrt(17)]])


def test_nearest_neighbours_of_the_royal_example():
    answers = derive("embeddings", example="royals").answers
    assert answers["nearest"] == ["prince", "princess", "woman", "man"]


def test_an_exact_analogy():
    answers = derive("embeddings", example="fruit").answers
    assert answers["analogy"] == ["princess"]
    assert "exactly 1" in str(derive("embeddings", example="fruit"))


def test_words_are_case_insensitive_and_api_lists_work():
    assert derive("embeddings", words=["King", "QUEEN"]).answers["dots"][0, 1] == 28


def test_excluded_inputs_are_said_when_they_would_win():
    text = str(derive("embeddings", words="king queen", analogy="king + man"))
    assert "Without the exclusion" in text


# --- the checker -------------------------------------------------------------------------------------

ROYALS = {"words": "king queen man woman"}


def _rows(matrix):
    return "; ".join(" ".join(f"{x:.6f}" for x in row) for row in matrix)


def test_correct_answers_fire_no_misconception():
    W = np.stack([E[w] for w in ("king", "queen", "man", "woman")])
    cosines = np.array([[_cos(a, b) for b in W] for a in W])
    answers = [
        f"similarity={_rows(cosines)}",
        f"dots={_rows(W @ W.T)}",
        "nearest=prince princess woman man",
        "analogy_vector=5 -1 3 0",
        "analogy=queen",
    ]
    report = check.check(TOPIC, ROYALS, answers)
    assert report.all_correct, [(i.id, i.verdict) for i in report.items]
    assert all(item.mistake is None for item in report.items)


def test_dot_for_cosine_is_named_for_the_matrix_and_the_neighbours():
    W = np.stack([E[w] for w in ("king", "queen", "man", "woman")])
    report = check.check(TOPIC, ROYALS, [f"similarity={_rows(W @ W.T)}", "nearest=queen king woman man"])
    assert report.item("similarity").mistake == "dot-for-cosine"
    assert report.item("nearest").mistake == "dot-for-cosine"
    assert "length" in report.item("similarity").hint


def test_kept_inputs_is_named():
    x = E["king"] + E["man"]
    with_inputs = _nearest(x)
    assert with_inputs == "king" and _nearest(x, exclude=("king", "man")) != "king"
    options = {"words": "king queen", "analogy": "king + man"}
    assert check.check(TOPIC, options, [f"analogy={with_inputs}"]).item("analogy").mistake == "kept-inputs"


def test_dot_for_cosine_is_named_for_the_analogy():
    x = E["king"] - E["woman"] + E["man"]
    inputs = ("king", "woman", "man")
    by_dot = max((w for w in E if w not in inputs), key=lambda w: float(x @ E[w]))
    assert (by_dot, _nearest(x, exclude=inputs)) == ("queen", "prince")
    options = {"words": "king queen", "analogy": "king - woman + man"}
    assert check.check(TOPIC, options, ["analogy=prince"]).all_correct
    assert check.check(TOPIC, options, ["analogy=queen"]).item("analogy").mistake == "dot-for-cosine"


def test_squared_distance_is_named():
    item = check.check(TOPIC, ROYALS, ["distance=0 5 26 30; 5 0 21 17; 26 21 0 4; 30 17 4 0"]).item(
        "distance"
    )
    assert item.mistake == "squared-distance"


# --- command-line errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,option,words",
    [
        (["--words", "king unicorn"], "--words", "unknown word 'unicorn'"),
        (["--words", "king"], "--words", "at least two"),
        (["--words", "king king"], "--words", "twice"),
        (["--words", "king queen man woman prince princess apple"], "--words", "at most"),
        (["--words", "king queen", "--analogy", "king - dragon"], "--analogy", "unknown word 'dragon'"),
        (["--words", "king queen", "--analogy", "king man"], "--analogy", "joined by + and -"),
        (["--words", "king queen", "--analogy", "king - king"], "--analogy", "zero vector"),
        (["--words", "king queen", "--analogy", "king * 2"], "--analogy", "joined by + and -"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option, words):
    code, out, err = cli("embeddings", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0], err


def test_unknown_word_lists_the_known_words(cli):
    _, _, err = cli("embeddings", "--words", "king unicorn")
    for word in VECTORS:
        assert word in err


# --- vectors of your own: --vectors and --vectors-file (word2vec text format) ----------------------

CAPITALS = "paris: 3 1 0; france: 2 1 -1; rome: 3 -1 1; italy: 2 -1 0; berlin: 3 0 2; germany: 2 0 1"


def _split(text):
    return {w.strip(): np.array(n.split(), dtype=float) for w, n in (e.split(":") for e in text.split(";"))}


def test_given_vectors_agree_with_numpy():
    table = _split(CAPITALS)
    d = derive("embeddings", vectors=CAPITALS, words="paris rome berlin", analogy="paris - france + italy")
    W = np.stack([table[w] for w in ("paris", "rome", "berlin")])
    np.testing.assert_allclose(_matrix(d.answers["dots"]), W @ W.T)
    np.testing.assert_allclose(
        _matrix(d.answers["similarity"]), [[_cos(a, b) for b in W] for a in W], rtol=1e-12, atol=1e-12
    )
    x = table["paris"] - table["france"] + table["italy"]
    assert (
        d.answers["analogy"] == [_nearest(x, exclude={"paris", "france", "italy"}, table=table)] == ["rome"]
    )
    text = " ".join(str(d).split())
    assert "6 words of 3 dimensions, given with --vectors" in text
    assert "scales every vector to length 1" in text


def test_decimals_stay_exact_and_words_keep_their_case():
    d = derive(
        "embeddings",
        vectors="Paris: 0.5 0.25; Rome: 0.25 0.5; Oslo: 1 0",
        words="paris ROME",
        analogy="Oslo + Rome",
    )
    assert d.answers["dots"][0, 1] == sp.Rational(1, 4)
    assert d.params["words"] == ["Paris", "Rome"]


UNIT = """5 2
king 0.6 0.8
queen 0 1
man 1 0
woman 0.8 0.6
apple -0.6 -0.8
"""


def test_a_word2vec_file_is_read_as_gensim_reads_it(tmp_path):
    gensim = require("gensim")
    path = tmp_path / "unit.txt"
    path.write_text(UNIT, encoding="utf-8")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=False)
    d = derive("embeddings", vectors_file=str(path), words="king queen man")
    assert list(d.params["vectors"]) == list(kv.index_to_key)
    for word, entries in d.params["vectors"].items():
        np.testing.assert_allclose([float(sp.Rational(e)) for e in entries], kv[word], rtol=1e-7)
    # The vectors have length 1, so gensim's most_similar (which normalises first) answers the same.
    assert d.answers["analogy"] == [
        kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0]
    ]
    # And gensim ranks the raw x = king - man + woman by cosine as derive does.
    x = kv["king"] - kv["man"] + kv["woman"]
    ranked = [w for w, _ in kv.similar_by_vector(x, topn=len(kv))]
    assert d.answers["analogy"] == [w for w in ranked if w not in {"king", "man", "woman"}][:1]
    assert "read from the word2vec text file “unit.txt”" in " ".join(str(d).split())


def test_a_file_saved_by_gensim_is_read(tmp_path):
    gensim = require("gensim")
    kv = gensim.models.KeyedVectors(vector_size=3)
    table = _split(CAPITALS)
    kv.add_vectors(list(table), np.stack(list(table.values())))
    path = tmp_path / "capitals.txt"
    kv.save_word2vec_format(str(path), binary=False)
    d = derive("embeddings", vectors_file=str(path), words="paris rome", analogy="paris - france + italy")
    assert d.answers["analogy"] == ["rome"]
    np.testing.assert_allclose(_matrix(d.answers["dots"]), [[10, 8], [8, 11]])


@pytest.mark.parametrize(
    "content,words",
    [
        ("a 1 2\nb 1 x\n", ["line 2", "'x' is not a number"]),
        ("a 1 2\nb 1 2\nc 1\n", ["line 3", "has 1 numbers but the first word has 2"]),
        ("3 2\na 1 2\nb 1 2 3\n", ["line 3", "the header line says 2 dimensions"]),
        ("5 2\na 1 2\nb 2 1\nc 1 1\n", ["line 1", "the header says 5 words"]),
        ("a 1 2\nb 0 0\nc 1 1\n", ["line 2", "zero vector"]),
        ("a 1 2\nb 2 1\na 1 1\n", ["line 3", "given twice"]),
        ("a 1 2\nb\n", ["line 2", "a word followed by its numbers"]),
        (b"a 1 2\n\xff 1 2\n", ["line 2", "not UTF-8"]),
        ("", ["holds no word vectors"]),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_line(cli, tmp_path, content, words):
    path = tmp_path / "bad.txt"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, out, err = cli("embeddings", "--vectors-file", str(path), "--words", "a b")
    assert code == 2 and out == "" and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--vectors-file" in lines[0] and str(path) in lines[0], err
    assert all(w in lines[0] for w in words), err


@pytest.mark.parametrize(
    "args,option,words",
    [
        (["--vectors-file", "/nonexistent/v.txt"], "--vectors-file", "/nonexistent/v.txt does not exist"),
        (["--vectors", "a 1 2; b: 1 2; c: 2 1"], "--vectors", "entry 1"),
        (["--vectors", "a: 1 2; b: 1; c: 2 1"], "--vectors", "entry 2"),
        (["--vectors", "a: 1 2; b: 0 0; c: 2 1"], "--vectors", "zero vector"),
        (["--vectors", "a: 1 2; b: 1 two; c: 2 1"], "--vectors", "'two' is not a number"),
        (["--vectors", "a: 1 2; b: 2 1"], "--vectors", "at least three words"),
        (["--vectors", "a: 1 2; b: 2 1; c: 1 1"], "--analogy", "needs king, man and woman"),
        (
            ["--vectors", "a: 1 2; b: 2 1; c: 1 1", "--analogy", "a - king"],
            "--analogy",
            "the given words are",
        ),
    ],
)
def test_bad_vectors_are_one_line_naming_the_option(cli, args, option, words):
    code, out, err = cli("embeddings", "--words", "a b", *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0], err


def test_given_words_are_escaped_in_latex():
    d = derive(
        "embeddings", vectors="new_york: 1 2; a&b: 2 1; c: 1 1", words="new_york c", analogy="new_york - c"
    )
    latex = render(d, "latex")
    assert "new\\_york" in latex and "a\\&b" in latex


def test_vectors_and_a_file_together_are_refused(cli, tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("a 1 2\nb 2 1\nc 1 1\n", encoding="utf-8")
    code, out, err = cli(
        "embeddings", "--words", "a b", "--vectors", "a: 1 0; b: 0 1; c: 1 1", "--vectors-file", str(path)
    )
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "not both" in err
