"""derive check with answers in letters: misconceptions named as for numbers, symbolic equality that
never passes a wrong answer, and follow-through from earlier answers in letters.

Every answer below is written by hand from the textbook formula (p = e^a/(e^a + e^b), ...), and its
numeric twin is computed with NumPy from the same formula at numbers put in for the letters.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from derive.grading import FOLLOWS_THROUGH, WRONG, grade_problem, symbolic

a, b, c, d = sp.symbols("a b c d", real=True)

# p written by hand for logits (a, b), and for a second row (c, d)
P1, P2 = "exp(a)/(exp(a)+exp(b))", "exp(b)/(exp(a)+exp(b))"
Q1, Q2 = "exp(c)/(exp(c)+exp(d))", "exp(d)/(exp(c)+exp(d))"
SQUARE = "(exp(a)+exp(b))**2"


def _softmax(row) -> np.ndarray:
    e = np.exp(np.asarray(row, dtype=float))
    return e / e.sum()


def _text(matrix) -> str:
    return "; ".join(" ".join(f"{v:.4f}" for v in row) for row in np.atleast_2d(matrix))


# (topic, options in letters, the same options in numbers, answer id, the answer in letters,
#  its numeric twin by NumPy, the misconception both must be named)
CASES = [
    (
        "cross-entropy",
        {"logits": "a b", "target": "1"},
        {"logits": "2 1", "target": "1"},
        "gradient",
        f"1-{P1} -{P2}",
        lambda: np.array([1, 0]) - _softmax([2, 1]),
        "sign-flipped",
    ),
    (
        "cross-entropy",
        {"logits": "a b; c d", "target": "1 2"},
        {"logits": "2 1; 0 3", "target": "1 2"},
        "gradient",
        f"{P1}-1 {P2}; {Q1} {Q2}-1",
        lambda: np.vstack([_softmax([2, 1]) - [1, 0], _softmax([0, 3]) - [0, 1]]),
        "not-divided-by-n",
    ),
    (
        "softmax-jacobian",
        {"x": "a b"},
        {"x": "2 1"},
        "jacobian",
        f"-exp(2*a)/{SQUARE} -exp(a+b)/{SQUARE}; -exp(a+b)/{SQUARE} -exp(2*b)/{SQUARE}",
        lambda: -np.outer(_softmax([2, 1]), _softmax([2, 1])),
        "no-diagonal-term",
    ),
    (
        "softmax-jacobian",
        {"x": "a b"},
        {"x": "2 1"},
        "jacobian",
        f"exp(a+b)/{SQUARE} 0; 0 exp(a+b)/{SQUARE}",
        lambda: np.diag(_softmax([2, 1]) * (1 - _softmax([2, 1]))),
        "diagonal-only",
    ),
    (
        "softmax",
        {"x": "a b"},
        {"x": "2 1"},
        "softmax",
        "1 0",
        lambda: np.array([1.0, 0.0]),
        "hard-max",
    ),
    (
        "softmax",
        {"x": "a b"},
        {"x": "2 1"},
        "softmax",
        "exp(a) exp(b)",
        lambda: np.exp([2.0, 1.0]),
        "not-normalised",
    ),
    (
        "cross-entropy",
        {"logits": "a b", "target": "1"},
        {"logits": "2 1", "target": "1"},
        "softmax",
        "exp(a) exp(b)",
        lambda: np.exp([2.0, 1.0]),
        "rows-not-summing-to-one",
    ),
    (
        "attention",
        {"q": "q_1; q_2", "k": "k_1; k_2", "v": "1; 2"},
        {"q": "1; -1", "k": "1; -1", "v": "1; 2"},
        "weights",
        "1 0; 0 1",
        lambda: np.eye(2),
        "hard-max",
    ),
    (  # causal mask with zero scores: A = [[1, 0], [1/2, 1/2]]; dV = A^T dO, the mistake A dO
        "attention-backward",
        {"q": "0; 0", "k": "0; 0", "v": "v_1; v_2", "grad_output": "g_1; g_2", "mask": "causal"},
        {"q": "0; 0", "k": "0; 0", "v": "1; 3", "grad_output": "1; 2", "mask": "causal"},
        "dV",
        "g_1; g_1/2+g_2/2",
        lambda: np.array([[1, 0], [0.5, 0.5]]) @ np.array([[1.0], [2.0]]),
        "weights-not-transposed",
    ),
    (  # Adam's first step: m = (1 - 0.9) g, and m_hat = m / (1 - 0.9^1) = g; the mistake stops at m
        "optimizer-step",
        {"optimizer": "adam", "params": "theta_1", "grad": "g_1", "lr": "0.1"},
        {"optimizer": "adam", "params": "1", "grad": "0.5", "lr": "0.1"},
        "m_hat",
        "g_1/10",
        lambda: np.array([(1 - 0.9) * 0.5]),
        "no-bias-correction",
    ),
]


def _verdict(cli, topic, options, answer_id, answer):
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    code, out, err = cli("check", topic, *args, "--answer", f"{answer_id}={answer}", "-f", "json")
    assert code in (0, 1), err
    return json.loads(out)["answers"][answer_id]


@pytest.mark.parametrize("topic,letters,numbers,answer_id,written,numeric,mistake", CASES)
def test_a_misconception_in_letters_is_named_as_in_numbers(
    cli, topic, letters, numbers, answer_id, written, numeric, mistake
):
    symbolic_report = _verdict(cli, topic, letters, answer_id, written)
    numeric_report = _verdict(cli, topic, numbers, answer_id, _text(numeric()))
    assert (symbolic_report["verdict"], symbolic_report["mistake"]) == (WRONG, mistake)
    assert (numeric_report["verdict"], numeric_report["mistake"]) == (WRONG, mistake)
    assert symbolic_report["hint"] == numeric_report["hint"]


@pytest.mark.parametrize(
    "topic,options,answer",
    [
        ("cross-entropy", {"logits": "a b", "target": "1"}, f"gradient={P1}-1 {P2}"),
        ("cross-entropy", {"logits": "a b", "target": "1"}, "gradient=-1/(1+exp(a-b)) 1/(1+exp(a-b))"),
        (
            "softmax-jacobian",
            {"x": "a b"},
            f"jacobian=exp(a+b)/{SQUARE} -exp(a+b)/{SQUARE}; -exp(a+b)/{SQUARE} exp(a+b)/{SQUARE}",
        ),
        ("softmax", {"x": "a b"}, "softmax=1/(1+exp(b-a)) 1/(1+exp(a-b))"),
    ],
)
def test_the_right_answer_in_another_form_is_correct(cli, topic, options, answer):
    args = [f"--{k.replace('_', '-')}={v}" for k, v in options.items()]
    code, out, err = cli("check", topic, *args, "--answer", answer)
    assert code == 0, out + err


def test_a_wrong_answer_that_names_no_misconception_is_plain_wrong(cli):
    report = _verdict(cli, "softmax", {"x": "a b"}, "softmax", "1/2 1/2")
    assert (report["verdict"], report["mistake"]) == (WRONG, None)


# --- symbolic equality ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given,expected",
    [
        (sp.exp(a) / (sp.exp(a) + sp.exp(b)), 1 / (1 + sp.exp(b - a))),
        (sp.erf(a) + sp.erf(-a), sp.Integer(0)),
        (sp.exp(a + b) / (sp.exp(a) + sp.exp(b)) ** 2, sp.exp(a) * sp.exp(b) / (sp.exp(a) + sp.exp(b)) ** 2),
        ((a - b + sp.sqrt((a - b) ** 2)) / 2, sp.Max(0, a - b)),
        (sp.Rational(3, 7), sp.Rational(6, 14)),
    ],
)
def test_equal_expressions_are_equal(given, expected):
    assert symbolic.same(given, expected)


@pytest.mark.parametrize(
    "given,expected",
    [
        (sp.Integer(0), sp.Max(0, a)),  # right for a < 0 only
        (a, sp.Max(0, a)),  # right for a > 0 only
        (a - b, sp.Max(0, a - b)),
        (a + sp.Rational(1, 10**30), a),
        (a + sp.Rational(1, 10**45), a),  # below the 50-digit tolerance: the exact comparison sees it
        (sp.exp(a) + sp.Rational(1, 10**100), sp.exp(a)),  # the certified evaluation sees it
        (sp.exp(a) / (sp.exp(a) + sp.exp(b)), sp.exp(b) / (sp.exp(a) + sp.exp(b))),
        (sp.exp(c), sp.exp(a)),  # a letter the problem does not have
        (sp.Rational(1, 2), sp.exp(a) / (sp.exp(a) + sp.exp(b))),
    ],
)
def test_different_expressions_are_never_equal(given, expected):
    assert not symbolic.same(given, expected)


def test_a_misconception_is_not_named_for_an_answer_that_only_nearly_equals_it(cli):
    """For logits of 10^1000 a, "1 0" is within 10^-1000 of the no-exp candidate, never equal to it:
    it is a hard max."""
    report = _verdict(cli, "softmax", {"x": "1e1000*a b"}, "softmax", "1 0")
    assert (report["verdict"], report["mistake"]) == (WRONG, "hard-max")


def test_max_of_letters_is_not_passed_by_a_guess(cli):
    """ReLU of a letter: 0 is right only for a negative a, a only for a positive one."""
    options = ["--x", "a 1", "--w1", "1 0; 0 1", "--w2", "1 0; 0 1"]
    for wrong in ("activated=0 1", "activated=a 1"):
        assert cli("check", "feed-forward", *options, "--answer", wrong)[0] == 1


def test_the_points_decide_without_simplify(monkeypatch):
    """simplify can take seconds: it is called only where no point is defined."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("simplify called")

    monkeypatch.setattr(sp, "simplify", refuse)
    assert symbolic.same(sp.exp(a) / (sp.exp(a) + sp.exp(b)), 1 / (1 + sp.exp(b - a)))
    assert not symbolic.same(sp.exp(a), sp.exp(b))


def test_the_verdict_is_the_same_every_time():
    first = symbolic.points({a, b, c})
    assert first == symbolic.points({c, b, a})
    assert {p[a] > 0 for p in first} == {True, False}


# --- follow-through from answers in letters -----------------------------------------------------


def _verdicts(topic, given, answers):
    report = grade_problem(topic, given, answers)
    return {item.id: item.verdict for item in report.items}


def test_later_answers_follow_through_from_an_earlier_one_in_letters():
    # exp wrong (e^{2b} for e^b); the sum and softmax computed by hand from it
    verdicts = _verdicts(
        "softmax",
        {"x": "a b"},
        {
            "exp": "exp(a) exp(2*b)",
            "sum": "exp(a)+exp(2*b)",
            "softmax": "exp(a)/(exp(a)+exp(2*b)) exp(2*b)/(exp(a)+exp(2*b))",
        },
    )
    assert verdicts == {"exp": WRONG, "sum": FOLLOWS_THROUGH, "softmax": FOLLOWS_THROUGH}


def test_the_gradient_follows_through_from_a_wrong_softmax_in_letters():
    r1, r2 = "exp(a)/(exp(a)+exp(2*b))", "exp(2*b)/(exp(a)+exp(2*b))"
    verdicts = _verdicts(
        "cross-entropy",
        {"logits": "a b", "target": "1"},
        {"softmax": f"{r1} {r2}", "gradient": f"{r1}-1 {r2}"},
    )
    assert verdicts == {"softmax": WRONG, "gradient": FOLLOWS_THROUGH}


@pytest.mark.parametrize(
    "exps,total",
    [
        ("c d", "c+d"),  # letters the problem does not have
        ("a a", "2*a"),  # one value throughout, where the truth has two
        ("0 0", "0"),
        ("1 2", "3"),  # numbers for a problem in letters
    ],
)
def test_implausible_earlier_answers_in_letters_are_not_carried(exps, total):
    verdicts = _verdicts("softmax", {"x": "a b"}, {"exp": exps, "sum": total})
    assert verdicts == {"exp": WRONG, "sum": WRONG}


# --- answers written with the functions of a derivation in letters --------------------------------


@pytest.mark.parametrize(
    "topic,options,answer,mistake",
    [
        ("cross-entropy", ["--logits", "a b", "--target", "1"], f"loss=-log({P1})", None),
        ("cross-entropy", ["--logits", "a b", "--target", "1"], "loss=log(1+exp(b-a))", None),
        ("cross-entropy", ["--logits", "a b", "--target", "1"], f"loss=log({P1})", "no-minus"),
        (
            "feed-forward",
            ["--x", "a 1", "--w1", "1 0; 0 1", "--w2", "1 0; 0 1"],
            "activated=max(a, 0) 1",
            None,
        ),
        (
            "feed-forward",
            ["--x", "a", "--w1", "1", "--w2", "1", "--activation", "gelu"],
            "activated=a/2*(1+erf(a/sqrt(2)))",
            None,
        ),
        (
            "feed-forward",
            ["--x", "a", "--w1", "1", "--w2", "1", "--activation", "gelu-tanh"],
            "activated=a/2*(1+tanh(sqrt(2/pi)*(a+0.044715*a**3)))",
            None,
        ),
        (
            "feed-forward",
            ["--x", "a", "--w1", "1", "--w2", "1", "--activation", "gelu"],
            "activated=max(0, a)",
            "relu-for-gelu",
        ),
    ],
)
def test_answers_with_log_max_erf_tanh(cli, topic, options, answer, mistake):
    code, out, err = cli("check", topic, *options, "--answer", answer, "-f", "json")
    assert code == (0 if mistake is None else 1), out + err
    report = next(iter(json.loads(out)["answers"].values()))
    assert report["mistake"] == mistake


@pytest.mark.parametrize(
    "args",
    [
        ["check", "softmax", "--x", "a b", "--answer", "softmax=log(0) 1"],
        ["check", "softmax", "--x", "a b", "--answer", "softmax=log(-1) 1"],
        ["check", "softmax", "--x", "a b", "--answer", "softmax=max(a) 1"],
        ["check", "softmax", "--x", "a b", "--answer", "softmax=erf(a, b) 1"],
        ["check", "softmax", "--x", "1 2", "--answer", "softmax=log(2) 1"],  # numbers only: no log
        ["softmax", "--x", "1 2", "--temperature", "max(1, 2)"],
    ],
)
def test_functions_outside_letters_or_misused_are_refused(cli, args):
    code, out, err = cli(*args)
    assert code == 2 and not out and len(err.strip().splitlines()) == 1 and "Error: --" in err


def test_reveal_shows_the_exact_form_in_letters_within_80_columns(cli):
    jacobian = f"-exp(2*a)/{SQUARE} -exp(a+b)/{SQUARE}; -exp(a+b)/{SQUARE} -exp(2*b)/{SQUARE}"
    code, out, _ = cli(
        "check", "softmax-jacobian", "--x", "a b", "--answer", f"jacobian={jacobian}", "--reveal"
    )
    assert code == 1 and max(map(len, out.splitlines())) <= 80
    code, out, _ = cli(
        "check", "feed-forward", "--x", "a", "--w1", "1", "--w2", "1", "--activation", "gelu",
        "--answer", "activated=max(0, a)", "--reveal",
    )  # fmt: skip
    assert code == 1 and "expected a*(1 + erf(a*sqrt(2)/2))/2" in out and "0.7071" not in out
