"""The checker: precision set by the task, misconceptions, follow-through that cannot be gamed,
what a student is shown, and exit codes. Expected values come from NumPy, never from derive."""

from __future__ import annotations

import json

import numpy as np
import pytest

from derive import check, registry
from derive.errors import InputError

SOFTMAX = registry.get("softmax")
ATTENTION = registry.get("attention")


def _softmax(values, temperature=1.0):
    z = np.asarray(values, dtype=float) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _written(matrix, decimals):
    matrix = np.atleast_2d(matrix)
    return "; ".join(" ".join(f"{v:.{decimals}f}" for v in row) for row in matrix)


def _verdict(topic, inputs, answer, **options):
    name = answer.partition("=")[0]
    return check.check(topic, inputs, [answer], **options).item(name)


def test_rounded_answers_are_accepted_within_half_a_unit_of_the_tasks_decimals():
    p = _softmax([1, 2, 3])
    assert check.check(SOFTMAX, {"x": "1 2 3"}, [f"softmax={_written(p, 2)}"]).all_correct
    off = f"softmax={p[0] + 0.02:.2f} {p[1]:.2f} {p[2]:.2f}"
    item = check.check(SOFTMAX, {"x": "1 2 3"}, [off]).item("softmax")
    assert item.verdict == "wrong" and item.wrong_entries == [(1, 1)]


@pytest.mark.parametrize("written", ["0.07", "0.06"])
def test_a_value_exactly_halfway_accepts_both_roundings(written):
    """θ = 0.13 stepped by −0.5 · 0.13 is exactly 0.065: the key rounds half up to 0.07, and 0.06 is as near."""
    step = {"optimizer": "sgd", "params": "0.13", "grad": "0.13", "lr": "0.5"}
    assert _verdict(registry.get("optimizer-step"), step, f"params={written}").verdict == "correct"
    assert _verdict(registry.get("optimizer-step"), step, "params=0.08").verdict != "correct"


def test_the_precision_is_the_tasks_not_the_digits_written():
    """0.0940 is 0.09 at 2 decimals (right) but 0.094 is not 0.090 at 3 (wrong), however it is written."""
    p = _softmax([1, 2, 3])
    answer = f"softmax={p[0] + 0.004:.4f} {p[1]:.4f} {p[2]:.4f}"
    assert check.check(SOFTMAX, {"x": "1 2 3"}, [answer]).all_correct
    assert _verdict(SOFTMAX, {"x": "1 2 3"}, answer, decimals=3).verdict == "wrong"


@pytest.mark.parametrize("coarse", ["0.1 0.2 0.7", "0.09 0.2 0.67"])
def test_fewer_decimals_than_asked_is_imprecise_with_no_credit(coarse):
    item = _verdict(SOFTMAX, {"x": "1 2 3"}, f"softmax={coarse}")
    assert (item.verdict, item.points, item.hint) == ("imprecise", 0.0, "give 2 decimals")
    assert _verdict(SOFTMAX, {"x": "1 2 3"}, "softmax=0.1 0.2 0.7", decimals=1).verdict == "correct"


def test_explicit_tolerances_override_the_decimals():
    p = _softmax([1, 2, 3])
    rough = f"softmax={p[0] + 0.008:.4f} {p[1]:.4f} {p[2]:.4f}"
    assert not check.check(SOFTMAX, {"x": "1 2 3"}, [rough]).all_correct
    assert check.check(SOFTMAX, {"x": "1 2 3"}, [rough], atol=0.01).all_correct
    assert check.check(SOFTMAX, {"x": "1 2 3"}, [rough], rtol=0.1).all_correct


@pytest.mark.parametrize(
    "option, value",
    [("atol", float("inf")), ("atol", float("nan")), ("rtol", float("1e400")), ("atol", -1e-3)],
)
def test_tolerances_that_would_pass_anything_are_refused(option, value):
    with pytest.raises(InputError, match=f"--{option}"):
        check.check(SOFTMAX, {"x": "1 2 3"}, ["sum=30"], **{option: value})


@pytest.mark.parametrize(
    "args", [("--atol", "inf"), ("--atol", "nan"), ("--rtol", "1e400"), ("--rtol", "-1")]
)
def test_cli_refuses_bad_tolerances_in_one_line(cli, args):
    code, out, err = cli("check", "softmax", "--x", "1 2 3", "--answer", "softmax=0 0 1", *args)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1 and args[0] in err


def test_exact_forms_are_accepted_when_equal():
    assert check.check(SOFTMAX, {"x": "0 0"}, ["softmax=1/2 1/2", "sum=2"]).all_correct
    exact = "softmax=e/(e+exp(2)+exp(3)) exp(2)/(e+exp(2)+exp(3)) exp(3)/(e+exp(2)+exp(3))"
    assert check.check(SOFTMAX, {"x": "1 2 3"}, [exact], rtol=0, atol=0).all_correct
    assert not check.check(SOFTMAX, {"x": "0 0"}, ["sum=2.01"]).all_correct


def test_hard_max_and_not_normalised_are_named():
    """The done-when of the issue: coarse softmax answers are not correct, and their mistakes named."""
    hard = _verdict(SOFTMAX, {"x": "1 2 3"}, "softmax=0 0 1")
    assert (hard.verdict, hard.mistake) == ("wrong", "hard-max") and hard.hint
    exps = np.exp([1.0, 2.0, 3.0])
    raw = _verdict(SOFTMAX, {"x": "1 2 3"}, f"softmax={_written(exps, 2)}")
    assert (raw.verdict, raw.mistake) == ("wrong", "not-normalised")


def test_hard_max_attention_weights_are_wrong():
    """Scores 0 and 1 in each row: true weights 0.27 and 0.73; the one-hot 0 1 is the hard max."""
    weights = _softmax([[0.0, 1.0], [0.0, 1.0]])
    assert np.allclose(weights[0], [0.2689, 0.7311], atol=1e-4)
    item = _verdict(ATTENTION, {"q": "1; 1", "k": "0; 1", "v": "1; 2"}, "weights=0 1; 0 1")
    assert (item.verdict, item.mistake) == ("wrong", "hard-max")
    right = _verdict(ATTENTION, {"q": "1; 1", "k": "0; 1", "v": "1; 2"}, f"weights={_written(weights, 2)}")
    assert right.verdict == "correct"


def test_rows_not_summing_to_one_is_named_for_weights():
    item = _verdict(ATTENTION, {"q": "1; 1", "k": "0; 1", "v": "1; 2"}, "weights=0.27 0.63; 0.27 0.73")
    assert item.mistake == "rows-not-summing-to-one"


def test_reversed_products_and_an_untransposed_key_are_named():
    q = np.array([[1.0, 2.0], [0.0, 1.0]])
    k = np.array([[1.0, -1.0], [2.0, 1.0]])
    inputs = {"q": "1 2; 0 1", "k": "1 -1; 2 1", "v": "1 0; 0 1"}
    reversed_ = _verdict(ATTENTION, inputs, f"scores={_written(k @ q.T, 0)}")
    assert reversed_.mistake == "reversed-product"
    untransposed = _verdict(ATTENTION, inputs, f"scores={_written(q @ k, 0)}")
    assert untransposed.mistake == "k-not-transposed"
    x, w = np.array([[1.0, 2.0], [3.0, 0.0]]), np.array([[0.0, 1.0], [1.0, 1.0]])
    projected = {"x": "1 2; 3 0", "wq": "0 1; 1 1", "wk": "1 0; 0 1", "wv": "1 0; 0 1"}
    assert _verdict(ATTENTION, projected, f"Q={_written(w @ x, 0)}").mistake == "reversed-product"
    assert _verdict(ATTENTION, projected, f"Q={_written(x @ w, 0)}").verdict == "correct"


def test_the_same_layer_norm_answer_gets_the_same_verdict_however_written():
    """x = 1 2 3: population variance 2/3, sample variance 1 (NumPy's ddof=0 and ddof=1)."""
    x = np.array([1.0, 2.0, 3.0])
    assert np.isclose(x.var(), 2 / 3) and np.isclose(x.var(ddof=1), 1.0)
    verdicts = {
        written: (item.verdict, item.mistake)
        for written in ("1", "1.0", "1.00", "1.000")
        for item in [_verdict(registry.get("layer-norm"), {"x": "1 2 3"}, f"variance={written}")]
    }
    assert set(verdicts.values()) == {("wrong", "sample-variance")}
    halves = {
        _verdict(SOFTMAX, {"x": "0 0"}, f"softmax={w}").verdict for w in ("0.5 0.5", "0.50 0.50", "0.500 0.5")
    }
    assert halves == {"correct"}


def test_no_exp_and_no_temperature_misconceptions_are_named():
    item = _verdict(SOFTMAX, {"x": "1 2 3"}, "softmax=0.17 0.33 0.50")
    assert (item.verdict, item.mistake) == ("wrong", "no-exp") and item.hint
    p = _softmax([1, 2, 3])
    item = _verdict(SOFTMAX, {"x": "1 2 3", "temperature": "2"}, f"softmax={_written(p, 2)}")
    assert item.mistake == "no-temperature"


def test_no_misconception_fires_on_a_correct_answer():
    p = _softmax([1, 2, 3], 2.0)
    report = check.check(SOFTMAX, {"x": "1 2 3", "temperature": "2"}, [f"softmax={_written(p, 2)}"])
    assert report.all_correct and report.item("softmax").mistake is None


def test_follow_through_from_a_wrong_sum():
    exps = np.exp([1.0, 2.0, 3.0])
    followed = _written(exps / 31.0, 2)
    report = check.check(SOFTMAX, {"x": "1 2 3"}, ["sum=31", f"softmax={followed}"])
    assert report.item("sum").verdict == "wrong"
    assert report.item("softmax").verdict == "follows-through" and report.item("softmax").points == 1
    assert not report.all_correct


def test_a_later_error_after_a_wrong_input_is_still_wrong():
    report = check.check(SOFTMAX, {"x": "1 2 3"}, ["sum=31", "softmax=0.5 0.25 0.25"])
    assert report.item("softmax").verdict == "wrong"


@pytest.mark.parametrize(
    "scaled",
    [
        "0 0; 0 0",  # all zero: uniform weights
        "1 1; 1 1",  # all equal
        "2 2; 5 5",  # every row one value
        "0 100; 0 100",  # so large that the softmax is one-hot
    ],
)
def test_follow_through_cannot_be_gamed_with_a_trivial_earlier_answer(scaled):
    z = np.array([[float(v) for v in row.split()] for row in scaled.split(";")])
    easy = _softmax(z)
    inputs = {"q": "1; 1", "k": "0; 1", "v": "1; 2"}
    report = check.check(ATTENTION, inputs, [f"scaled={scaled}", f"weights={_written(easy, 2)}"])
    assert report.item("scaled").verdict == "wrong"
    assert report.item("weights").verdict == "wrong" and report.item("weights").points == 0


def test_follow_through_from_a_plausible_wrong_answer():
    z = np.array([[0.0, 2.0], [0.0, 2.0]])
    inputs = {"q": "1; 1", "k": "0; 1", "v": "1; 2"}
    report = check.check(ATTENTION, inputs, ["scaled=0 2; 0 2", f"weights={_written(_softmax(z), 2)}"])
    assert report.item("weights").verdict == "follows-through"


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
    with pytest.raises(InputError, match="--decimals"):
        check.check(SOFTMAX, {"x": "1 2 3"}, ["sum=30"], decimals=13)


def test_a_student_sees_no_expected_value_unless_revealed(cli):
    args = ("check", "softmax", "--x", "1 2 3", "--answer", "softmax=0.10 0.24 0.67")
    code, out, _ = cli(*args)
    assert code == 1 and "0.0900" not in out and "expected" not in out.split("\n(")[0]
    assert "row 1, col 1: you wrote 0.10" in out
    code, out, _ = cli(*args, "--reveal")
    assert "expected 0.0900" in out
    code, out, _ = cli(*args, "-f", "json")
    answer = json.loads(out)["answers"]["softmax"]
    assert answer["expected"]["value"][0] == pytest.approx(_softmax([1, 2, 3])[0])
    assert answer["expected"]["exact"][0].startswith("E/")


def test_cli_exit_codes_and_json_report(cli):
    code, out, _ = cli("check", "softmax", "--x", "1 2 3", "--answer", "softmax=0.09 0.24 0.67")
    assert code == 0 and "✔ softmax" in out
    code, out, _ = cli("check", "softmax", "--x", "1 2 3", "--answer", "softmax=0.17 0.33 0.5", "-f", "json")
    assert code == 1
    data = json.loads(out)
    assert data["all_correct"] is False
    answer = data["answers"]["softmax"]
    assert answer["verdict"] == "wrong" and answer["mistake"] == "no-exp" and answer["points"] == 0
    assert [e["correct"] for e in answer["entries"]] == [False, False, False]
    assert answer["entries"][0]["row"] == 1 and answer["entries"][0]["col"] == 1


@pytest.mark.parametrize("decimals", [2, 3, 4, 6])
def test_follow_through_allows_for_the_students_own_rounding(decimals):
    """A wrong scaled score, then weights and output done right from it, rounded as a student would."""
    from derive import derive

    river = derive("attention", example="river")
    scaled = np.array(river.answers["scaled"].evalf(20).tolist(), dtype=float)
    values = np.array(river.answers["V"].evalf(20).tolist(), dtype=float)
    scaled[2, 1] = 3.0
    scaled = np.round(scaled, decimals)
    exact_weights = _softmax(scaled)
    weights = np.round(exact_weights, decimals)
    output = np.round(weights @ values, decimals)  # from the student's own rounded weights

    report = check.check(
        ATTENTION,
        {},
        [
            f"scaled={_written(scaled, decimals)}",
            f"weights={_written(weights, decimals)}",
            f"output={_written(output, decimals)}",
        ],
        example="river",
        decimals=decimals,
    )
    assert report.item("scaled").verdict == "wrong"
    assert report.item("weights").verdict == "follows-through"
    assert report.item("output").verdict == "follows-through"


def test_rounded_intermediate_answers_carried_forward_are_still_correct():
    """Right answers at each step, each computed from the previous rounded one: all correct."""
    from derive import derive

    river = derive("attention", example="river")
    scaled = np.round(np.array(river.answers["scaled"].evalf(20).tolist(), dtype=float), 2)
    values = np.array(river.answers["V"].evalf(20).tolist(), dtype=float)
    weights = np.round(_softmax(scaled), 2)
    output = np.round(weights @ values, 2)
    report = check.check(
        ATTENTION,
        {},
        [f"scaled={_written(scaled, 2)}", f"weights={_written(weights, 2)}", f"output={_written(output, 2)}"],
        example="river",
    )
    assert report.all_correct, [(i.id, i.verdict) for i in report.items]


def _matrix(text):
    return np.array([[float(v) for v in row.split()] for row in text.split(";")])


def _heads(q, k, heads):
    """Per head h: Q_h and K_h, the h-th block of d_k consecutive columns."""
    d_k = q.shape[1] // heads
    return [(q[:, h * d_k : (h + 1) * d_k], k[:, h * d_k : (h + 1) * d_k]) for h in range(heads)]


def test_multi_head_not_normalised_hard_max_and_reversed_scores_are_named():
    example = registry.get("multi-head").examples["two-heads"]
    x = _matrix(example["x"])
    q, k = x @ _matrix(example["wq"]), x @ _matrix(example["wk"])
    blocks = _heads(q, k, 2)
    scaled = np.vstack([qh @ kh.T / np.sqrt(qh.shape[1]) for qh, kh in blocks])
    topic = registry.get("multi-head")
    exps = np.exp(scaled)
    assert (
        _verdict(topic, {}, f"weights={_written(exps, 2)}", example="two-heads").mistake == "not-normalised"
    )
    one_hot = np.zeros_like(scaled)
    one_hot[np.arange(len(scaled)), scaled.argmax(axis=1)] = 1
    assert not any(np.isclose(np.sort(row)[-1], np.sort(row)[-2]) for row in scaled)  # one argmax per row
    hard = _verdict(topic, {}, f"weights={_written(one_hot, 0)}", example="two-heads")
    assert hard.mistake == "hard-max"
    reversed_ = np.vstack([kh @ qh.T for qh, kh in blocks])
    assert not np.allclose(reversed_, np.vstack([qh @ kh.T for qh, kh in blocks]))
    assert (
        _verdict(topic, {}, f"scores={_written(reversed_, 0)}", example="two-heads").mistake
        == "reversed-product"
    )


def test_kv_cache_weights_not_normalised_is_named():
    example = registry.get("kv-cache").examples["decode"]
    x = _matrix(example["x"])
    q, k = x @ _matrix(example["wq"]), x @ _matrix(example["wk"])
    scaled = q @ k.T / np.sqrt(q.shape[1])
    causal = np.tril(np.ones_like(scaled, dtype=bool))
    exps = np.where(causal, np.exp(scaled), 0.0)
    item = _verdict(registry.get("kv-cache"), {}, f"weights={_written(exps, 2)}", example="decode")
    assert item.mistake == "not-normalised"


def test_residual_reversed_product_is_named():
    x, w, b = _matrix("1 2; 3 -1"), _matrix("1 0; -1 0.5"), np.array([0.0, 1.0])
    inputs = {"x": "1 2; 3 -1", "w": "1 0; -1 1/2", "b": "0 1"}
    topic = registry.get("residual")
    assert _verdict(topic, inputs, f"sublayer={_written(x @ w + b, 2)}").verdict == "correct"
    assert _verdict(topic, inputs, f"sublayer={_written(w @ x + b, 2)}").mistake == "reversed-product"


@pytest.mark.parametrize(
    "written, verdict",
    [
        ("0", "imprecise"),
        ("0.00", "imprecise"),
        ("0.001", "wrong"),
        ("0.0007", "correct"),
        ("0.00070", "correct"),
    ],
)
def test_a_value_too_small_for_the_decimals_is_asked_to_significant_figures(written, verdict):
    """Noam at d_model 512, warmup 4000, step 4000: 512^-0.5 * 4000^-0.5 by hand, about 0.000699."""
    truth = 512**-0.5 * 4000**-0.5
    assert abs(truth - 0.00069877) < 1e-8
    report = check.check(registry.get("lr-schedule"), {}, [f"lr={written}"], example="paper")
    assert report.item("lr").verdict == verdict


def test_scores_that_look_like_weights_get_no_weights_misconception():
    """Softmax's z = x / T for x = 0.5 0.5 is a row summing to 1, yet no distribution: a wrong z is
    plain wrong, not rows-not-summing-to-one (the issue-10 heuristic took it for weights)."""
    assert np.isclose(np.sum([0.5, 0.5]), 1.0)
    assert not SOFTMAX.stage("z").distribution
    item = _verdict(SOFTMAX, {"x": "0.5 0.5"}, "z=0.4 0.4")
    assert (item.verdict, item.mistake) == ("wrong", None)
    weights = _verdict(SOFTMAX, {"x": "0.5 0.5"}, "softmax=0.4 0.4")
    assert weights.mistake == "rows-not-summing-to-one"


# Stages whose example answers happen to be row-stochastic without being distributions in general.
NOT_DISTRIBUTIONS = {
    ("attention-backward", "output"): "the examples' V is the identity, so A·V is A itself",
    ("layer-norm-backward", "dbeta"): "basic's one token has dbeta = dy = (1, 0, 0), a one-hot by choice",
    ("vectorize", "one_hot"): "token indicator rows: 0s and a 1, no softmax a student could get wrong",
}


def _stochastic(value) -> bool:
    """Rows (at least two columns) of entries >= 0 each summing to 1, in floats: an independent look
    at the values, not the grader's."""
    from derive.numbers import to_float

    if isinstance(value, str):
        return False
    try:
        rows = np.atleast_2d(np.asarray(to_float(value), dtype=float))
    except (TypeError, ValueError):
        return False
    if rows.ndim != 2 or rows.shape[1] < 2 or not np.all(np.isfinite(rows)):
        return False
    return bool(np.all(rows >= -1e-12) and np.allclose(rows.sum(axis=1), 1.0, rtol=0, atol=1e-9))


def _example_steps():
    from derive import derive

    for topic in registry.all_topics():
        for example in topic.examples:
            for step in derive(topic.name, example).steps:
                yield topic, example, step


def test_distribution_stages_are_declared_exactly():
    """Every stage flagged ``distribution`` is row-stochastic on each of its topic's examples, and every
    answer that is row-stochastic there is flagged or listed in NOT_DISTRIBUTIONS with its reason."""
    flagged, unflagged = set(), set()
    for topic, example, step in _example_steps():
        key = (topic.name, step.name)
        if topic.stage(step.name).distribution:
            flagged.add(key)
            assert _stochastic(step.value), f"{key} in example {example} is flagged but not row-stochastic"
        elif step.answer and _stochastic(step.value):
            unflagged.add(key)
    assert unflagged == set(NOT_DISTRIBUTIONS), "row-stochastic answers neither flagged nor allowed"
    assert {
        ("softmax", "softmax"),
        ("attention", "weights"),
        ("multi-head", "weights"),
        ("kv-cache", "weights"),
        ("next-token", "probabilities"),
        ("masked-lm", "probabilities"),
        ("cross-entropy", "softmax"),
        ("forward", "weights"),
    } <= flagged


def test_a_small_weight_beside_large_ones_is_right_at_the_decimals():
    """Softmax of (0, 6): 1/(1+e^6) ≈ 0.0025 and 0.9975 by hand; '0.00 1.00' is right at 2 decimals."""
    small = 1 / (1 + np.exp(6.0))
    assert 0.002 < small < 0.003
    report = check.check(registry.get("softmax"), {"x": "0 6"}, ["softmax=0.00 1.00"])
    assert report.item("softmax").verdict == "correct"
