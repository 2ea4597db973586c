"""The size policy: one rule, applied to every block before any renderer prints it.

An exact form is the point of a worked solution until it stops being readable. Before
printing, each block is measured at its target (terminal columns, or the page of a LaTeX,
Markdown or Typst document) and rewritten so that it fits:

1. a long row sum in a denominator is named once, ``Z_i = e^{s_i1} + … + e^{s_in}``, and the
   entries are written ``e^{s_ij}/Z_i``;
2. an exact value still too wide or too deep becomes ``≈ decimals``, and a short note says so
   (``--exact auto``; ``always`` keeps every exact form, ``never`` shows decimals wherever the
   exact value is not a short decimal itself);
3. a matrix still too wide is shown in blocks of columns, and a table too wide leaves out its
   widest worked-out column, saying which.

Widths are measured where the block lands (derive/render/measure.py): columns of the unicode
pretty form in the terminal, estimated points of the LaTeX on a document page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy as sp

from derive import forms, printing
from derive.model import Block, Equation, Prose, Table, Text
from derive.numbers import Decimal, approx
from derive.render import measure
from derive.render.base import EXACT_CHOICES

PAGE_POINTS = 500.0  # \\textwidth of the LaTeX document: US letter, 11 pt, 2 cm margins
PAGE_MARGIN = 8.0  # points kept free on the page, for the estimate's sake
EQUATION_INDENT = 6  # the terminal indents display math by 4 and prefixes "= " or "≈ "
TABLE_INDENT = 4
TABLE_GAP_POINTS = 12.0  # \\tabcolsep on both sides of a cell
MAX_ENTRY_LINES = 9  # an exact entry taller than this (fractions in fractions in exponents) is too deep
NAMED_SUM_COLUMNS = 30  # a row sum wider than this in a denominator is given a name
NAMED_SUM_POINTS = 170.0
INLINE_SHARE = 0.4  # on a page, an inline matrix wider than this share of a line gets its own line


@dataclass(frozen=True)
class Page:
    """Where a block will be printed: terminal columns, or the points of a document page."""

    width: float
    exact: str = "auto"
    precision: int = 4
    terminal: bool = False

    def __post_init__(self):
        if self.exact not in EXACT_CHOICES:
            raise ValueError(f"exact must be one of {EXACT_CHOICES}, not {self.exact!r}")

    @classmethod
    def document(cls, exact: str = "auto", precision: int = 4) -> Page:
        return cls(PAGE_POINTS - PAGE_MARGIN, exact, precision)

    @classmethod
    def screen(cls, columns: int, exact: str = "auto", precision: int = 4) -> Page:
        return cls(columns, exact, precision, terminal=True)

    def measure(self, expr) -> float:
        return measure.columns(expr) if self.terminal else measure.points(expr)

    def room(self, lhs=None) -> float:
        """Width left for one part of an equation: the terminal puts each on its own line when
        the chain is too wide; a document page aligns every part after the left-hand side."""
        if self.terminal:
            return self.width - EQUATION_INDENT
        return self.width - (self.measure(lhs) + measure.RELATION if lhs is not None else 0)

    @property
    def long_sum(self) -> float:
        return min(NAMED_SUM_COLUMNS, self.width / 2) if self.terminal else NAMED_SUM_POINTS

    def text(self, text: str) -> float:
        return len(text) if self.terminal else len(text) * measure.TEXT

    @property
    def cell_gap(self) -> float:
        return 2 if self.terminal else TABLE_GAP_POINTS

    @property
    def table_room(self) -> float:
        return self.width - TABLE_INDENT if self.terminal else self.width


def prepare(block: Block, page: Page) -> tuple[Block, ...]:
    """The blocks to print in place of ``block`` on ``page``: often just the block itself."""
    if isinstance(block, Equation):
        return _equation(block, page)
    if isinstance(block, Table):
        return _table(block, page)
    if isinstance(block, Prose):
        return _prose(block, page)
    return (block,)


def prepare_all(blocks: Iterable[Block], page: Page) -> tuple[Block, ...]:
    return tuple(out for block in blocks for out in prepare(block, page))


def _unknowns(part) -> set:
    """Free symbols other than the names of row sums, which stand for numbers."""
    if not isinstance(part, (sp.Basic, sp.MatrixBase)):
        return set()
    return {s for s in part.free_symbols if not isinstance(s, forms.SumName)}


def _is_exact_value(part) -> bool:
    """A number or matrix of numbers written exactly (not a formula with symbols, not decimals)."""
    if not isinstance(part, (sp.Basic, sp.MatrixBase)) or _unknowns(part):
        return False
    return not part.has(Decimal, sp.Float)


def _is_short_decimal(part) -> bool:
    entries = list(part) if isinstance(part, sp.MatrixBase) else [part]
    for entry in entries:
        value = entry.doit()
        if not (value.is_Rational and all(p in (2, 5) for p in sp.factorint(value.q))):
            return False
    return True


def _too_big(part, page: Page, room: float) -> bool:
    if page.measure(part) > room:
        return True
    if isinstance(part, sp.MatrixBase):
        entries = list(part)
    elif getattr(part, "is_Matrix", False):
        return False  # a written product of matrices: its factors are explicit, not deep
    else:
        entries = [part]
    return any(measure.lines(entry) > MAX_ENTRY_LINES for entry in entries)


# ---- 1. named row sums -------------------------------------------------------------------


def _key(denominator) -> tuple:
    return tuple(sorted(sp.srepr(term) for term in denominator.args))


def _split(entry):
    """``(numerator, denominator)`` when ``entry`` is written over a sum, else None."""
    if isinstance(entry, forms.Ratio):
        return (entry.numerator, entry.denominator) if entry.denominator.is_Add else None
    if entry.is_Mul:
        over = [f for f in entry.args if f.is_Pow and f.exp == -1 and f.base.is_Add]
        if len(over) == 1:
            rest = [f for f in entry.args if f is not over[0]]
            top = rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
            return top, over[0].base
    if entry.is_Add:
        halves = [_split(term) for term in entry.args]
        if all(halves) and len({_key(d) for _, d in halves}) == 1:
            return sp.Add(*(n for n, _ in halves), evaluate=False), halves[0][1]
    return None


def _row_denominator(entries):
    halves = [_split(e) for e in entries]
    if not halves or not all(halves) or len({_key(d) for _, d in halves}) != 1:
        return None
    return halves[0][1]


def _index_of(lhs) -> str | None:
    """``a_3`` gives 3: a single row of a matrix keeps its row's number in ``Z_3``."""
    if isinstance(lhs, sp.Symbol) and "_" in lhs.name:
        suffix = lhs.name.split("_", 1)[1]
        return suffix if suffix.isdigit() else None
    return None


def _named_sums(parts, page: Page):
    """Parts with long row sums named (or any row sum, in a part too big for the page), and the
    definitions ``Z_i = …`` to show first."""
    names: dict[tuple, sp.Symbol] = {}
    written: dict[tuple, sp.Expr] = {}

    def name_for(denominator, row: int, rows: int, crowded: bool) -> sp.Symbol | None:
        key = _key(denominator)
        if key not in names:
            if not crowded and page.measure(denominator) <= page.long_sum:
                return None
            index = row + 1 if rows > 1 else _index_of(parts[0])
            names[key] = forms.normaliser_name(index)
            written[key] = denominator
        return names[key]

    def rewrite(part):
        if not _is_exact_value(part):
            return part
        matrix = part if isinstance(part, sp.MatrixBase) else sp.Matrix([[part]])
        crowded = _too_big(part, page, page.room(parts[0]))
        rows = []
        for r in range(matrix.rows):
            entries = list(matrix.row(r))
            denominator = _row_denominator(entries)
            name = denominator is not None and name_for(denominator, r, matrix.rows, crowded)
            rows.append([forms.Ratio(_split(e)[0], name) for e in entries] if name else entries)
        rebuilt = sp.Matrix(rows)
        if not names:
            return part
        return rebuilt if isinstance(part, sp.MatrixBase) else rebuilt[0, 0]

    rewritten = [parts[0], *(rewrite(p) for p in parts[1:])]
    kept = [rewritten[0]]
    for part in rewritten[1:]:
        if printing.plain(part) != printing.plain(kept[-1]):
            kept.append(part)
    definitions = {
        names[key]: Equation((names[key], written[key]), sp.Add(*(t.doit() for t in written[key].args)))
        for key in names
    }
    return kept, definitions


# ---- 2. decimals for exact values too big for the page ---------------------------------------


def _fit_exact(block: Equation, page: Page) -> tuple[Equation, bool]:
    """The equation with exact values that do not fit replaced by its ``≈`` tail."""
    if page.exact == "always":
        return block, False
    parts, value, dropped = list(block.parts), block.approx, False
    for index in range(len(parts) - 1, -1, -1):
        part = parts[index]
        if not _is_exact_value(part) or len(parts) == 1:
            continue
        if page.exact == "never":
            drop = not _is_short_decimal(part)
        else:
            drop = _too_big(part, page, page.room(parts[0] if index else None))
        if drop:
            value = part.doit() if value is None else value
            dropped = dropped or page.exact == "auto"
            del parts[index]
    return Equation(tuple(parts), value), dropped


def _note(page: Page) -> Prose:
    return Prose(
        "(The exact form is too long for the page; it is given to {n} decimals. "
        "Use --exact always to print it in full.)",
        {"n": sp.Integer(page.precision)},
    )


# ---- 3. column blocks for matrices still too wide ---------------------------------------------


def _column_blocks(block: Equation, page: Page) -> tuple[Block, ...] | None:
    """A chain ending in a matrix too wide for the page, shown in blocks of columns."""
    chained = len(block.parts) > 1 or block.approx is not None
    room = page.room(block.parts[0] if chained else None)
    last = block.parts[-1] if block.approx is None else approx(block.approx, page.precision)
    if not isinstance(last, sp.MatrixBase) or page.measure(last) <= room or last.cols < 2:
        return None
    gap = 2 if page.terminal else measure.COLUMN_GAP
    cell = max(page.measure(entry) for entry in last) + gap
    per_block = max(1, int((room - 2 * gap) // cell))
    head = block.parts[:-1] if block.approx is None else block.parts
    relation = "=" if block.approx is None else "≈"
    out: list[Block] = []
    if len(head) > 1:
        out.append(Equation(tuple(head)))
    name = head[0] if head and not _is_exact_value(head[0]) else None
    shown = "one column at a time" if per_block == 1 else "{k} columns at a time"
    out.append(
        Prose(
            "{name} " + relation + " the matrix below, too wide for the page, shown " + shown + ":"
            if name is not None
            else "The matrix below is too wide for the page; it is shown " + shown + ":",
            {"name": name, "k": sp.Integer(per_block)} if name is not None else {"k": sp.Integer(per_block)},
        )
    )
    for start in range(0, last.cols, per_block):
        stop = min(start + per_block, last.cols)
        if stop - start == 1:
            out.append(Prose("Column {a}:", {"a": sp.Integer(stop)}))
        else:
            out.append(Prose("Columns {a} to {b}:", {"a": sp.Integer(start + 1), "b": sp.Integer(stop)}))
        out.append(Equation((last[:, start:stop],)))
    return tuple(out)


def _equation(block: Equation, page: Page) -> tuple[Block, ...]:
    parts, definitions = _named_sums(list(block.parts), page)
    fitted, dropped = _fit_exact(Equation(tuple(parts), block.approx), page)
    used = set().union(*(p.free_symbols for p in fitted.parts if isinstance(p, (sp.Basic, sp.MatrixBase))))
    out: list[Block] = []
    for name, definition in definitions.items():
        if name in used:
            out.extend(_equation(definition, page))
    out.extend(_column_blocks(fitted, page) or (fitted,))
    if dropped:
        out.append(_note(page))
    return tuple(out)


# ---- paragraphs -------------------------------------------------------------------------------


def _prose(block: Prose, page: Page) -> tuple[Block, ...]:
    """On a page, where a line cannot break inside a formula, a long inline ``name = value``
    matrix keeps its name in the sentence and shows the matrix on its own line after it."""
    if page.terminal or page.exact == "always":
        return (block,)
    fields, shown = dict(block.fields), []
    for key, value in block.fields.items():
        named_matrix = isinstance(value, sp.Equality) and value.lhs.is_Symbol and value.rhs.is_Matrix
        if named_matrix and page.measure(value) > INLINE_SHARE * page.width:
            fields[key] = value.lhs
            shown.append(Equation((value.lhs, value.rhs)))
    if not shown:
        return (block,)
    return (Prose(block.template, fields), *(out for eq in shown for out in _equation(eq, page)))


# ---- tables ----------------------------------------------------------------------------------


def _cell_width(cell, page: Page) -> float:
    if isinstance(cell, Text):
        return page.text(cell.value) + 2
    if isinstance(cell, (sp.Basic, sp.MatrixBase)):
        if not page.terminal:
            return page.measure(cell)
        shown = printing.pretty(cell)
        return len(shown) if "\n" not in shown else len(printing.plain(cell))
    return page.text(str(cell))


def _plain_text(cell) -> str:
    if isinstance(cell, Text):
        return cell.value
    return printing.plain(cell) if isinstance(cell, sp.Basic) else str(cell)


def _table(block: Table, page: Page) -> tuple[Block, ...]:
    """A table too wide for the page leaves out its widest worked-out column, and says so."""
    if page.exact == "always":
        return (block,)
    header, rows, dropped = list(block.header), [list(r) for r in block.rows], []
    while True:
        widths = [max(_cell_width(row[i], page) for row in [header, *rows]) for i in range(len(header))]
        if sum(widths) + page.cell_gap * (len(widths) - 1) <= page.table_room or len(widths) < 2:
            break
        worked = [i for i in range(len(header)) if all(_is_exact_value(row[i]) for row in rows)]
        if not worked:
            break
        widest = max(worked, key=lambda i: widths[i])
        dropped.append(header.pop(widest))
        for row in rows:
            del row[widest]
    kept = Table(tuple(header), tuple(tuple(r) for r in rows))
    out = _table_parts(kept, widths, page)
    if not dropped:
        return out
    note = Prose(
        "(The column{s} {names} {verb} left out here: too wide for the page.)",
        {
            "s": "s" if len(dropped) > 1 else "",
            "names": ", ".join(f"“{_plain_text(name)}”" for name in dropped),
            "verb": "are" if len(dropped) > 1 else "is",
        },
    )
    return (*out, note)


def _table_parts(table: Table, widths: list[float], page: Page) -> tuple[Block, ...]:
    """A table still too wide, cut into tables of fewer columns, each keeping the first column."""
    if sum(widths) + page.cell_gap * (len(widths) - 1) <= page.table_room or len(widths) < 3:
        return (table,)
    groups: list[list[int]] = [[]]
    used = widths[0]
    for column in range(1, len(widths)):
        step = widths[column] + page.cell_gap
        if groups[-1] and used + step > page.table_room:
            groups.append([])
            used = widths[0]
        groups[-1].append(column)
        used += step
    return tuple(
        Table(
            tuple(table.header[i] for i in (0, *group)),
            tuple(tuple(row[i] for i in (0, *group)) for row in table.rows),
        )
        for group in groups
    )


__all__ = ["Page", "prepare", "prepare_all"]
