"""Terminal output: SymPy's unicode pretty printing, with rich styling only on a real terminal."""

from __future__ import annotations

import sys
import unicodedata

from sympy.printing.pretty.stringpict import prettyForm

from derive import printing
from derive.numbers import approx
from derive.render.base import Renderer, fill, is_math, is_user_text, register

WIDTH = 100  # the widest a derivation is laid out, even on a wider terminal
PIPED_COLUMNS = 80
MIN_COLUMNS = 40


def _inline(value, precision: int) -> str:
    if is_user_text(value):
        return f"“{value.value}”"
    if is_math(value):
        shown = printing.pretty(value)
        return shown if "\n" not in shown else printing.plain(value)
    return str(value)


def _chain(parts, width: int) -> str:
    """Join pretty forms with ' = ' side by side; wrap to one part per line when too wide."""
    forms = [printing.pretty(p) for p in parts]
    pictures = [prettyForm(*_as_form(f)) for f in forms]
    joined = pictures[0]
    for pic in pictures[1:]:
        joined = prettyForm(*joined.right(" = ", pic))
    text = joined.render(wrap_line=False)
    if max(len(line) for line in text.splitlines()) <= width:
        return text
    lines = [forms[0]]
    for form in forms[1:]:
        lines.append(_prefix("= ", form))
    return "\n".join(lines)


def _as_form(text: str):
    from sympy.printing.pretty.stringpict import stringPict

    lines = text.split("\n")
    return stringPict(text, baseline=len(lines) // 2).parens("", "")


def _prefix(prefix: str, text: str) -> str:
    lines = text.split("\n")
    middle = len(lines) // 2
    pad = " " * len(prefix)
    return "\n".join((prefix if i == middle else pad) + line for i, line in enumerate(lines))


def _equation_text(block, precision: int, width: int) -> str:
    parts = list(block.parts)
    text = _chain(parts, width)
    if block.approx is None:
        return text
    rounded = printing.pretty(approx(block.approx, precision))
    one_line = "\n" not in text and "\n" not in rounded
    if one_line and len(text) + len(rounded) + 3 <= width:
        return f"{text} ≈ {rounded}"
    return text + "\n" + _prefix("≈ ", rounded)


def _width(text: str) -> int:
    """Columns on screen: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table_text(block, precision: int) -> str:
    cells = [[_inline(c, precision) for c in block.header]]
    cells += [[_inline(c, precision) for c in row] for row in block.rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(cells[0]))]
    lines = ["  ".join(" " * (w - _width(c)) + c for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("─" * w for w in widths))
    return "\n".join(lines)


_SHADES = " ░▒▓█"


def _figure_text(block) -> str:
    """A compact text heatmap; other figures are only named (they are drawn in files)."""
    if block.kind != "heatmap":
        return f"[figure: {block.title}; written as PNG with -o or --figures]"
    data = block.data
    values = data["values"]
    low = min(min(r) for r in values)
    high = max(max(r) for r in values)
    span = (high - low) or 1.0
    with_numbers = len(values[0]) <= 8
    label_width = max(len(label) for label in data["row_labels"])
    cell = 8 if with_numbers else 2
    header = " " * label_width + " " + " ".join(c[:cell].center(cell) for c in data["col_labels"])
    lines = [block.title, header.rstrip()]
    for label, row in zip(data["row_labels"], values):
        cells = []
        for value in row:
            shade = _SHADES[min(int((value - low) / span * len(_SHADES)), len(_SHADES) - 1)] * 2
            cells.append(f"{shade}{value:6.2f}" if with_numbers else shade)
        lines.append(label.rjust(label_width) + " " + " ".join(cells))
    lines.append(f"(shading from {low:.2f} ' ' to {high:.2f} '█')")
    return "\n".join(lines)


@register
class TerminalRenderer(Renderer):
    """Plain text for a terminal; ``color`` (or a terminal on stdout) adds rich headings in ``echo``."""

    name = "terminal"
    extensions = (".txt",)
    default_settings = {"color": None}

    @property
    def width(self) -> int:
        return self.settings["width"] or min(columns(), WIDTH)

    def visit_Figure(self, block) -> str:
        return _indent(_figure_text(block))

    def visit_Prose(self, block) -> str:
        import textwrap

        filled = fill(block, lambda s: s, lambda v: _inline(v, self.precision))
        return textwrap.fill(filled, width=self.width, break_on_hyphens=False)

    def visit_Equation(self, block) -> str:
        return _indent(_equation_text(block, self.precision, self.width - 4))

    def visit_Table(self, block) -> str:
        return _indent(_table_text(block, self.precision))

    def render(self, derivation) -> str:
        width = self.width
        out = [derivation.title, "═" * min(len(derivation.title), width), ""]
        for text in self.blocks(derivation.intro):
            out += [text, ""]
        for number, step in enumerate(derivation.steps, 1):
            heading = f"Step {number}. {step.title}"
            out += [heading, "─" * min(len(heading), width)]
            for text in self.blocks(step.blocks):
                out += [text, ""]
        return "\n".join(out).rstrip() + "\n"


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.split("\n"))


def columns(stream=None) -> int:
    """The width to fill: ``COLUMNS`` if set, else the terminal's, and 80 when output is piped."""
    import os

    stream = stream or sys.stdout
    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return max(int(given), MIN_COLUMNS)
    try:
        if stream.isatty():
            return max(os.get_terminal_size(stream.fileno()).columns, MIN_COLUMNS)
    except (AttributeError, OSError, ValueError):
        pass
    return PIPED_COLUMNS


def wants_color(stream=None) -> bool:
    import os

    stream = stream or sys.stdout
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def echo(text: str) -> None:
    """Print with rich styling for headings when on a terminal, as plain text otherwise."""
    if not wants_color():
        sys.stdout.write(text)
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    lines = text.split("\n")
    for i, line in enumerate(lines[:-1]):
        underline = lines[i + 1] if i + 1 < len(lines) else ""
        if underline and set(underline) in ({"═"}, {"─"}):
            console.print(Text(line, style="bold magenta" if "═" in underline else "bold cyan"))
        elif line and set(line) in ({"═"}, {"─"}):
            console.print(Text(line, style="dim"))
        else:
            console.print(Text(line))
