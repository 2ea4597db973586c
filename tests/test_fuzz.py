"""Property-based fuzzing of every option of every topic (hypothesis), through the CLI in-process.

For each topic, hypothesis starts from one of its examples (or from nothing) and replaces one to
three options, chosen from the topic's own option list, with generated values: hostile numbers
(1e400, 0x10, 1_000, deep nesting, thousands of digits), the hostile strings of
tests/hostile_strings.py, malformed vectors and matrices, the example's own value with one entry
made hostile, choices and whole numbers. Every run must end in one of two ways:

- exit 0 with strict JSON (RFC 8259: no NaN or Infinity, parsed with ``parse_constant`` raising)
  and no raw hidden character;
- exit 2 with exactly one line on stderr, and no internal error.

Time budget, marked here on purpose: each case must finish within ``DEADLINE`` (hypothesis's
deadline, generous for a shared 2-core machine); derive's own guard (DERIVE_TIME_LIMIT) is set
lower, so slow exact work ends as a one-line error well inside it.

How many cases: ``DERIVE_FUZZ_EXAMPLES`` per topic; in CI (CI set) 100 per topic, several thousand
in all, derandomized so a failure reproduces; locally 10 per topic unless the variable says more.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import time
from datetime import timedelta

import pytest
from hostile_strings import HOSTILE, raw_hidden
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from derive import registry

CI = bool(os.environ.get("CI"))
EXAMPLES = int(os.environ.get("DERIVE_FUZZ_EXAMPLES") or (100 if CI else 10))
DEADLINE = timedelta(seconds=15)  # the time budget per case (derive's own guard is set to 5 s below)
GUARD_SECONDS = "5"
# No shrinking: a failing command line is already short and is printed whole, and shrinking
# cases of up to a few seconds each could take longer than the whole suite.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate)

HOSTILE_NUMBERS = (
    "1e308",
    "1e400",
    "-1e400",
    "1e-400",
    "1.7976931348623157e308",
    "5e-324",
    "0x10",
    "0b101",
    "0o17",
    "1_000",
    "1__0",
    "nan",
    "inf",
    "-inf",
    "NaN",
    "Infinity",
    "-0",
    "0",
    "00012",
    "1e",
    "e5",
    ".",
    "-",
    "--1",
    "+-1",
    "1/0",
    "0/0",
    "0**0",
    "0**-1",
    "2**64",
    "2**65",
    "10**1000",
    "(-8)**(1/3)",
    "sqrt(-1)",
    "exp(exp(exp(exp(10))))",
    "exp(9999**64)",
    "exp(710)",
    "exp(-800)",
    "sin(1e400)",
    "9" * 3990,
    "1/" + "9" * 3990,
    "0." + "3" * 5000,
    "(" * 200 + "1" + ")" * 200,
    "-" * 500 + "1",
    "sqrt(" * 30 + "2" + ")" * 30,
    "1j",
    "True",
    "None",
    "__import__('os').system('id')",
    "().__class__",
    "lambda: 1",
    "[1]",
    "{1}",
    "1,",
    "1;",
    "pi**pi**pi**pi",
    "e**e**e**e**e",
)
MALFORMED_MATRICES = (
    "",
    " ",
    ";",
    ",",
    ";,",
    ";;;",
    "[[",
    "]]",
    "[[]]",
    "[]",
    "[[1, 2], [3]]",
    "1 2; 3",
    "1 2;; 3 4",
    "[[1, 2], 3]",
    "[[[1]]]",
    "1 2 3; 4 5 6; 7 8",
    "1, , 2",
    "[1, 2",
    "1 2]",
    "; 1 2",
    "1 2 ;",
    "[[1,2];[3,4]]",
)
SIZES = ("0", "1", "2", "3", "-1", "17", "65", "1000", "100000", "10**9", "2**63", "1.5", "4e0", "", "abc")
PATHS = ("/dev/null", "/etc/passwd", "/proc/self/status", "/", ".", "..", "/nonexistent/folder", "~")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _entries(strategy, low: int = 1, high: int = 5):
    return st.lists(strategy, min_size=low, max_size=high)


_number_text = st.one_of(
    st.sampled_from(HOSTILE_NUMBERS),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.fractions(max_denominator=1000).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
_vector_text = st.one_of(
    _entries(_number_text).map(" ".join),
    _entries(_number_text).map(", ".join),
    _entries(_number_text).map(lambda xs: "[" + ", ".join(xs) + "]"),
)
_matrix_text = st.one_of(
    st.sampled_from(MALFORMED_MATRICES),
    _entries(_entries(_number_text, 1, 4), 1, 4).map(lambda rows: "; ".join(" ".join(r) for r in rows)),
    st.integers(1, 4).flatmap(
        lambda n: _entries(_entries(st.integers(-9, 9).map(str), n, n), 1, 4).map(
            lambda rows: "[[" + "], [".join(", ".join(r) for r in rows) + "]]"
        )
    ),
)
_text = st.one_of(
    st.sampled_from([text for _, text in HOSTILE]),
    st.text(max_size=60),
    st.sampled_from(PATHS),
)


def _value(option, example_value):
    """Values for one option: everything hostile, plus its own example value with one entry made hostile."""
    choices = [st.sampled_from(option.choices)] if option.choices else []
    mutated = []
    if isinstance(example_value, str) and _NUMBER.search(example_value):
        spans = [m.span() for m in _NUMBER.finditer(example_value)]
        mutated = [
            st.tuples(st.sampled_from(spans), _number_text).map(
                lambda pick: example_value[: pick[0][0]] + pick[1] + example_value[pick[0][1] :]
            )
        ]
    return st.one_of(
        *choices,
        *mutated,
        _number_text,
        _vector_text,
        _matrix_text,
        st.sampled_from(SIZES),
        _text,
    )


@st.composite
def _arguments(draw, topic):
    """A command line: an example (or none), one to three options replaced, and maybe a flag."""
    example = draw(st.sampled_from([None, *topic.examples]))
    base = topic.examples.get(example, {}) if example else {}
    valued = [o for o in topic.options if o.flag_value is None]
    chosen = draw(st.lists(st.sampled_from(valued), min_size=1, max_size=3, unique_by=lambda o: o.name))
    args = [topic.name] + (["--example", example] if example else [])
    for option in chosen:
        args += [option.flag, draw(_value(option, base.get(option.name)))]
    flags = [o for o in topic.options if o.flag_value is not None]
    if flags and draw(st.booleans()):
        args.append(draw(st.sampled_from(flags)).flag)
    return args + ["-f", "json"]


def _no_constants(name: str):
    raise ValueError(f"not strict JSON: {name}")


def run_cli(args: list[str]) -> tuple[int, str, str, float]:
    from derive.cli import run

    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(args)
    return code, out.getvalue(), err.getvalue(), time.monotonic() - start


def assert_contract(args: list[str]) -> None:
    code, out, err, _ = run_cli(args)
    shown = [a if len(a) < 80 else a[:77] + "..." for a in args]
    assert "Traceback" not in err and "internal error" not in err, (shown, err)
    if code == 0:
        json.loads(out, parse_constant=_no_constants)
        assert not raw_hidden(out), (shown, raw_hidden(out)[:5])
    else:
        assert code == 2, (shown, code, err)
        assert err.startswith("Error: ") and err.count("\n") == 1, (shown, err)
        assert not raw_hidden(err), (shown, err)
        assert out == "", (shown, out[:200])


@pytest.fixture(autouse=True)
def _guard(monkeypatch):
    monkeypatch.setenv("DERIVE_TIME_LIMIT", GUARD_SECONDS)
    monkeypatch.setenv("COLUMNS", "100")


@pytest.mark.parametrize("name", registry.names())
def test_every_option_of_every_topic_exits_0_with_strict_json_or_2_with_one_line(name):
    topic = registry.get(name)

    @settings(
        max_examples=EXAMPLES,
        deadline=DEADLINE,
        derandomize=CI,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        phases=PHASES,
    )
    @given(_arguments(topic))
    def fuzz(args):
        assert_contract(args)

    fuzz()


_check_answer = st.one_of(_number_text, _vector_text, _matrix_text, _text)


@pytest.mark.parametrize("name", ["softmax", "attention", "layer-norm", "cross-entropy"])
def test_checker_answers_and_tolerances_exit_0_1_or_2(name):
    """``derive check``: any answer or tolerance gives a verdict (0 or 1) or a one-line error (2)."""
    topic = registry.get(name)
    example = next(iter(topic.examples))

    @settings(
        max_examples=max(EXAMPLES // 2, 5), deadline=DEADLINE, derandomize=CI, database=None, phases=PHASES
    )
    @given(
        answer_id=st.sampled_from([*topic.answer_ids, "nope", ""]),
        answer=_check_answer,
        tolerance=st.one_of(st.none(), st.tuples(st.sampled_from(["--rtol", "--atol"]), _number_text)),
    )
    def fuzz(answer_id, answer, tolerance):
        args = ["check", name, "--example", example, "--answer", f"{answer_id}={answer}", "-f", "json"]
        args += list(tolerance or ())
        code, out, err, _ = run_cli(args)
        assert "Traceback" not in err and "internal error" not in err, (args, err)
        if code in (0, 1):
            json.loads(out, parse_constant=_no_constants)
        else:
            assert code == 2 and err.count("\n") == 1, (args, code, err)

    fuzz()


FOUND = [
    # simplify() of a Jacobian row overflowed converting a 10^400 exponent to a float
    [
        "softmax-jacobian",
        "--x",
        "[-1.5605999057162174e+150, 0, -5234048899114128665216452395008/3, 1e400, 941]",
    ],
    # a --vocab path too long for the file system raised OSError from Path.exists()
    ["tokenize", "--example", "unaffable", "--vocab", "9" * 300],
]


@pytest.mark.parametrize("args", FOUND, ids=lambda args: args[0])
def test_inputs_fuzzing_once_broke_keep_the_contract(args):
    assert_contract([*args, "-f", "json"])
