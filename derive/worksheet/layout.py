"""Sheets and keys as Typst documents: what each page shows, printed to strings for the templates.

Math goes through derive.printing_typst; every piece of text (titles, names, prose) becomes a
Typst string literal, which Typst prints as it is, so no user text can reach Typst's syntax.
"""

from __future__ import annotations

import math
import re
import string as alphabet
from decimal import ROUND_HALF_UP
from decimal import Decimal as PyDecimal

import sympy as sp

from derive.grading.precision import places
from derive.model import Equation
from derive.numbers import Decimal, approx
from derive.printing_typst import typst
from derive.worksheet import needed, screen, variants
from derive.worksheet.classroom import Assignment, Sheet
from derive.worksheet.spec import Spec, Student

SHEET_TEXT_PT = 10
KEY_TEXT_PT = 9
TABLE_EXTRA_DECIMALS = 2
EXACT_MAX_CHARS = 150
EQUATION_MAX_CHARS = 170
CELL_MIN_CM = 1.3
# Two answers side by side: (3.3cm, 1fr, 3.3cm, 1fr) with 0.4cm gutters on A4's 18cm text width
# leave 5.1cm for each row of boxes.
SIDE_BY_SIDE_LABEL_CM = 3.3
SIDE_BY_SIDE_MAX_CM = (18.0 - 2 * SIDE_BY_SIDE_LABEL_CM - 3 * 0.4) / 2
CELL_CM_PER_CHAR = 0.2
WORD_CELL_CM = 3.0  # one width for every word answer: a box as long as the answer would give it away
TOKEN_CELL_CM = 2.0  # one box per token of a list of tokens (merges, a vocabulary), whatever its length
ROW_MAX_CM = 11.5  # a row of boxes longer than this wraps onto more rows
_MARKUP = re.compile(r'display\(|frac\(|mat\(delim: "\[", |dot\.op |op\(|"')
_PLAIN_NUMBER = re.compile(r"^-?[0-9]+(?:\.[0-9]+)?(?:/[0-9]+)?$")


def printed_width(printed: str) -> int:
    """About how many characters wide Typst math source prints (its markup words take no room)."""
    return len(_MARKUP.sub("", printed))


def literal(text: str) -> str:
    """A Typst string literal: printed verbatim in markup (after ``#``) and in code."""
    one_line = " ".join(str(text).split())
    return '"' + one_line.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _given_matrix(text: str) -> str:
    """A given as typed ("1 -2; 0.5 3") as Typst math; anything unexpected is quoted, not interpreted."""
    rows = [row.split() for row in text.split(";")]
    entries = [[e if _PLAIN_NUMBER.match(e) else literal(e) for e in row] for row in rows]
    if len(entries) == 1 and len(entries[0]) == 1:
        return entries[0][0]
    return 'mat(delim: "[", ' + "; ".join(", ".join(row) for row in entries) + ")"


def givens(item: Assignment) -> list[str]:
    """Each input as markup: ``$Q = mat(...)$``, or in words when it has no symbol (mask: causal)."""
    shown = []
    for option, value in item.variant.given.items():
        if not variants.shown(item.problem.topic, option):
            continue
        symbol = variants.symbol(item.problem.topic, option)
        if symbol is None:
            shown.append(f"#{literal(option.replace('_', ' '))}: #{literal(value)}")
        else:
            shown.append(f"${typst(symbol)} = {_given_matrix(value)}$")
    return shown


def _shown(value):
    """A list of numbers (pair counts) as the row vector it is on the sheet; anything else as it is."""
    if isinstance(value, (list, tuple)) and screen.words(value) is None:
        return sp.Matrix([list(value)])
    return value


def _shape(value) -> tuple[int, int]:
    """Rows and columns of answer boxes: a matrix's shape, one box per word of a list of words."""
    if isinstance(value, sp.MatrixBase):
        return value.shape
    return (1, len(value)) if isinstance(value, (list, tuple)) else (1, 1)


def _boxes(value, decimals: int) -> dict:
    """Rows, columns, width and count of the answer boxes; a long row wraps onto several."""
    (rows, cols), width = _shape(value), _cell_width(value, decimals)
    count = rows * cols
    if rows == 1 and cols * width > ROW_MAX_CM:
        cols = max(1, int(ROW_MAX_CM // width))
        rows = math.ceil(count / cols)
    return {"rows": rows, "cols": cols, "width": width, "count": count}


def fixed(value, decimals: int):
    """Rounded to exactly ``decimals`` places, never in scientific notation (the sheet's precision).

    Halves round up, as taught at school. A double decides, unless the value lies within a hair
    of a tie; then 30 digits do.
    """
    if isinstance(value, sp.MatrixBase):
        return value.applyfunc(lambda entry: fixed(entry, decimals))
    value = sp.sympify(value)
    try:
        estimate = screen.to_float(value)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return value  # a symbol: shown as it is
    if isinstance(estimate, complex) or not math.isfinite(estimate):
        return value  # -∞ of a mask: shown as it is
    scaled = abs(estimate) * 10**decimals
    near_tie = abs(scaled - math.floor(scaled) - 0.5) < 1e-6
    number = PyDecimal(str(sp.N(value, 30))) if near_tie else PyDecimal(repr(estimate))
    text = f"{number.quantize(PyDecimal(1).scaleb(-decimals), ROUND_HALF_UP):f}"
    return Decimal(text[1:] if text.startswith("-") and not text.strip("-0.") else text)


def answer_places(value, decimals: int) -> int:
    """The places an answer is written to: the sheet's decimals, or more for a whole answer too small
    to show at them (a learning rate of 0.0007 to significant figures, as the grader asks)."""
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    try:
        scale = max(abs(screen.to_float(sp.sympify(e))) for e in entries)
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return decimals  # letters
    return places(decimals, scale) if math.isfinite(scale) else decimals


def _rounded(value, decimals: int):
    return fixed(value, answer_places(value, decimals))


def _cell_width(value, decimals: int) -> float:
    """Wide enough for the widest entry written to the sheet's decimals (a float is exact enough)."""
    if screen.words(value) is not None:
        if isinstance(value, str):
            return ROW_MAX_CM if " " in value else WORD_CELL_CM  # a text gets the whole row
        return TOKEN_CELL_CM
    entries = list(value) if isinstance(value, sp.MatrixBase) else [value]
    shown = answer_places(value, decimals)
    widest = max(len(f"{screen.to_float(sp.sympify(e)):.{shown}f}") for e in entries)
    return round(max(CELL_MIN_CM, 0.5 + CELL_CM_PER_CHAR * widest), 2)


def _label(item: Assignment, answer: str) -> str:
    return literal(next(s.title for s in item.derivation.steps if s.name == answer))


def _table(item: Assignment, decimals: int) -> list[str]:
    """Markup for each value the student may need: the topic's glossary, then (levels 1 and 2) the
    function values inside the answers."""
    listed = variants.glossary(item.problem.topic, item.variant.key)
    shown = [f"#{literal(term)} #sym.arrow #{literal(meaning)}" for term, meaning in listed]
    if item.problem.level >= 3:
        return shown
    rows = needed.values_needed(item.derivation, item.problem.ask)
    atoms = [
        f"${typst(atom)} approx {typst(approx(atom, decimals + TABLE_EXTRA_DECIMALS))}$" for atom in rows
    ]
    return shown + atoms


def qr_svg(text: str) -> str:
    """``text`` as a QR code in SVG, modules one unit wide and no quiet zone (the sheet leaves the
    white around it); segno's output depends on nothing but the text."""
    import io

    import segno

    out = io.BytesIO()
    segno.make_qr(text).save(out, kind="svg", border=0, xmldecl=False, nl=False)
    return out.getvalue().decode("ascii")


def _header(spec: Spec, student: Student, sheet_id: str) -> dict:
    return {
        "title": literal(spec.title),
        "student_name": literal(student.name) if student.name else "",
        "student_id": literal(student.id),
        "sheet_id": literal(sheet_id),
        "decimals": spec.decimals,
    }


def sheet_context(spec: Spec, sheet: Sheet) -> dict:
    problems = [sheet_problem(spec, number, item) for number, item in enumerate(sheet.assignments, start=1)]
    return sheet_page(spec, sheet.student, sheet.sheet_id, problems)


def sheet_page(spec: Spec, student: Student, sheet_id: str, problems: list[dict]) -> dict:
    """A sheet's context from its problems' (``sheet_problem``)."""
    return {**_header(spec, student, sheet_id), "qr": literal(qr_svg(sheet_id)), "problems": problems}


def sheet_problem(spec: Spec, number: int, item: Assignment) -> dict:
    """What the sheet shows of one problem, as plain data."""
    answers = item.derivation.answers
    asks = []
    for letter, answer in zip(alphabet.ascii_lowercase, item.problem.ask):
        boxes = _boxes(_shown(answers[answer]), spec.decimals)
        asks.append({"letter": letter, "label": _label(item, answer), "id": answer, **boxes})
    narrow = all(a["cols"] * a["width"] <= SIDE_BY_SIDE_MAX_CM for a in asks) and len(asks) > 1
    return {
        "number": number,
        "columns": f"({SIDE_BY_SIDE_LABEL_CM}cm, 1fr, {SIDE_BY_SIDE_LABEL_CM}cm, 1fr)"
        if narrow
        else "(5.6cm, 1fr)",
        "heading": literal(item.derivation.title),
        "task": literal(variants.task(item.problem.topic, item.variant.given)),
        "givens": givens(item),
        "table": _table(item, spec.decimals),
        "asks": asks,
    }


def _concrete(part) -> bool:
    """A part with numbers in it (a matrix, a number); general formulas are left to the sheet's task."""
    return isinstance(part, sp.MatrixBase) or (isinstance(part, sp.Basic) and part.is_number)


class _Printer:
    """Typst source for each distinct expression of one key, printed once: a step's value is also
    the last part of its equation and the key's exact answer."""

    def __init__(self):
        self._printed: dict = {}

    def __call__(self, expr) -> str:
        if isinstance(expr, sp.MatrixBase):
            key = ("matrix", expr.shape, tuple(entry for row in expr.tolist() for entry in row))
        else:
            key = expr
        try:
            return self._printed[key]
        except KeyError:
            self._printed[key] = printed = typst(expr)
            return printed
        except TypeError:  # not hashable
            return typst(expr)


def _equation(block: Equation, decimals: int, printer=typst) -> str | None:
    """One line: all parts if they fit, else the first and the last, else the first and the
    last part's decimals (a long exact matrix), else nothing. The parts between are printed only
    when the first and the last fit (all of them can only be wider)."""
    if not any(_concrete(p) for p in block.parts) and block.approx is None:
        return None
    first, last = printer(block.parts[0]), printer(block.parts[-1])
    rounded = block.approx if block.approx is not None else block.parts[-1]
    shows_decimals = block.approx is not None and not _whole(block.approx)
    tail = f" approx {printer(_rounded(block.approx, decimals))}" if shows_decimals else ""
    ends = " = ".join(dict.fromkeys([first, last])) + tail
    candidates = []
    if printed_width(ends) <= EQUATION_MAX_CHARS:
        parts = [first, *(printer(p) for p in block.parts[1:-1]), last] if len(block.parts) > 1 else [first]
        candidates = [" = ".join(dict.fromkeys(parts)) + tail, ends]
    if _concrete(rounded):
        relation, value = ("=", rounded) if _whole(rounded) else ("approx", _rounded(rounded, decimals))
        candidates.append(f"{first} {relation} {printer(value)}")
    return next((line for line in candidates if printed_width(line) <= EQUATION_MAX_CHARS), None)


def _steps(item: Assignment, decimals: int, printer=typst) -> list[dict]:
    """The answer steps up to the last one asked; an unasked step that only restates a value is left out."""
    ask = item.problem.ask
    last = max(i for i, step in enumerate(item.derivation.steps) if step.name in ask)
    shown = []
    plain = variants.worked(item.problem.topic, item.variant.key)
    for step in item.derivation.steps[: last + 1]:
        if not step.answer:
            continue
        equations = [b for b in step.blocks if isinstance(b, Equation)]
        if step.name not in ask and all(len(b.parts) <= 2 and b.approx is None for b in equations):
            continue
        lines = [line for line in (_equation(b, decimals, printer) for b in equations) if line]
        lines = lines or [literal(line) for line in plain.get(step.name, ())]
        if lines:
            shown.append({"title": literal(step.title), "lines": lines})
    return shown


def _whole(value) -> bool:
    """Every entry an integer: shown as it is, since decimals would only add a tail of zeros."""
    return all(sp.sympify(e).is_Integer for e in (value if isinstance(value, sp.MatrixBase) else [value]))


def _exact(value, printer=typst) -> str | None:
    """None for a value carried in decimals (a Float has no exact form to show) or too wide."""
    if any(sp.sympify(e).has(sp.Float) for e in (value if isinstance(value, sp.MatrixBase) else [value])):
        return None
    printed = printer(value)
    return printed if printed_width(printed) <= EXACT_MAX_CHARS else None


def _key_forms(value, decimals: int, printer=typst) -> tuple[str, str | None]:
    """The value as the key prints it (a word as written, whole numbers as they are, else decimals)
    and its exact form where that says more and fits."""
    if screen.words(value) is not None:
        return " quad ".join(printer(word) for word in screen.words(value)), None  # no commas: "," is a token
    whole = _whole(value)
    rounded = printer(value if whole else _rounded(value, decimals))
    exact = None if whole else _exact(value, printer)
    return rounded, (exact if exact != rounded else None)


def key_context(spec: Spec, sheet: Sheet) -> dict:
    problems = [key_problem(spec, number, item) for number, item in enumerate(sheet.assignments, start=1)]
    return key_page(spec, sheet.student, sheet.sheet_id, problems)


def key_page(spec: Spec, student: Student, sheet_id: str, problems: list[dict]) -> dict:
    """A key's context from its problems' (``key_problem``)."""
    return {**_header(spec, student, sheet_id), "problems": problems}


def key_problem(spec: Spec, number: int, item: Assignment) -> dict:
    """What the key shows of one problem, as plain data."""
    answers, printer = item.derivation.answers, _Printer()
    shown = []
    for letter, answer in zip(alphabet.ascii_lowercase, item.problem.ask):
        rounded, exact = _key_forms(_shown(answers[answer]), spec.decimals, printer)
        shown.append(
            {"letter": letter, "label": _label(item, answer), "id": answer, "approx": rounded, "exact": exact}
        )
    return {
        "number": number,
        "heading": literal(item.derivation.title),
        "givens": givens(item),
        "answers": shown,
        "steps": _steps(item, spec.decimals, printer),
    }


def document(kind: str, contexts: list[dict]) -> str:
    """One Typst document holding every context's sheet (or key), each from a new page."""
    from derive.render.templates import render_template

    template = "sheet.typ.j2" if kind == "sheet" else "key.typ.j2"
    bodies = [render_template("worksheet", template, **context) for context in contexts]
    size = SHEET_TEXT_PT if kind == "sheet" else KEY_TEXT_PT
    title = contexts[0]["title"] if contexts else literal("Worksheet")
    title = title if kind == "sheet" else f'"Key: " + {title}'  # a Typst expression: the PDF's title
    return render_template("worksheet", "document.typ.j2", bodies=bodies, size=size, title=title)
