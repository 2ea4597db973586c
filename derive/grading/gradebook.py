"""A class graded: every student's answers against the manifest, as rows for ``grades.csv``.

One row per student × problem × asked answer. A student without an answer file, or whose file
cannot be read, is listed (``Gradebook.problems``) and graded blank, never fatal: the lecturer
sees the whole class and what to chase.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from derive import files
from derive.errors import InputError
from derive.grading import answer_file, display, responses, sheet
from derive.grading.precision import Precision
from derive.grading.report import BLANK

COLUMNS = (
    "student",
    "name",
    "problem",
    "topic",
    "answer",
    "verdict",
    "points",
    "misconception",
    "hint",
    "written",
    "expected",
    "notes",
)


@dataclass(frozen=True)
class Row:
    student: str
    name: str
    problem: int
    topic: str
    answer: str
    verdict: str
    points: float
    misconception: str
    hint: str
    written: str
    expected: str
    notes: str


@dataclass(frozen=True)
class Gradebook:
    title: str
    precision: str
    rows: tuple[Row, ...]
    problems: tuple[str, ...]  # files or rows that could not be used, each with the reason
    students: tuple[str, ...]  # every student of the manifest, in roster order

    def totals(self) -> dict[str, float]:
        totals = dict.fromkeys(self.students, 0.0)
        for row in self.rows:
            totals[row.student] += row.points
        return totals

    @property
    def max_points(self) -> int:
        return sum(1 for row in self.rows if row.student == self.students[0]) if self.students else 0


def _blank(assigned) -> tuple[answer_file.Problem, ...]:
    return tuple(answer_file.Problem(n, a.topic, None, {}, {}) for n, a in enumerate(assigned, start=1))


def _student_files(folder: Path, manifest, listed: list[str]) -> dict:
    """Per student id, their answer file's problems; unreadable and unknown files are listed."""
    found = {}
    for path in sorted(folder.glob("*.toml")):
        try:
            loaded = answer_file.load(path)
        except InputError as error:
            listed.append(f"{path.name}: {error}")
            continue
        if loaded.student not in manifest.students:
            listed.append(f"{path.name}: student {loaded.student[:40]!r} is not in the manifest")
        elif loaded.student in found:
            listed.append(f"{path.name}: a second file for {loaded.student}; the first is used")
        else:
            found[loaded.student] = loaded
    return found


def grade_class(
    folder: str | Path,
    answers: str | Path | None = None,
    responses_csv: str | Path | None = None,
    decimals: int | None = None,
    rtol: float | None = None,
    atol: float | None = None,
) -> Gradebook:
    folder = Path(folder)
    manifest = answer_file.load_manifest(folder / "manifest.json", "DIR")
    precision = Precision(manifest.decimals if decimals is None else decimals, rtol, atol)
    listed: list[str] = []
    if responses_csv is not None:
        by_student, skipped = responses.load(responses_csv, manifest)
        listed += skipped
        answer_files = {}
    else:
        answers_folder = files.folder(answers if answers is not None else folder / "answers", "--answers")
        answer_files = _student_files(answers_folder, manifest, listed)
        by_student = {ident: loaded.problems for ident, loaded in answer_files.items()}
    rows = []
    for ident, assigned in manifest.students.items():
        problems = by_student.get(ident)
        if problems is None:
            listed.append(f"{ident}: no answers" + ("" if responses_csv is not None else " file"))
            problems = _blank(assigned)
        loaded = answer_files.get(ident)
        try:
            graded = sheet.grade_problems(
                problems,
                precision,
                assigned,
                loaded.path if loaded else ident,
                loaded.line if loaded else None,
            )
        except InputError as error:
            listed.append(f"{ident}: {error}")
            graded = sheet.grade_problems(_blank(assigned), precision, assigned, ident)
        rows += _rows(ident, manifest.names.get(ident, ""), graded, precision)
    return Gradebook(
        manifest.title, precision.describe(), tuple(rows), tuple(listed), tuple(manifest.students)
    )


def _rows(ident: str, name: str, graded, precision: Precision) -> list[Row]:
    rows = []
    for problem in graded:
        notes = "; ".join(problem.report.notes)
        for item in problem.report.items:
            rows.append(
                Row(
                    ident,
                    name,
                    problem.number,
                    problem.topic,
                    item.id,
                    item.verdict,
                    item.points,
                    item.mistake or "",
                    item.hint or "",
                    "" if item.verdict == BLANK else item.written,
                    display.rounded(item.expected, precision.decimals),
                    notes,
                )
            )
    return rows


def csv_text(book: Gradebook) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in book.rows:
        values = [getattr(row, column) for column in COLUMNS]
        writer.writerow([f"{v:g}" if isinstance(v, float) else _cell(v) for v in values])
    return buffer.getvalue()


def _cell(value) -> str:
    """Text a spreadsheet will not run as a formula (a name may start with =, +, - or @), with
    control and bidirectional characters spelled out (an unreadable answer is kept as written)."""
    text = "".join(f"<U+{ord(c):04X}>" if unicodedata.category(c)[0] == "C" else c for c in str(value))
    return (
        "'" + text
        if text[:1] in ("=", "+", "@", "\t", "\r") or (text[:1] == "-" and not _number(text))
        else text
    )


def _number(text: str) -> bool:
    try:
        float(text.split()[0].rstrip(";"))
    except (ValueError, IndexError):
        return False
    return True
