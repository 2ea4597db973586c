"""How a check report reads: a line per answer in the terminal, or the JSON report."""

from __future__ import annotations

import json

from derive import printing
from derive.numbers import to_float

_MARK = {"correct": "✔", "wrong": "✘", "follows-through": "↪"}
_WORD = {"correct": "correct", "wrong": "wrong", "follows-through": "follows through"}


def _show(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) or getattr(value, "is_Integer", False):
        return str(value)
    return printing.plain(printing.sp.N(value, 6))


def _terminal(report) -> str:
    lines = [f"Checking {report.topic}", ""]
    width = max(len(item.id) for item in report.items)
    for item in report.items:
        wrong = [e for e in item.entries if not e.correct]
        summary = _WORD[item.verdict]
        if item.verdict == "wrong" and item.entries and len(item.entries) > 1:
            summary += f": {len(wrong)} of {len(item.entries)} entries"
        lines.append(f"{_MARK[item.verdict]} {item.id:<{width}}  {summary}")
        pad = " " * (width + 4)
        if item.shape_note:
            lines.append(f"{pad}{item.shape_note}")
        if item.verdict == "wrong":
            for entry in wrong[:6]:
                where = f"row {entry.row}, col {entry.col}: " if len(item.entries) > 1 else ""
                lines.append(f"{pad}{where}you wrote {entry.written}, expected {_show(entry.expected)}")
            if len(wrong) > 6:
                lines.append(f"{pad}... and {len(wrong) - 6} more")
        if item.mistake:
            lines.append(f"{pad}matches the misconception '{item.mistake}': {item.hint}")
        if item.verdict == "follows-through":
            lines.append(f"{pad}right, given your own earlier answers: the error is counted once, earlier")
    right = sum(i.verdict == "correct" for i in report.items)
    lines += ["", f"{right} of {len(report.items)} answers correct."]
    return "\n".join(lines) + "\n"


def as_dict(report) -> dict:
    return {
        "topic": report.topic,
        "all_correct": report.all_correct,
        "answers": {
            item.id: {
                "verdict": item.verdict,
                "mistake": item.mistake,
                "hint": item.hint,
                "shape": item.shape_note,
                "entries": [
                    {
                        "row": e.row,
                        "col": e.col,
                        "given": to_float(e.given),
                        "expected": to_float(e.expected),
                        "correct": e.correct,
                    }
                    for e in item.entries
                ],
            }
            for item in report.items
        },
    }


def render(report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(as_dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "terminal":
        return _terminal(report)
    raise ValueError(f"unknown report format {fmt!r}")
