"""positional-encoding: published values, NumPy agreement, properties, misconceptions, CLI errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from derive import check, derive, forward, registry
from derive.api import parse_options
from derive.model import run
from derive.render import render

TOPIC = registry.get("positional-encoding")


def _pe(positions, d_model, base=10000):
    return derive("positional-encoding", positions=positions, d_model=d_model, base=base).answers["pe"]


def _floats(matrix):
    return np.array(matrix.evalf(30).tolist(), dtype=float)


def _by_hand(pos, dim, d_model, base=10000.0):
    """The convention written out once more, with math rather than NumPy."""
    angle = pos / base ** (2 * (dim // 2) / d_model)
    return math.sin(angle) if dim % 2 == 0 else math.cos(angle)


def test_published_values_at_position_one():
    pe = _floats(_pe(2, 4))
    assert pe[1, 0] == pytest.approx(0.8415, abs=5e-5)  # sin(1)
    assert pe[1, 1] == pytest.approx(0.5403, abs=5e-5)  # cos(1)
    assert pe[1, 2] == pytest.approx(math.sin(0.01), abs=1e-15)
    assert pe[1, 3] == pytest.approx(math.cos(0.01), abs=1e-15)
    assert list(pe[0]) == [0.0, 1.0, 0.0, 1.0]


def test_entries_keep_the_collapsed_exact_angle():
    pe = _pe(3, 4)
    assert pe[1, 2] == sp.sin(sp.Rational(1, 100))
    assert pe[2, 3] == sp.cos(sp.Rational(1, 50))
    assert pe[2, 0] == sp.sin(2)


@pytest.mark.parametrize(
    "positions,d_model,base", [(5, 8, 10000), (3, 6, 10000), (4, 4, 100), (2, 10, 3 / 2)]
)
def test_every_entry_matches_the_formula_by_hand(positions, d_model, base):
    pe = _floats(_pe(positions, d_model, base))
    for pos in range(positions):
        for dim in range(d_model):
            assert pe[pos, dim] == pytest.approx(_by_hand(pos, dim, d_model, float(base)), abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_exact_values_equal_numpy_on_random_inputs(seed):
    raw = TOPIC.sample(np.random.default_rng(seed))
    options = parse_options(TOPIC, raw)
    answers = run(TOPIC, TOPIC.prepare(options)).answers
    positions, d_model, base = options["positions"], options["d_model"], float(options["base"])
    if options["layout"] == "interleaved":
        expected = forward.sinusoidal_positional_encoding(positions, d_model, base)
    else:
        expected = _tutorial_table(positions, d_model, base)
    np.testing.assert_allclose(_floats(answers["pe"]), expected, rtol=1e-12, atol=1e-12, err_msg=str(raw))
    angles = np.array(
        [[p / base ** (2 * k / d_model) for k in range(d_model // 2)] for p in range(positions)]
    )
    np.testing.assert_allclose(_floats(answers["angles"]), angles, rtol=1e-12, atol=1e-15, err_msg=str(raw))


def test_the_divisor_is_shown_as_written_and_collapsed():
    derivation = derive("positional-encoding", example="small")
    text = render(derivation, "terminal", color=False, width=100)
    assert "√10000 = 100" in text
    markdown = render(derivation, "markdown")
    assert "D_{1} = 10000^{\\frac{2}{4}} = \\sqrt{10000} = 100" in markdown
    assert (
        "\\sin{\\left(\\frac{1}{10000^{\\frac{2}{4}}} \\right)} = \\sin{\\left(\\frac{1}{100} \\right)}"
        in markdown
    )
    assert "dim 2 (sin, i=1)" in text and "dim 3 (cos, i=1)" in text


def test_large_inputs_are_sliced_and_skip_the_exact_table():
    text = str(derive("positional-encoding", positions=20, d_model=20))
    assert "Rows 16 to 19 (positions), columns 16 to 19:" in text
    assert "dim 0 (sin" not in text


# --- properties --------------------------------------------------------------------------------------

_small = st.tuples(st.integers(1, 6), st.integers(1, 5)).map(lambda t: (t[0], 2 * t[1]))


@settings(max_examples=20, deadline=None)
@given(_small, st.sampled_from([10000, 100, 10, 2]))
def test_exact_values_lie_in_minus_one_to_one(size, base):
    pe = _floats(_pe(*size, base))
    assert np.all(np.abs(pe) <= 1.0)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4).map(lambda h: 2 * h), st.integers(0, 5), st.integers(0, 5), st.integers(1, 4))
def test_dot_product_depends_only_on_the_offset(d_model, p, q, k):
    pe = _floats(_pe(max(p, q) + k + 1, d_model))
    here, shifted = pe[p] @ pe[q], pe[p + k] @ pe[q + k]
    assert here == pytest.approx(shifted, abs=1e-12)
    # sin·sin + cos·cos = cos of the difference, pair by pair.
    by_hand = sum(math.cos((p - q) / 10000 ** (2 * i / d_model)) for i in range(d_model // 2))
    assert here == pytest.approx(by_hand, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 64), st.integers(1, 32).map(lambda h: 2 * h), st.integers(0, 40), st.integers(0, 20))
def test_numpy_reference_has_the_same_properties(positions, d_model, offset, shift):
    pe = forward.sinusoidal_positional_encoding(positions + offset + shift, d_model)
    assert np.all(np.abs(pe) <= 1.0)
    p, q = positions - 1, 0
    assert pe[p] @ pe[q] == pytest.approx(pe[p + shift] @ pe[q + shift], abs=1e-9)


# --- the checker -------------------------------------------------------------------------------------

SMALL = {"positions": "4", "d_model": "4"}


def _written(function):
    rows = [[function(pos, dim) for dim in range(4)] for pos in range(4)]
    return "; ".join(" ".join(f"{v:.6f}" for v in row) for row in rows)


def _pe_item(function):
    return check.check(TOPIC, SMALL, ["pe=" + _written(function)]).item("pe")


def test_a_correct_table_fires_no_misconception():
    angles = "; ".join(" ".join(f"{p / 10000 ** (2 * i / 4):.6f}" for i in range(2)) for p in range(4))
    report = check.check(TOPIC, SMALL, ["angles=" + angles, "pe=" + _written(lambda p, d: _by_hand(p, d, 4))])
    assert report.all_correct
    assert all(item.mistake is None for item in report.items)


def test_degrees_is_named():
    def degrees(pos, dim):
        angle = math.radians(pos / 10000 ** (2 * (dim // 2) / 4))
        return math.sin(angle) if dim % 2 == 0 else math.cos(angle)

    item = _pe_item(degrees)
    assert (item.verdict, item.mistake) == ("wrong", "degrees") and item.hint


def test_swapped_sin_cos_is_named():
    def swapped(pos, dim):
        angle = pos / 10000 ** (2 * (dim // 2) / 4)
        return math.cos(angle) if dim % 2 == 0 else math.sin(angle)

    assert _pe_item(swapped).mistake == "swapped-sin-cos"


def test_index_doubled_is_named():
    def doubled(pos, dim):
        angle = pos / 10000 ** (2 * dim / 4)
        return math.sin(angle) if dim % 2 == 0 else math.cos(angle)

    item = _pe_item(doubled)
    assert item.mistake == "index-doubled"
    assert item.wrong_entries  # the cos columns and the second sin column differ
    angles = "; ".join(" ".join(f"{p / 10000 ** (2 * (2 * i) / 4):.8f}" for i in range(2)) for p in range(4))
    assert check.check(TOPIC, SMALL, ["angles=" + angles]).item("angles").mistake == "index-doubled"


def test_a_table_from_wrong_angles_follows_through():
    wrong = [[p / 10**i for i in range(2)] for p in range(4)]  # divisors 1 and 10 instead of 1 and 100
    angles = "; ".join(" ".join(f"{a:.6f}" for a in row) for row in wrong)
    pe = "; ".join(
        " ".join(f"{f(row[d // 2]):.6f}" for d, f in enumerate([math.sin, math.cos] * 2)) for row in wrong
    )
    report = check.check(TOPIC, SMALL, ["angles=" + angles, "pe=" + pe])
    assert report.item("angles").verdict == "wrong"
    assert report.item("pe").verdict == "follows-through"


# --- command-line errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,option,words",
    [
        (["--positions", "4", "--d-model", "5"], "--d-model", "even"),
        (["--positions", "0", "--d-model", "4"], "--positions", "1 to 64"),
        (["--positions", "65", "--d-model", "4"], "--positions", "1 to 64"),
        (["--positions", "4", "--d-model", "66"], "--d-model", "2 to 64"),
        (["--positions", "4", "--d-model", "4", "--base", "1"], "--base", "greater than 1"),
        (["--positions", "4", "--d-model", "4", "--base", "-3"], "--base", "greater than 1"),
        (["--positions", "__import__('os').system('id')", "--d-model", "4"], "--positions", "whole number"),
        (["--positions", "4", "--d-model", "__import__('os').system('id')"], "--d-model", "whole number"),
        (["--positions", "4", "--d-model", "4", "--base", "__import__('os').system('id')"], "--base", ""),
        (["--positions", "2.5", "--d-model", "4"], "--positions", "whole number"),
        (["--positions", "4"], "--d-model", "required"),
    ],
)
def test_bad_input_is_one_line_naming_the_option(cli, args, option, words):
    code, out, err = cli("positional-encoding", *args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0]
    assert "Traceback" not in err


def test_the_examples_run_from_the_command_line(cli):
    for example in TOPIC.examples:
        code, out, err = cli("positional-encoding", "--example", example)
        assert code == 0, err
        assert "sin(1)" in out


# --- the concatenated layout (--layout) ------------------------------------------------------------


def _tutorial_table(length, depth, base=10000.0):
    """TensorFlow's Transformer tutorial, written out in NumPy: all sines, then all cosines."""
    half = depth / 2
    positions = np.arange(length)[:, np.newaxis]  # (P, 1)
    depths = np.arange(half)[np.newaxis, :] / half  # (1, d/2)
    angle_rads = positions / base**depths  # (P, d/2)
    return np.concatenate([np.sin(angle_rads), np.cos(angle_rads)], axis=-1)  # (P, d)


@pytest.mark.parametrize(
    "positions,d_model,base", [(4, 4, 10000), (5, 8, 10000), (3, 6, 100), (2, 10, 3 / 2)]
)
def test_concatenated_layout_matches_the_tutorial(positions, d_model, base):
    pe = derive("positional-encoding", positions=positions, d_model=d_model, base=base, layout="concatenated")
    np.testing.assert_allclose(
        _floats(pe.answers["pe"]), _tutorial_table(positions, d_model, float(base)), rtol=1e-12, atol=1e-12
    )
    # The angles do not depend on the layout, only where their sines and cosines go.
    interleaved = derive("positional-encoding", positions=positions, d_model=d_model, base=base)
    assert pe.answers["angles"] == interleaved.answers["angles"]


def test_the_output_names_the_layout_in_force(cli):
    default = " ".join(str(derive("positional-encoding", example="small")).split())
    assert "Layout: interleaved" in default and "Attention Is All You Need" in default
    text = " ".join(str(derive("positional-encoding", example="tutorial")).split())
    assert "Layout: concatenated" in text and "TensorFlow's Transformer tutorial" in text
    assert "dim 1 (sin, i=1)" in text and "dim 2 (cos, i=0)" in text
    code, out, err = cli("positional-encoding", "--example", "tutorial", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["params"]["layout"] == "concatenated"


TUTORIAL = {"positions": "4", "d_model": "4", "layout": "concatenated"}


def test_the_other_layout_is_named_as_a_mistake():
    interleaved = _written(lambda p, d: _by_hand(p, d, 4))
    item = check.check(TOPIC, TUTORIAL, ["pe=" + interleaved]).item("pe")
    assert (item.verdict, item.mistake) == ("wrong", "wrong-layout") and "concatenated" in item.hint
    tutorial = "; ".join(" ".join(f"{v:.6f}" for v in row) for row in _tutorial_table(4, 4))
    item = check.check(TOPIC, SMALL, ["pe=" + tutorial]).item("pe")
    assert (item.verdict, item.mistake) == ("wrong", "wrong-layout") and "interleaved" in item.hint
    assert check.check(TOPIC, TUTORIAL, ["pe=" + tutorial]).all_correct


def test_swapped_halves_are_named_in_the_concatenated_layout():
    swapped = np.roll(_tutorial_table(4, 4), 2, axis=1)  # cosines first, then sines
    text = "; ".join(" ".join(f"{v:.6f}" for v in row) for row in swapped)
    item = check.check(TOPIC, TUTORIAL, ["pe=" + text]).item("pe")
    assert item.mistake == "swapped-sin-cos" and "first half" in item.hint


def test_an_unknown_layout_is_one_line_naming_the_option(cli):
    code, out, err = cli("positional-encoding", "--positions", "2", "--d-model", "4", "--layout", "stacked")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "--layout" in err and "concatenated" in err
