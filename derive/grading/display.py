"""How a check report reads: a line per answer in the terminal, or the JSON report.

The terminal shows verdicts, the misconception and its hint, never the expected value unless
``reveal`` (a student checking homework must not be handed the answer); JSON always has everything.
"""

from __future__ import annotations

import json

from derive import printing
from derive.grading.report import BLANK, CORRECT, FOLLOWS_THROUGH, IMPRECISE, UNREADABLE, WRONG
from derive.numbers import to_exact, to_float
from derive.visible import in_json, visible

_MARK = {CORRECT: "✔", WRONG: "✘", FOLLOWS_THROUGH: "↪", IMPRECISE: "≈", BLANK: "·", UNREADABLE: "?"}
_WORD = {
    CORRECT: "correct",
    WRONG: "wrong",
    FOLLOWS_THROUGH: "follows through",
    IMPRECISE: "imprecise",
    BLANK: "blank",
    UNREADABLE: "unreadable",
}
_SHOWN_ENTRIES = 6


def _show(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return str(value)
    if getattr(value, "free_symbols", None):  # letters: the exact form, not its constants to 6 digits
        return printing.plain(value)
    return printing.plain(printing.sp.N(value, 6))


def _entry_lines(item, pad: str, reveal: bool) -> list[str]:
    wrong = [e for e in item.entries if not e.correct]
    lines = []
    for entry in wrong[:_SHOWN_ENTRIES]:
        where = f"row {entry.row}, col {entry.col}: " if len(item.entries) > 1 else ""
        shown = f"you wrote {entry.written}"
        lines += _wrapped(
            f"{where}{shown}, expected {_show(entry.expected)}" if reveal else f"{where}{shown}", pad
        )
    if len(wrong) > _SHOWN_ENTRIES:
        lines.append(f"{pad}... and {len(wrong) - _SHOWN_ENTRIES} more")
    return lines


def _terminal(report, reveal: bool, heading: str | None = None) -> str:
    heading = heading or f"Checking {report.topic}" + (
        f" (to {report.precision})" if report.precision else ""
    )
    lines = [heading, ""]
    lines += [f"note: {note}" for note in report.notes]
    width = max(len(item.id) for item in report.items)
    pad = " " * (width + 4)
    for item in report.items:
        summary = _WORD[item.verdict]
        wrong = [e for e in item.entries if not e.correct]
        if item.verdict in (WRONG, IMPRECISE) and len(item.entries) > 1:
            summary += f": {len(wrong)} of {len(item.entries)} entries"
        if item.verdict == IMPRECISE:
            summary += f"; {item.hint}"
        lines.append(f"{_MARK[item.verdict]} {item.id:<{width}}  {summary}")
        if item.shape_note:
            lines.append(f"{pad}{item.shape_note}")
        if item.verdict in (WRONG, IMPRECISE):
            lines += _entry_lines(item, pad, reveal)
        if item.verdict == UNREADABLE:
            lines.append(f"{pad}{item.hint}")
        if item.mistake:
            lines += _wrapped(f"matches the misconception '{item.mistake}': {item.hint}", pad)
        if item.verdict == FOLLOWS_THROUGH:
            lines.append(f"{pad}right, given your own earlier answers: the error is counted once, earlier")
        if reveal and (item.verdict in (BLANK, UNREADABLE) or item.shape_note):
            lines.append(f"{pad}expected {_show_value(item.expected)}")
    if heading.startswith("Checking"):
        lines += _summary(report.items, reveal)
    return "\n".join(lines) + "\n"


def _wrapped(text: str, pad: str) -> list[str]:
    """A hint folded to the terminal's width, every line indented under its answer."""
    import textwrap

    from derive.render.terminal import columns

    width = max(columns() - len(pad), 40)
    return [pad + line for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)]


def _summary(items, reveal: bool) -> list[str]:
    right = sum(i.verdict == CORRECT for i in items)
    lines = ["", f"{right} of {len(items)} answers correct."]
    if not reveal and any(i.verdict != CORRECT for i in items):
        lines.append("(--reveal shows the expected values)")
    return lines


def render_sheet(student: str, precision: str, graded, fmt: str, reveal: bool = False) -> str:
    """A student's answer file graded: a section per problem, then the points."""
    items = [item for problem in graded for item in problem.report.items]
    if fmt == "json":
        data = {
            "student": student,
            "precision": precision,
            "all_correct": all(i.verdict == CORRECT for i in items),
            "points": sum(i.points for i in items),
            "max_points": len(items),
            "problems": [{"number": p.number, **as_dict(p.report)} for p in graded],
        }
        return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    parts = [f"Answers of {student}, checked to {precision}", ""]
    for problem in graded:
        parts.append(_terminal(problem.report, reveal, f"Problem {problem.number}: {problem.topic}"))
    parts += _summary(items, reveal)[1:]
    parts.append(f"{sum(i.points for i in items):g} of {len(items)} points.")
    return "\n".join(parts) + "\n"


def _show_value(value) -> str:
    from derive.grading import reading

    rows, cols = reading.shape(value)
    entries = [_show(e) for e in reading.flat(value)]
    return "; ".join(" ".join(entries[r * cols : (r + 1) * cols]) for r in range(rows))


def rounded(value, decimals: int) -> str:
    """A value as the lecturer's CSV shows it: entries to the task's decimals, rows split by ';'."""
    from derive.grading import reading
    from derive.numbers import approx

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], str):
        return " ".join(value)
    rows, cols = reading.shape(value)
    entries = []
    for entry in reading.flat(value):
        try:
            entries.append(str(entry) if float(entry).is_integer() else str(approx(entry, decimals)))
        except (TypeError, ValueError, OverflowError):
            entries.append(str(entry))
    return "; ".join(" ".join(entries[r * cols : (r + 1) * cols]) for r in range(rows))


def _shaped(value, vector_input: bool):
    """A 1-row matrix as a flat list when the inputs were vectors, as derive's own JSON gives it."""
    if vector_input and isinstance(value, printing.sp.MatrixBase) and value.rows == 1:
        return list(value)
    return value


def as_dict(report) -> dict:
    return {
        "topic": report.topic,
        "precision": report.precision,
        "notes": list(report.notes),
        "all_correct": report.all_correct,
        "points": report.points,
        "answers": {
            item.id: {
                "verdict": item.verdict,
                "points": item.points,
                "mistake": item.mistake,
                "hint": item.hint,
                "shape": item.shape_note,
                "written": item.written,
                "expected": {"value": to_float(expected), "exact": to_exact(expected)},
                "entries": [
                    {
                        "row": e.row,
                        "col": e.col,
                        "written": e.written,
                        "given": to_float(e.given),
                        "expected": to_float(e.expected),
                        "correct": e.correct,
                    }
                    for e in item.entries
                ],
            }
            for item in report.items
            for expected in [_shaped(item.expected, report.vector_input)]
        },
    }


def render(report, fmt: str, reveal: bool = False) -> str:
    if fmt == "json":
        return in_json(json.dumps(as_dict(report), indent=2, ensure_ascii=False, allow_nan=False)) + "\n"
    if fmt == "terminal":
        return visible(_terminal(report, reveal))
    raise ValueError(f"unknown report format {fmt!r}")
