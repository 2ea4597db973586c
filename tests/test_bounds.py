"""Numbers beyond hand size: the one bound on entries (derive/parse.py), strict JSON for every
value that passes it, and the wall-clock budget on exact work (derive/budget.py).

Every hostile entry must give exit 0 with strict JSON or exit 2 with one line naming the
option, never an internal error or a traceback; expected values come from NumPy.
"""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
import sympy as sp

from derive import api, budget, parse
from derive.errors import InputError

BIG_DECIMAL = "1." + "3" * 3988
BIG_FRACTION = "1/" + "7" * 3990

# Entries far beyond hand size: each must be refused at parse time.
REFUSED = [
    "exp(exp(exp(exp(10))))",
    "exp(9999**64)",
    "exp(2303)",
    BIG_DECIMAL,
    BIG_FRACTION,
    "1e1001",
    "1e-1001",
    "1e1000*10",
    "(1/10)**1001",
    "2**0.5**100",
    "0x10",
    "1_000",
    "0b11",
    "0o7",
    "1j",
    "inf",
    "nan",
    "1e",
    "ｐｉ",
    "１",
    "sqrt(-2)",
    "(-8)**(1/3)",
    "0**-1",
    "1/cos(pi/2)",
    "+".join(["1"] * 40),
    "exp(" * 13 + "0" + ")" * 13,
]
EMPTY_ROWS = [";,", ",", ";", "", " ", "1 2;", "; 1 2", "1 2;;3 4", "[[]]", "[]", "[[1, 2], []]"]


def _strict(text: str):
    """json.loads refusing NaN and Infinity, as RFC 8259 parsers do."""

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _one_line_error(code, out, err, option):
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"Error: {option}"), err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize("entry", REFUSED)
def test_an_entry_beyond_the_bound_is_one_line_naming_the_option(cli, entry):
    _one_line_error(*cli("softmax", "--x", f"1 {entry}", "-f", "json"), "--x")


@pytest.mark.parametrize(
    "topic,option,others",
    [
        ("dot-product", "--a", ["--b", "1 2"]),
        ("layer-norm", "--x", []),
        ("residual", "--x", ["--w", "1 0; 0 1", "--b", "0 1"]),
        ("feed-forward", "--x", ["--example", "gelu"]),
    ],
)
@pytest.mark.parametrize("entry", ["exp(9999**64)", BIG_DECIMAL, "0x10", "1e400*1e700"])
def test_the_bound_is_the_same_for_every_topic(cli, topic, option, others, entry):
    value = f"{entry} 1" if topic != "feed-forward" else f"{entry} 1"
    _one_line_error(*cli(topic, option, value, *others, "-f", "json"), option)


@pytest.mark.parametrize("text", EMPTY_ROWS)
def test_empty_rows_are_one_line_errors_never_an_empty_matrix(cli, text):
    _one_line_error(*cli("softmax", "--x", text, "-f", "json"), "--x")


@pytest.mark.parametrize("text", ["1_000", "0x10", "1__0", "0X1F", "1e1_0", "1.0j"])
def test_python_literal_syntax_is_not_a_number(text):
    with pytest.raises(InputError, match="--x: "):
        parse.parse_scalar(text, "--x")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1e1000", sp.Integer(10) ** 1000),
        ("1e-1000", sp.Rational(1, 10**1000)),
        ("exp(2302)", sp.exp(2302)),
        ("exp(-2302)", sp.exp(-2302)),
        ("(1/7)**64", sp.Rational(1, 7**64)),
        ("1." + "3" * 39, sp.Rational(int("1" + "3" * 39), 10**39)),
    ],
)
def test_entries_at_the_edge_of_the_bound_are_exact(text, expected):
    assert parse.parse_scalar(text, "--x") == expected


@pytest.mark.parametrize("value", [10**1001, -(10**1001), float("inf"), float("nan"), sp.exp(sp.exp(10))])
def test_python_values_are_held_to_the_same_bound(value):
    with pytest.raises(InputError, match="--x: "):
        api.derive("softmax", x=[1, value])


def test_softmax_of_1e308_is_exact_and_its_json_strict(cli):
    code, out, err = cli("softmax", "--x", "1e308 -1e308", "-f", "json")
    assert code == 0, err
    answers = _strict(out)["answers"]
    assert answers["exp"]["value"] == [None, 0.0]
    assert "float64" in answers["exp"]["value_note"]
    assert answers["exp"]["exact"][0] == f"exp({10**308})"
    x = np.array([1e308, -1e308])
    with np.errstate(over="ignore"):  # -1e308 - 1e308 is -inf in float64, and exp(-inf) is 0
        reference = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
    assert answers["softmax"]["value"] == reference.tolist()


@pytest.mark.parametrize("fmt", ["terminal", "markdown", "latex", "typst", "html", "json"])
def test_the_readme_overflow_example_shows_no_infinity(cli, fmt):
    code, out, err = cli("softmax", "--x", "1000 1001 1002", "-f", fmt)
    assert code == 0, err
    text = out.replace("overflow to infinity", "")
    for token in ("Infinity", "infinity", "inf ", "∞", "\\infty", "zoo", "NaN", "nan "):
        assert token not in text, (fmt, token)
    if fmt == "json":
        answers = _strict(out)["answers"]
        x = np.array([1000.0, 1001.0, 1002.0])
        reference = np.exp(x - x.max()) / np.exp(x - x.max()).sum()
        np.testing.assert_allclose(answers["softmax"]["value"], reference, rtol=1e-15)
        assert answers["exp"]["value"] == [None, None, None]


@pytest.mark.parametrize(
    "args",
    [
        ["softmax", "--x", "1000 -1000 exp(7)"],
        ["softmax", "--x", "700 710 720; 1 2 3"],
        ["dot-product", "--a", "1e300 1e300", "--b", "1e300 -1e-300"],
        ["layer-norm", "--x", "1e200 -1e200 3"],
        ["residual", "--x", "1e300 1; 2 3", "--w", "1e300 0; 0 1", "--b", "0 1"],
        ["attention", "--x", "30 0; 0 30", "--wq", "1 0; 0 1", "--wk", "1 0; 0 1", "--wv", "1 2; 3 4"],
        ["feed-forward", "--x", "1e300 -1", "--example", "gelu"],
    ],
)
def test_large_values_that_pass_give_strict_json(cli, args):
    code, out, err = cli(*args, "-f", "json")
    assert code == 0, err
    document = _strict(out)
    for answer in document["answers"].values():
        if "value_note" in answer:
            assert answer["value_note"].endswith("see exact")


def test_the_largest_float64_products_are_null_with_a_reason(cli):
    code, out, err = cli("dot-product", "--a", "1e300 1e300", "--b", "1e300 1e10", "-f", "json")
    assert code == 0, err
    document = _strict(out)
    nulls = [a for a in document["answers"].values() if None in np.ravel(np.array(a["value"], dtype=object))]
    assert nulls and all("beyond the float64 range" in a["value_note"] for a in nulls)


@pytest.mark.parametrize("answer", ["exp(9999**64)", BIG_DECIMAL, "0x10", "1_000", "1e400*1e700", ";,"])
def test_answers_to_check_meet_the_same_bound(cli, answer):
    _one_line_error(*cli("check", "softmax", "--x", "1 2", "--answer", f"softmax={answer}"), "--answer")


def test_exp_1000_is_an_answer_a_student_may_give(cli):
    code, out, err = cli("check", "softmax", "--x", "1000 1001", "--answer", "exp=exp(1000) exp(1001)")
    assert code == 0, out + err


def test_work_past_the_time_budget_is_a_one_line_error(cli, monkeypatch):
    monkeypatch.setenv(budget.VARIABLE, "0.5")
    started = time.monotonic()
    code, out, err = cli("softmax", "--x", "1e1000 1e999 1", "-f", "json")
    assert time.monotonic() - started < 10
    _one_line_error(code, out, err, "--x")
    assert "DERIVE_TIME_LIMIT" in err and "1e1000" in err


def test_the_budget_raises_input_error_in_the_api_and_leaves_the_process_working(monkeypatch):
    monkeypatch.setenv(budget.VARIABLE, "0.5")
    for _ in range(3):
        with pytest.raises(InputError, match=r"^--x '1e1000 1e999 1': the exact work took longer"):
            api.derive("softmax", x="1e1000 1e999 1")
        with pytest.raises(InputError, match="--answer"):
            api.check("softmax", {"exp": "1 2 3"}, x="1e1000 1e999 1")
    monkeypatch.setenv(budget.VARIABLE, "20")
    values = api.derive("softmax", x="1 2 3").values["softmax"]
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(values, np.exp(x) / np.exp(x).sum(), rtol=1e-15)
    time.sleep(0.7)  # a stale alarm would fire here, after the guarded work has ended
    assert math.isclose(sum(values), 1.0)


def test_the_budget_works_outside_the_main_thread(monkeypatch):
    import threading

    monkeypatch.setenv(budget.VARIABLE, "0.3")
    caught = []

    def work():
        try:
            budget.within("--x", lambda: [time.sleep(0.01) for _ in range(1000)])
        except InputError as error:
            caught.append(str(error))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=10)
    assert caught and caught[0].startswith("--x: the exact work took longer than 0.3 s")


def test_nested_budgets_share_the_outer_one(monkeypatch):
    monkeypatch.setenv(budget.VARIABLE, "5")
    assert budget.within("--a", lambda: budget.within("--b", lambda: 42)) == 42


@pytest.mark.parametrize("setting", ["abc", "-1", "nan", "1e9"])
def test_a_bad_time_limit_is_a_one_line_error(cli, monkeypatch, setting):
    monkeypatch.setenv(budget.VARIABLE, setting)
    _one_line_error(*cli("softmax", "--x", "1 2 3"), "DERIVE_TIME_LIMIT")
