"""The checker: tolerance from the written decimals, misconceptions, follow-through, exit codes."""

from __future__ import annotations

import json
import math

import pytest

from derive import check, registry
from derive.errors import InputError

SOFTMAX = registry.get("softmax")


def _softmax(values, temperature=1.0):
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def test_rounded_answers_are_accepted_within_half_a_unit_plus_slack():
    p = _softmax([1, 2, 3])
    report = check.check(SOFTMAX, {"x": "1 2 3"}, [f"softmax={p[0]:.2f} {p[1]:.2f} {p[2]:.2f}"])
    assert report.all_correct
    off = f"softmax={p[0] + 0.02:.2f} {p[1]:.2f} {p[2]:.2f}"
    item = check.check(SOFTMAX, {"x": "1 2 3"}, [off]).item("softmax")
    assert item.verdict == "wrong" and item.wrong_entries == [(1, 1)]


def test_explicit_tolerances_override_the_written_decimals():
    p = _softmax([1, 2, 3])
    rough = f"softmax={p[0] + 0.004:.4f} {p[1]:.4f} {p[2]:.4f}"
    assert not check.check(SOFTMAX, {"x": "1 2 3"}, [rough]).all_correct
    assert check.check(SOFTMAX, {"x": "1 2 3"}, [rough], atol=0.01).all_correct


def test_exact_answers_are_compared_exactly():
    report = check.check(SOFTMAX, {"x": "0 0"}, ["softmax=1/2 1/2", "sum=2"])
    assert report.all_correct
    assert not check.check(SOFTMAX, {"x": "0 0"}, ["sum=2.0001"]).all_correct


def test_no_exp_misconception_is_named():
    item = check.check(SOFTMAX, {"x": "1 2 3"}, ["softmax=0.1667 0.3333 0.5000"]).item("softmax")
    assert (item.verdict, item.mistake) == ("wrong", "no-exp") and item.hint


def test_no_temperature_misconception_is_named():
    p = _softmax([1, 2, 3])
    answer = "softmax=" + " ".join(f"{v:.4f}" for v in p)
    item = check.check(SOFTMAX, {"x": "1 2 3", "temperature": "2"}, [answer]).item("softmax")
    assert item.mistake == "no-temperature"


def test_no_misconception_fires_on_a_correct_answer():
    p = _softmax([1, 2, 3], 2.0)
    report = check.check(
        SOFTMAX, {"x": "1 2 3", "temperature": "2"}, ["softmax=" + " ".join(f"{v:.4f}" for v in p)]
    )
    assert report.all_correct and report.item("softmax").mistake is None


def test_follow_through_from_a_wrong_sum():
    exps = [math.exp(v) for v in (1, 2, 3)]
    wrong_sum = 31.0
    followed = " ".join(f"{e / wrong_sum:.4f}" for e in exps)
    report = check.check(SOFTMAX, {"x": "1 2 3"}, [f"sum={wrong_sum}", f"softmax={followed}"])
    assert report.item("sum").verdict == "wrong"
    assert report.item("softmax").verdict == "follows-through"
    assert not report.all_correct


def test_a_later_error_after_a_wrong_input_is_still_wrong():
    report = check.check(SOFTMAX, {"x": "1 2 3"}, ["sum=31", "softmax=0.5 0.25 0.25"])
    assert report.item("softmax").verdict == "wrong"


def test_shape_mismatch_is_reported():
    item = check.check(SOFTMAX, {"x": "1 2 3"}, ["softmax=0.09 0.24"]).item("softmax")
    assert item.verdict == "wrong" and "expected 1×3" in item.shape_note


def test_bad_answers_raise_input_errors():
    with pytest.raises(InputError, match="--answer"):
        check.check(SOFTMAX, {"x": "1 2 3"}, ["softmax=__import__('os')"])
    with pytest.raises(InputError, match="unknown answer id"):
        check.check(SOFTMAX, {"x": "1 2 3"}, ["stable=1"])
    with pytest.raises(InputError, match="--rtol"):
        check.check(SOFTMAX, {"x": "1 2 3"}, ["sum=30"], rtol=-1)


def test_cli_exit_codes_and_json_report(cli):
    code, out, _ = cli("check", "softmax", "--x", "1 2 3", "--answer", "softmax=0.09 0.24 0.67")
    assert code == 0 and "✔ softmax" in out
    code, out, _ = cli(
        "check", "softmax", "--x", "1 2 3", "--answer", "softmax=0.1667 0.3333 0.5", "-f", "json"
    )
    assert code == 1
    data = json.loads(out)
    assert data["all_correct"] is False
    answer = data["answers"]["softmax"]
    assert answer["verdict"] == "wrong" and answer["mistake"] == "no-exp"
    assert [e["correct"] for e in answer["entries"]] == [False, False, False]
    assert answer["entries"][0]["row"] == 1 and answer["entries"][0]["col"] == 1


@pytest.mark.parametrize("decimals", [2, 3, 4, 6])
def test_follow_through_allows_for_the_students_own_rounding(decimals):
    """A wrong scaled score, then weights and output done right from it, rounded as a student would."""
    import numpy as np

    from derive import derive

    river = derive("attention", example="river")
    scaled = np.array(river.answers["scaled"].evalf(20).tolist(), dtype=float)
    values = np.array(river.answers["V"].evalf(20).tolist(), dtype=float)
    scaled[2, 1] = 3.0
    exact_weights = np.exp(scaled) / np.exp(scaled).sum(axis=1, keepdims=True)
    weights = np.round(exact_weights, decimals)
    output = np.round(exact_weights @ values, decimals)  # carried at full precision, then rounded

    def written(matrix):
        return "; ".join(" ".join(f"{v:.{decimals}f}" for v in row) for row in matrix)

    report = check.check(
        registry.get("attention"),
        {},
        [f"scaled={written(scaled)}", f"weights={written(weights)}", f"output={written(output)}"],
        example="river",
    )
    assert report.item("scaled").verdict == "wrong"
    assert report.item("weights").verdict == "follows-through"
    assert report.item("output").verdict == "follows-through"
