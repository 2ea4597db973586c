"""embeddings: exact surds against NumPy, neighbours and analogies, misconceptions, CLI errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from derive import check, derive, registry
from derive.api import parse_options
from derive.data.word_vectors import VECTORS
from derive.model import run

TOPIC = registry.get("embeddings")
E = {w: np.array(v, dtype=float) for w, v in VECTORS.items()}


def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _nearest(vector, exclude=()):
    """Brute force over the table with NumPy, independent of the topic's ranking code."""
    candidates = [w for w in E if w not in exclude]
    return max(candidates, key=lambda w: _cos(vector, E[w]))


def _matrix(value):
    return np.array(value.evalf(30).tolist(), dtype=float)


@pytest.mark.parametrize("seed", range(12))
def test_exact_values_equal_numpy_on_random_words(seed):
    raw = TOPIC.sample(np.random.default_rng(seed))
    options = parse_options(TOPIC, raw)
    answers = run(TOPIC, TOPIC.prepare(options)).answers
    words = options["words"]
    W = np.stack([E[w] for w in words])
    np.testing.assert_allclose(_matrix(answers["norms"]).ravel(), np.linalg.norm(W, axis=1), rtol=1e-12)
    np.testing.assert_allclose(_matrix(answers["dots"]), W @ W.T)
    cosines = np.array([[_cos(a, b) for b in W] for a in W])
    np.testing.assert_allclose(_matrix(answers["similarity"]), cosines, rtol=1e-12, atol=1e-12)
    distances = np.sqrt(((W[:, None] - W[None]) ** 2).sum(-1))
    np.testing.assert_allclose(_matrix(answers["distance"]), distances, rtol=1e-12, atol=1e-12)
    assert answers["nearest"] == [_nearest(E[w], exclude=(w,)) for w in words]
    x = sum(sign * E[w] for sign, w in options["analogy"])
    np.testing.assert_allclose(_matrix(answers["analogy_vector"]).ravel(), x)
    assert answers["analogy"] == [_nearest(x, exclude={w for _, w in options["analogy"]})]


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
