"""derive practice, driven through a pseudo-terminal as a student types: right, ?, a misconception, q."""

from __future__ import annotations

import os
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import require

ROOT = Path(__file__).resolve().parents[1]
SEED = 11


def spawn(*args: str):
    pexpect = require("pexpect")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "80"}
    child = pexpect.spawn(
        sys.executable, ["-m", "derive", "practice", *args], encoding="utf-8", timeout=120, env=env
    )
    return pexpect, child


def logits(seed: int) -> np.ndarray:
    """The inputs of the problem the seed draws (the values a student is asked for come from NumPy)."""
    from derive.practice import draw

    given = draw("softmax", None, seed, 2).given
    return np.array([float(Fraction(e)) for e in given["x"].split()])


def typed(values) -> str:
    return " ".join(f"{v:.4f}" for v in np.ravel(values))


def test_a_student_session_right_shown_misconception_and_quit():
    x = logits(SEED)
    pexpect, child = spawn("softmax", "--seed", str(SEED))
    child.expect("Step 1 of 3: Exponentiate")
    child.expect("exp> ")
    child.sendline(typed(np.exp(x)))
    child.expect("✔ correct")
    child.expect("sum> ")
    child.sendline("?")
    child.expect("Worked: Sum each row")
    shown = child.expect(["sum \\(type it", pexpect.TIMEOUT], timeout=30)
    assert shown == 0
    assert f"{np.exp(x).sum():.4f}" in child.before  # the worked step shows the value, as asked
    child.sendline("")
    child.expect("softmax> ")
    child.sendline(typed(x / x.sum()))  # divided without exponentiating
    child.expect("✘ wrong")
    child.expect("softmax \\(try again")
    feedback = child.before
    assert "no-exp" in feedback and "Exponentiate each value" in feedback
    softmax = np.exp(x) / np.exp(x).sum()
    assert f"{softmax[0]:.2f}" not in feedback and f"{softmax[0]:.4f}" not in feedback  # nothing revealed
    child.sendline("q")
    child.expect("Summary")
    child.expect(pexpect.EOF)
    summary = child.before
    assert "✔ exp" in summary and "worked step shown" in summary and "wrong (no-exp)" in summary
    assert "Score: 1 of 3" in summary
    child.close()
    assert child.exitstatus == 0


def test_a_wrong_answer_kept_is_followed_through_and_a_second_try_counts_as_such():
    x = logits(SEED)
    wrong_exp = np.exp(x) + np.array([1.0, 0, 0])
    pexpect, child = spawn("softmax", "--seed", str(SEED))
    child.expect("exp> ")
    child.sendline(typed(wrong_exp))
    child.expect("✘ wrong")
    child.expect("exp \\(try again")
    child.sendline("")  # move on with the wrong exponentials
    child.expect("sum> ")
    child.sendline(typed(wrong_exp.sum()))
    child.expect("↪ follows through")
    child.expect("softmax> ")
    child.sendline(typed(wrong_exp / wrong_exp.sum()))
    child.expect("↪ follows through")
    child.expect(pexpect.EOF)
    assert "Score: 2 of 3" in child.before and "✘ exp      wrong" in child.before
    child.close()
    assert child.exitstatus == 0

    pexpect, child = spawn("softmax", "--seed", str(SEED))
    child.expect("exp> ")
    child.sendline(typed(wrong_exp))
    child.expect("exp \\(try again")
    child.sendline(typed(np.exp(x)))
    child.expect("✔ correct")
    child.expect("sum> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert "wrong, right on try 2" in child.before and "· sum" in child.before
    child.close()
    assert child.exitstatus == 0


def test_fewer_decimals_than_asked_is_imprecise_and_a_one_hot_is_hard_max():
    x = logits(SEED)
    softmax = np.exp(x) / np.exp(x).sum()
    pexpect, child = spawn("softmax", "--seed", str(SEED))
    for answer_id in ("exp", "sum"):
        child.expect(f"{answer_id}> ")
        child.sendline("")  # a blank line explains what to type
        child.expect("Type your answer")
        child.sendline("?")
        child.expect("Enter to skip\\)> ")
        child.sendline("")
    child.expect("softmax> ")
    child.sendline(" ".join(f"{v:.1f}" for v in softmax))
    child.expect("≈ imprecise")
    child.expect("give 2 decimals")
    child.expect("softmax \\(try again")
    child.sendline(" ".join("1" if v == softmax.max() else "0" for v in softmax))
    child.expect("hard-max")
    child.expect("Softmax is not argmax")
    child.sendline("q")
    child.expect(pexpect.EOF)
    assert "≈ softmax  imprecise" in child.before and "Score: 0 of 3" in child.before
    child.close()
    assert child.exitstatus == 0


def test_end_of_input_quits_cleanly_with_a_summary():
    pexpect, child = spawn("softmax", "--seed", "3")
    child.expect("exp> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    assert "Summary" in child.before and "Traceback" not in child.before
    child.close()
    assert child.exitstatus == 0


def test_the_same_seed_gives_the_same_problem(cli):
    first = cli("practice", "softmax", "--seed", "5")
    assert first == cli("practice", "softmax", "--seed", "5")
    code, out, err = first
    assert code == 0 and not err and "Summary" in out and "--seed 5" in out


def _without_variants() -> str:
    from derive import registry
    from derive.worksheet import variants

    return next(name for name in registry.names() if name not in variants.topics())


@pytest.mark.parametrize(
    "args, message",
    [
        (
            (_without_variants(),),
            f"no practice problems for '{_without_variants()}'; topics with practice problems: ",
        ),
        (("no-such-topic",), "unknown topic 'no-such-topic'"),
        (("softmax", "--level", "9"), "--level: softmax has levels 1, 2, 3"),
    ],
)
def test_a_topic_without_variants_is_refused_with_the_list(cli, args, message):
    from derive.worksheet import variants

    code, out, err = cli("practice", *args)
    assert code == 2 and not out and message in err and err.count("\n") == 1
    if "--level" not in args:
        assert ", ".join(variants.topics()) in err


def test_practice_skips_the_answers_a_level_cannot_ask():
    from derive.practice import draw

    asked = draw("cost", 1, SEED, 2).asked
    assert "parameters" in asked and "kv_cache_bytes" not in asked and "pooler" not in asked
    assert "kv_cache_bytes" in draw("cost", 3, SEED, 2).asked


def test_practice_lists_what_the_sheet_lists_beside_the_inputs():
    from derive.practice import draw

    assert "[CLS] → 2" in draw("tokenize", 1, SEED, 2).task and "→" not in draw("softmax", 1, SEED, 2).task


@pytest.mark.parametrize("topic", ["bpe-train", "vectorize", "cost"])
def test_a_long_task_and_its_glossary_wrap_to_the_terminal(cli, topic):
    code, out, err = cli("practice", topic, "--seed", "3", "--level", "2")
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 80
