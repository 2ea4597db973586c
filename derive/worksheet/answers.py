"""Blank answer files (answers/<id>.toml) in the format ``derive check`` reads.

Each lists the student's problems with their inputs (``given``, as typed on the command line)
and one empty string per asked answer, with a comment giving the shape expected.
"""

from __future__ import annotations

from derive.worksheet.classroom import Assignment, Sheet
from derive.worksheet.spec import Spec, Student

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def shape_note(value) -> str:
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        return "the text on one line" if " " in value else "one word, as written on the sheet"
    if isinstance(value, (list, tuple)) and all(isinstance(e, str) for e in value):
        return f"{len(value)} tokens separated by spaces" if len(value) > 1 else "one token"
    rows, cols = (1, len(value)) if isinstance(value, (list, tuple)) else getattr(value, "shape", (1, 1))
    if rows == 1 and cols == 1:
        return "one number"
    if rows == 1:
        return f"{cols} numbers separated by spaces"
    return f"a {rows}×{cols} matrix, row by row, rows separated by ';'"


def render(spec: Spec, sheet: Sheet) -> str:
    problems = [problem_lines(number, item) for number, item in enumerate(sheet.assignments, start=1)]
    return assembled(spec, sheet.student, sheet.sheet_id, problems)


def problem_lines(number: int, item: Assignment) -> list[str]:
    """One problem of the answer file: its inputs and an empty string per asked answer."""
    lines = ["", f"# Problem {number}", "[[problem]]", f"topic = {toml_string(item.problem.topic)}", ""]
    lines.append("[problem.given]")
    lines += [f"{name} = {toml_string(value)}" for name, value in item.variant.given.items()]
    lines += ["", "[problem.answers]"]
    for name in item.problem.ask:
        lines.append(f"# {name}: {shape_note(item.derivation.answers[name])}")
        lines.append(f'{name} = ""')
    return lines


def assembled(spec: Spec, student: Student, sheet_id: str, problems: list[list[str]]) -> str:
    """The answer file from its problems' lines (``problem_lines``)."""
    lines = [
        f"# {spec.title} · sheet {sheet_id}",
        f"# Write each answer between the quotes, to {spec.decimals} decimals.",
        '# A vector is "1 2 3"; a matrix goes row by row, "1 2; 3 4". Keep the given inputs as they are.',
        f"student = {toml_string(student.id)}",
    ]
    for problem in problems:
        lines += problem
    return "\n".join(lines) + "\n"
