"""Grade a student's answers to one problem by re-running the topic's own stages.

For each asked answer, in the order of the stages, the diagnoses are tried in this order:

1. **correct**: every entry within the task's precision of the exact value (half a unit of the
   last decimal asked for), plus the slack that carrying one's own rounded earlier answers needs;
2. **follows-through**: right when recomputed from the student's own earlier answers, if those
   are plausible (``follow_through``), so an earlier slip is counted once;
3. **wrong**, naming a misconception: the stage's own (``Stage.mistakes``, tried on the true and
   on the student's inputs), then the generic ones (``misconceptions``);
4. **imprecise**: right only at fewer decimals than the task asks (no credit: "give 2 decimals");
5. **wrong**.

An empty answer is ``blank``. A misconception is tried before ``imprecise`` because a coarse
answer that is exactly a misconception's (``0 0 1`` for a softmax: the hard max) is that mistake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import mpmath

from derive.errors import InputError
from derive.grading import follow_through, misconceptions, reading, symbolic
from derive.grading.precision import SAME, Precision, decimals_of, half_unit, places
from derive.grading.report import (
    BLANK,
    CORRECT,
    FOLLOWS_THROUGH,
    IMPRECISE,
    UNREADABLE,
    WRONG,
    AnswerReport,
    Entry,
    Report,
)
from derive.model import Givens, Topic, Values


def true_values(topic: Topic, givens: Givens) -> tuple[Values, dict[str, Any]]:
    """Every stage's exact value (no explanations: grading needs numbers only), and the answers."""
    values = Values(givens.values)
    answers = {}
    for stage in topic.stages:
        value = stage.compute(values)
        values = values.updated(**{stage.name: value})
        if stage.answer and not (stage.optional and value is None):
            answers[stage.name] = value
    return values, answers


def check_ids(topic: Topic, answers: Mapping[str, str], option: str = "--answer") -> None:
    for name in answers:
        if name not in topic.answer_ids:
            raise InputError(
                option, f"unknown answer id {name[:40]!r}; expected one of {', '.join(topic.answer_ids)}"
            )
    if not answers:
        raise InputError(option, f"give at least one answer, such as --answer {topic.result}=...")


def grade(
    topic: Topic,
    givens: Givens,
    answers: Mapping[str, str],
    precision: Precision | None = None,
    strict: bool = True,
    option: str = "--answer",
) -> Report:
    """Judge each answer (id -> the text written); ``strict`` refuses an unreadable one (InputError),
    otherwise it is graded ``unreadable``, as a class's files are."""
    check_ids(topic, answers, option)
    precision = precision or Precision()
    truth_values, truth = true_values(topic, givens)
    names = topic.names(truth_values) if topic.names else {}
    student = truth_values
    carried: dict[str, reading.Written] = {}
    all_right = True
    items = []
    for stage in topic.stages:
        if stage.name not in answers:
            continue
        expected = truth.get(stage.name)
        if expected is None or not reading.flat(expected):
            raise InputError(option, f"{stage.name}: nothing to check with these options")
        raw = str(answers[stage.name])
        if not raw.strip():
            items.append(AnswerReport(stage.name, BLANK, expected=expected))
            all_right = False
            continue
        try:
            written = reading.read(raw, expected, option, names)
        except InputError as error:
            if strict:
                raise InputError(option, f"{stage.name}: {error.message}") from None
            items.append(
                AnswerReport(stage.name, UNREADABLE, hint=error.message, written=raw, expected=expected)
            )
            all_right = False
            continue
        item = replace(
            _judge(
                stage,
                written,
                expected,
                truth_values,
                student,
                carried,
                precision.for_answer(_sizes(expected)),
                all_right,
            ),
            written=raw.strip(),
        )
        items.append(item)
        all_right = all_right and item.verdict == CORRECT
        if item.verdict == CORRECT or follow_through.plausible(written, expected):
            student = student.updated(**{stage.name: written.value})
            carried[stage.name] = written
    return Report(topic.name, tuple(items), precision.describe(), vector_input=givens.vector_input)


def _sizes(expected) -> list:
    """The answer's numeric entries (a symbolic entry has no size)."""
    sizes = []
    for entry in reading.flat(expected):
        try:
            sizes.append(reading.number(entry))
        except TypeError:
            continue
    return sizes


def _judge(stage, written, expected, truth_values, student, carried, precision, all_right) -> AnswerReport:
    """The diagnoses of the module docstring, in their order."""
    own = follow_through.safely(stage.compute, student) if carried else None
    slack = follow_through.carried_slack(stage, student, carried, own, precision) if own is not None else None
    if slack is not None and len(slack) != len(written.flat):
        slack = None  # the recomputation has another shape: its rounding says nothing about this answer
    entries, shape_note = _compare(written, expected, precision, slack)

    def report(verdict, mistake=None, hint=None):
        return AnswerReport(stage.name, verdict, tuple(entries), shape_note, mistake, hint, expected=expected)

    if shape_note is None and all(e.correct for e in entries):
        return report(CORRECT)
    if own is not None and _agrees(written, own, precision, slack):
        return report(CORRECT if all_right else FOLLOWS_THROUGH)
    inputs = (truth_values, student) if student is not truth_values else (truth_values,)
    for mistake in stage.mistakes:
        for values in inputs:
            candidate = follow_through.safely(mistake.compute, values)
            if candidate is not None and _agrees(written, candidate, precision, slack):
                return report(WRONG, mistake.id, mistake.hint)
    if misconceptions.is_weights(stage, expected):
        if _agrees(written, misconceptions.hard_max(expected), precision):
            return report(WRONG, misconceptions.HARD_MAX, misconceptions.HARD_MAX_HINT)
        if misconceptions.rows_not_summing(written, expected, _rooms(written, precision, slack)):
            return report(WRONG, misconceptions.ROWS_NOT_SUMMING, misconceptions.ROWS_NOT_SUMMING_HINT)
    elif misconceptions.is_symbolic_weights(stage, expected):
        if misconceptions.one_hot(written, expected):
            return report(WRONG, misconceptions.HARD_MAX, misconceptions.HARD_MAX_HINT)
        if misconceptions.rows_not_summing_symbolically(written, expected):
            return report(WRONG, misconceptions.ROWS_NOT_SUMMING, misconceptions.ROWS_NOT_SUMMING_HINT)
    if shape_note is None and not precision.explicit and _imprecise(written, entries, slack, precision):
        return report(IMPRECISE, hint=_precision_hint(entries, precision))
    return report(WRONG)


def _close(given, expected, precision: Precision, slack=0) -> bool:
    if isinstance(expected, str) or isinstance(given, str):
        return given == expected
    if reading.symbolic(expected) or reading.symbolic(given):
        return symbolic.same(given, expected)
    g, e = reading.number(given), reading.number(expected)
    # Both were rounded to mpmath's working precision: 0.07 would lie a hair past 0.065's half unit.
    rounding = 4 * mpmath.mp.eps * max(abs(g), abs(e))
    return abs(g - e) <= precision.allowance(e) + slack + SAME + rounding


def _compare(written, expected, precision, slack) -> tuple[list[Entry], str | None]:
    """Entry by entry; ``slack`` widens each entry's allowance (rounding carried in from earlier)."""
    truth = reading.flat(expected)
    if len(written.flat) != len(truth):
        rows, cols = reading.shape(expected)
        return [], f"expected {rows}×{cols} = {len(truth)} values, got {len(written.flat)}"
    cols = reading.shape(expected)[1]
    entries = []
    for index, (given, true) in enumerate(zip(written.flat, truth)):
        ok = _close(given, true, precision, slack[index] if slack else 0)
        entries.append(Entry(index // cols + 1, index % cols + 1, given, true, ok, written.texts[index]))
    return entries, None


def _agrees(written, candidate, precision, slack=None) -> bool:
    if reading.shape(candidate) != reading.shape(written.value) and len(reading.flat(candidate)) > 1:
        return False
    try:
        entries, note = _compare(written, candidate, precision, slack)
    except (TypeError, ValueError, ArithmeticError):
        return False
    return note is None and all(e.correct for e in entries)


def _rooms(written, precision, slack) -> list:
    """Per entry, the rounding it may carry: the task's, or the coarser one it was written to."""
    rooms = []
    for index, text in enumerate(written.texts):
        decimals = decimals_of(text)
        coarse = half_unit(decimals) if decimals is not None else 0
        rooms.append(max(precision.allowance(1), coarse) + (slack[index] if slack else 0))
    return rooms


def _precision_hint(entries, precision) -> str:
    """Decimals, or significant figures where a value is too small to show at those decimals."""
    decimals = precision.decimals
    tiny = places(decimals, precision.scale) > decimals
    return f"give {max(decimals, 1)} significant figures" if tiny else f"give {decimals} decimals"


def _imprecise(written, entries, slack, precision) -> bool:
    """Every entry right at least at the decimals it was written to, and some written to fewer than asked."""
    coarse = False
    for index, entry in enumerate(entries):
        if entry.correct:
            continue
        if reading.symbolic(entry.expected) or reading.symbolic(entry.given):
            return False  # letters are exact: there are no decimals to have given too few of
        decimals = decimals_of(entry.written)
        if decimals is None or decimals >= precision.decimals:
            return False
        distance = abs(reading.number(entry.given) - reading.number(entry.expected))
        if distance > half_unit(decimals) + (slack[index] if slack else 0) + SAME:
            return False
        coarse = True
    return coarse
