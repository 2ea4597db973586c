"""The Python API: NumPy and list inputs, precision, answers in the input's shape, render and check."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

import derive
from derive.errors import InputError

LOGITS = np.array([1.0, 2.0, 3.0])
SOFTMAX = np.exp(LOGITS) / np.exp(LOGITS).sum()


@pytest.mark.parametrize(
    "x",
    [
        LOGITS,
        LOGITS.astype(np.float32),
        np.array([1, 2, 3]),
        [np.float64(1.0), np.float64(2.0), np.float64(3.0)],
        [np.int64(1), 2, 3.0],
        [1, 2, 3],
        (1.0, 2.0, 3.0),
        "1 2 3",
    ],
    ids=["float64", "float32", "int", "list-of-np.float64", "mixed", "ints", "tuple", "text"],
)
def test_vector_inputs_of_every_kind_give_the_same_exact_answer(x):
    d = derive.derive("softmax", x=x)
    assert d.answers["softmax"] == derive.derive("softmax", x="1 2 3").answers["softmax"]
    np.testing.assert_allclose(d.values["softmax"], SOFTMAX, rtol=1e-12)
    assert np.shape(d.values["softmax"]) == (3,)


def test_a_float_input_is_kept_exactly_as_written():
    d = derive.derive("softmax", x=np.array([0.1, 0.2]))
    assert d.answers["z"][0, 0] == sp.Rational(1, 10)


@pytest.mark.parametrize("x", [np.array([[1.0, 2.0], [3.0, 5.0]]), [[1, 2], [3, 5]], [[1.0, 2], [3, 5.0]]])
def test_matrix_inputs_give_matrix_answers(x):
    d = derive.derive("softmax", x=x)
    values = np.array(d.values["softmax"])
    rows = np.exp([[1, 2], [3, 5]])
    np.testing.assert_allclose(values, rows / rows.sum(axis=1, keepdims=True), rtol=1e-12)
    assert values.shape == (2, 2)


def test_a_one_row_matrix_stays_a_matrix():
    assert np.shape(derive.derive("softmax", x=np.array([[1.0, 2.0, 3.0]])).values["softmax"]) == (1, 3)


def test_scalar_answers_are_numbers():
    d = derive.derive("dot-product", a=np.array([1, 2]), b=[3.0, 4.0])
    assert d.values["dot"] == 11 and isinstance(d.values["dot"], int)


def test_precision_sets_how_the_derivation_displays_itself():
    d = derive.derive("softmax", x=[1, 2, 3], precision=2)
    assert "0.67" in str(d) and "0.6652" not in str(d)
    assert "0.67" in d._repr_markdown_() and "0.6652" not in d._repr_markdown_()
    assert "0.665241" in derive.render(d, "markdown", precision=6), "render's own setting wins"


@pytest.mark.parametrize("bad", [-1, 13, 2.5, "4", True])
def test_a_bad_precision_is_an_input_error(bad):
    with pytest.raises(InputError, match="precision"):
        derive.derive("softmax", x=[1, 2, 3], precision=bad)


def test_precision_accepts_numpy_integers():
    assert "0.665" in str(derive.derive("softmax", x=[1, 2, 3], precision=np.int64(3)))


def test_render_is_public_and_covers_every_registered_format():
    d = derive.derive("softmax", x=[1, 2, 3])
    for name in derive.render.names():
        out = derive.render(d, name)
        assert isinstance(out, bytes if derive.render.get(name).binary else str) and out
    data = json.loads(derive.render(d, "json"))
    assert data["answers"]["softmax"]["value"] == d.values["softmax"]


def test_check_is_public_and_grades_by_answer_id():
    right = derive.check("softmax", {"softmax": np.round(SOFTMAX, 4)}, x=LOGITS)
    assert right.all_correct
    wrong = derive.check("softmax", {"softmax": [0.2, 0.3, 0.5]}, x="1 2 3")
    assert not wrong.all_correct and wrong.item("softmax").verdict == "wrong"
    as_strings = derive.check("softmax", ["softmax=0.0900 0.2447 0.6652"], x=[1, 2, 3])
    assert as_strings.all_correct


def test_check_names_the_misconception():
    no_exp = LOGITS / LOGITS.sum()
    report = derive.check("softmax", {"softmax": np.round(no_exp, 4)}, x="1 2 3")
    assert report.item("softmax").mistake == "no-exp"


def test_check_takes_matrix_answers_as_nested_lists():
    x = np.array([[1.0, 0.0], [0.0, 2.0]])
    expected = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    assert derive.check("softmax", {"softmax": np.round(expected, 5).tolist()}, x=x).all_correct


def test_unknown_options_and_formats_are_input_errors():
    with pytest.raises(InputError, match="no option 'y'"):
        derive.derive("softmax", x=[1, 2], y=3)
    with pytest.raises(InputError, match="unknown format"):
        derive.render(derive.derive("softmax", x=[1, 2]), "docx")


def test_overflowing_values_are_none_in_python_as_in_json():
    d = derive.derive("softmax", example="overflow")
    assert d.values["exp"] == [None, None, None]
    np.testing.assert_allclose(d.values["softmax"], SOFTMAX, rtol=1e-12)


def test_the_prompt_shows_a_short_repr_and_print_the_solution():
    d = derive.derive("softmax", x=[1, 2, 3])
    assert repr(d) == "<Derivation softmax: 'Softmax', answers z, exp, sum, softmax>"
    assert str(d).startswith("Softmax\n═══")
