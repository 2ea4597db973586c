"""Terminal output: SymPy's unicode pretty printing, with rich styling only on a real terminal."""

from __future__ import annotations

import sys
import unicodedata

from sympy.printing.pretty.stringpict import prettyForm

from derive import printing
from derive.numbers import approx
from derive.render import policy
from derive.render.base import Renderer, fill, is_math, is_user_text, register
from derive.visible import visible

WIDTH = 100  # the widest a derivation is laid out, even on a wider terminal
PIPED_COLUMNS = 80
MIN_COLUMNS = 40


def _inline(value, precision: int) -> str:
    if is_user_text(value):
        return f"“{visible(value.value)}”"
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
    lines = [fit(forms[0], width)]
    for form in forms[1:]:
        first, *rest = _slices(form, width - 2)
        lines.append("\n\n".join([_prefix("= ", first), *(_prefix("  ", s) for s in rest)]))
    return "\n".join(lines)


def fit(picture: str, width: int) -> str:
    """A picture wider than ``width`` cut into slices that fit, one below the other, as SymPy's
    own line wrapping does: the last resort for a form the size policy cannot shorten."""
    return "\n\n".join(_slices(picture, width))


def _slices(picture: str, width: int) -> list[str]:
    lines = picture.split("\n")
    widest = max(_width(line) for line in lines)
    if widest <= width:
        return [picture]
    return [
        "\n".join(line[start : start + width].rstrip() for line in lines) for start in range(0, widest, width)
    ]


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
    return text + "\n" + _prefix("≈ ", fit(rounded, width - 2))


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


HEATMAP_DECIMALS = 2  # at most, so that a cell stays 8 characters wide; fewer when --precision is lower


def _figure_text(block, width: int, precision: int = HEATMAP_DECIMALS) -> str:
    """A compact text heatmap (numbers only when they fit); other figures are only named."""
    if block.kind != "heatmap":
        import textwrap

        return textwrap.fill(f"[figure: {block.title}; written as PNG with -o or --figures]", width)
    decimals = min(precision, HEATMAP_DECIMALS)
    shown = _heatmap_text(block, len(block.data["values"][0]) <= 8, decimals)
    if max(_width(line) for line in shown.split("\n")) > width:
        shown = _heatmap_text(block, False, decimals)
    return shown if max(_width(line) for line in shown.split("\n")) <= width else fit(shown, width)


def _heatmap_text(block, with_numbers: bool, decimals: int) -> str:
    data = block.data
    values = data["values"]
    low = min(min(r) for r in values)
    high = max(max(r) for r in values)
    span = (high - low) or 1.0
    label_width = max(len(label) for label in data["row_labels"])
    cell = 8 if with_numbers else 2
    header = " " * label_width + " " + " ".join(c[:cell].center(cell) for c in data["col_labels"])
    lines = [block.title, header.rstrip()]
    for label, row in zip(data["row_labels"], values):
        cells = []
        for value in row:
            shade = _SHADES[min(int((value - low) / span * len(_SHADES)), len(_SHADES) - 1)] * 2
            cells.append(f"{shade}{value:6.{decimals}f}" if with_numbers else shade)
        lines.append(label.rjust(label_width) + " " + " ".join(cells))
    lines.append(f"(shading from {low:.{decimals}f} ' ' to {high:.{decimals}f} '█')")
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

    @property
    def page(self):
        return policy.Page.screen(self.width, self.settings["exact"], self.precision)

    def visit_Figure(self, block) -> str:
        return _indent(_figure_text(block, self.width - 4, self.precision))

    def visit_Prose(self, block) -> str:
        import textwrap

        filled = fill(block, lambda s: s, lambda v: _inline(v, self.precision))
        return textwrap.fill(filled, width=self.width, break_on_hyphens=False)

    def visit_Equation(self, block) -> str:
        return _indent(_equation_text(block, self.precision, self.width - 4))

    def visit_Table(self, block) -> str:
        return _indent(fit(_table_text(block, self.precision), self.width - 4))

    def blocks(self, items) -> list[str]:
        """As every renderer's, with hidden characters in user text spelled out (``derive.visible``)."""
        return [visible(text) for text in super().blocks(items)]

    def render(self, derivation) -> str:
        import textwrap

        width = self.width
        title = textwrap.fill(visible(derivation.title), width)
        out = [title, "═" * max(_width(line) for line in title.split("\n")), ""]
        for text in self.blocks(derivation.intro):
            out += [text, ""]
        for number, step in enumerate(derivation.steps, 1):
            heading = textwrap.fill(visible(f"Step {number}. {step.title}"), width)
            out += [heading, "─" * max(_width(line) for line in heading.split("\n"))]
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
