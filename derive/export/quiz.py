"""A worksheet folder's manifest as quiz questions: the format-neutral model every LMS writer reads.

Each student's variant of each problem becomes one question. Its gaps are the asked answers'
entries, each with the exact value, the tolerance the sheet's decimals allow (half a unit in the
last place) and, as wrong answers, the value every named misconception gives for that entry with
these inputs (computed by the topic's own stages, as ``derive check`` does). A misconception whose
value cannot be told apart from the right one at that tolerance is left out: the first matching
answer wins in every LMS, so it could never be reached.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from decimal import Decimal as PyDecimal
from pathlib import Path

import sympy as sp

from derive import files
from derive.errors import DeriveError, InputError
from derive.grading.precision import places

CORRECT = "Correct."
EXTRA_PLACES = 4
MAX_DECIMALS = 12  # the answer is written this many places beyond the sheet's, so rounding it costs nothing


@dataclass(frozen=True)
class Wrong:
    value: str
    mistake: str
    hint: str

    @property
    def feedback_html(self) -> str:
        return f"<b>{html.escape(self.mistake)}</b>: {html.escape(self.hint)}"


@dataclass(frozen=True)
class Gap:
    row: int
    col: int
    value: str
    tolerance: str
    wrongs: tuple[Wrong, ...]


@dataclass(frozen=True)
class Asked:
    id: str
    label: str
    rows: int
    cols: int
    gaps: tuple[Gap, ...]

    @property
    def scalar(self) -> bool:
        return self.rows == 1 and self.cols == 1

    def entry_words(self, gap: Gap) -> str:
        """Where the entry sits, for a question's text: '' for a single number."""
        if self.scalar:
            return ""
        return f", entry {gap.col}" if self.rows == 1 else f", row {gap.row}, column {gap.col}"

    def entry_name(self, gap: Gap) -> str:
        if self.scalar:
            return self.id
        return f"{self.id}[{gap.col}]" if self.rows == 1 else f"{self.id}[{gap.row},{gap.col}]"


@dataclass(frozen=True)
class Question:
    problem: int
    topic: str
    student: str
    student_name: str
    intro_html: str
    asked: tuple[Asked, ...]

    @property
    def name(self) -> str:
        who = f"{self.student} {self.student_name}".strip()
        return f"P{self.problem} {self.topic} · {who}"

    @property
    def ident(self) -> str:
        """Unique in a worksheet: student ids are (and are safe in XML and file names)."""
        return f"{self.student}-p{self.problem}"


@dataclass(frozen=True)
class Quiz:
    title: str
    decimals: int
    problems: tuple[tuple[str, tuple[Question, ...]], ...]  # (category name, its questions)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for _, questions in self.problems for q in questions)

    def category_path(self, category: str) -> str:
        """Moodle's category path: one line, levels split by '/', a '/' in a name written '//'."""
        return "/".join(
            ["$course$", "top"] + [" ".join(n.split()).replace("/", "//") for n in (self.title, category)]
        )


def load(folder: str | Path) -> Quiz:
    """The quiz for a worksheet folder (``DIR/manifest.json``); a bad folder is a one-line error."""
    from derive.grading.answer_file import load_manifest

    files.folder(folder, "DIR")
    manifest = load_manifest(Path(folder) / "manifest.json", "DIR")
    if not manifest.students or not 0 <= manifest.decimals <= MAX_DECIMALS:
        raise InputError("DIR", f"{manifest.path} is not a worksheet manifest (no students, or bad decimals)")
    count = max(len(problems) for problems in manifest.students.values())
    problems = []
    for index in range(count):
        questions = tuple(
            _question(manifest, index + 1, student, assigned[index])
            for student, assigned in manifest.students.items()
            if index < len(assigned)
        )
        problems.append((f"Problem {index + 1}: {questions[0].topic}", questions))
    return Quiz(manifest.title, manifest.decimals, tuple(problems))


def _question(manifest, number: int, student: str, problem) -> Question:
    from derive.worksheet import screen, variants

    def bad(what: str):
        return InputError("DIR", f"{manifest.path}: student {student}, problem {number}: {what}")

    if problem.topic not in variants.topics():
        raise bad(f"no worksheet topic {str(problem.topic)[:40]!r}")
    topic = variants.topic_named(problem.topic)
    if not problem.ask or any(a not in topic.answer_ids for a in problem.ask):
        raise bad(f"ask must list answer ids of {problem.topic}")
    try:
        values = screen.stage_values(topic, problem.given)
    except DeriveError as error:
        raise bad(f"its inputs cannot be used ({error})") from None
    try:
        asked = tuple(_asked(topic, values, answer, manifest.decimals) for answer in problem.ask)
    except ValueError as error:
        raise bad(str(error)) from None
    intro = _intro(problem.topic, problem.given, manifest.decimals)
    return Question(number, problem.topic, student, manifest.names.get(student, ""), intro, asked)


def _entries(value) -> tuple[int, int, list]:
    if isinstance(value, sp.MatrixBase):
        return value.rows, value.cols, list(value)
    return 1, 1, [value]


def _asked(topic, values, answer: str, decimals: int) -> Asked:
    from derive.grading import misconceptions

    stage = topic.stage(answer)
    rows, cols, truth = _entries(values[answer])
    candidates = []
    for mistake in stage.mistakes:
        try:
            other = mistake.compute(values)
        except (TypeError, ValueError, ArithmeticError, IndexError, KeyError, AttributeError, sp.ShapeError):
            continue
        if other is None:
            continue
        shape = _entries(other)
        if shape[:2] == (rows, cols):
            candidates.append((mistake.id, mistake.hint, shape[2]))
    if misconceptions.is_weights(stage, values[answer]):  # as the grader: after the stage's own
        one_hot = misconceptions.hard_max(values[answer])
        candidates.append((misconceptions.HARD_MAX, misconceptions.HARD_MAX_HINT, list(one_hot)))
    rights = [_decimal(entry) for entry in truth]
    if None in rights:
        raise ValueError(f"{answer} is not a finite number")
    shown = places(decimals, max(abs(float(r)) for r in rights))  # more for an answer too small to show
    tolerance = PyDecimal(5).scaleb(-(shown + 1))
    gaps = []
    for index, right in enumerate(rights):
        wrongs, taken = [], [right]
        for mistake, hint, entries in candidates:
            value = _decimal(entries[index])
            if value is None or any(t is not None and abs(value - t) <= 2 * tolerance for t in taken):
                continue
            taken.append(value)
            wrongs.append(Wrong(_text(value, shown), mistake, hint))
        gaps.append(
            Gap(index // cols + 1, index % cols + 1, _text(right, shown), _plain(tolerance), tuple(wrongs))
        )
    return Asked(answer, stage.titled(values), rows, cols, tuple(gaps))


def _decimal(value) -> PyDecimal | None:
    """The exact value to 30 significant digits, or None when it is not a finite real number."""
    try:
        number = sp.N(sp.sympify(value), 30)
    except (TypeError, ValueError, sp.SympifyError):
        return None
    if not number.is_real or not number.is_finite or not number.is_number:
        return None
    return PyDecimal(str(number))


def _text(value: PyDecimal, decimals: int) -> str:
    """Fixed-point, ``EXTRA_PLACES`` beyond the sheet's decimals, trailing zeros dropped (no exponent)."""
    rounded = value.quantize(PyDecimal(1).scaleb(-(decimals + EXTRA_PLACES)))
    return _plain(rounded)


def _plain(value: PyDecimal) -> str:
    text = f"{value.normalize():f}" if value else "0"
    return "0" if text in ("-0", "0") else text


def _intro(topic: str, given: dict[str, str], decimals: int) -> str:
    """The task and the inputs as HTML; every piece of text from the manifest is escaped."""
    from derive.worksheet import variants

    parts = [f"<p>{html.escape(variants.task(topic, given))}</p>"]
    for option, value in given.items():
        symbol = variants.symbol(topic, option)
        name = _symbol_html(str(symbol)) if symbol is not None else html.escape(option.replace("_", " "))
        parts.append(f"<div>{name} = {_given_html(value)}</div>")
    unit = "decimal" if decimals == 1 else "decimals"
    parts.append(f"<p>Give every answer to {decimals} {unit}.</p>")
    return "\n".join(parts)


def _symbol_html(name: str) -> str:
    base, _, sub = name.partition("_")
    return html.escape(base) + (f"<sub>{html.escape(sub)}</sub>" if sub else "")


def _given_html(text: str) -> str:
    rows = [row.split() for row in text.split(";")]
    if len(rows) == 1 and len(rows[0]) == 1:
        return html.escape(rows[0][0])
    if len(rows) == 1:
        return "[" + ", ".join(html.escape(e) for e in rows[0]) + "]"
    cells = "".join("<tr>" + "".join(f"<td>{html.escape(e)}</td>" for e in row) + "</tr>" for row in rows)
    return f'<table class="derive-matrix">{cells}</table>'
