"""How wide printed mathematics is where it lands: terminal columns, or points on a LaTeX page.

The terminal width is exact (the unicode pretty form is what is shown). The page width is an
estimate from the LaTeX source with Computer Modern's metrics at 11 pt, as amsmath sets display
math: exponents and subscripts at 70 %, fractions as wide as their wider half, matrices as the
sum of their widest cells plus the column gaps. It errs on the wide side, so that what it
accepts never overflows the page; tests compile the results with pdflatex to hold it to that.
Markdown (KaTeX, MathJax) and Typst lay out the same mathematics in much the same space.
"""

from __future__ import annotations

import re
import unicodedata

from derive import printing

GLYPH = 5.8  # an average italic lower-case letter at 11 pt
DIGIT = 5.5
ROMAN = 4.8  # a letter of an upright function name: cos, exp, softmax
CAPITAL = 8.6  # an italic capital
TEXT = 5.0  # an average character of roman text, spaces included
NARROW = 4.3  # brackets, commas, dots
BINARY = 11.0  # + − × and half their medium spaces, which TeX may shrink to nothing
DOT = 5.6  # \cdot and half its spaces
RELATION = 14.8  # = ≈ with the thick spaces on both sides
SCRIPT = 0.8  # the width of an exponent or a subscript relative to its base (small fonts are wider)
SCRIPT_SCRIPT = 0.64  # the smallest size, scripts of scripts
COLUMN_GAP = 10.0  # \arraycolsep on both sides of a matrix cell
DELIMITER = 4.5  # one bracket \left( … \right)
MATRIX_BRACKET = 7.0  # one tall bracket of a bmatrix
TALL_DELIMITER = 7.5  # \left( around a displayed fraction
QUAD = 11.0
ROOT = 9.5  # the radical sign of \sqrt
OPERATOR = 12.0  # \sum and other large operators, in text style

_COMMANDS = {
    "cdot": DOT,
    "times": BINARY,
    "pm": BINARY,
    "approx": RELATION,
    "le": RELATION,
    "ge": RELATION,
    "neq": RELATION,
    "to": RELATION,
    "infty": 10.0,
    "ldots": 14.0,
    "cdots": 14.0,
    "sum": OPERATOR,
    "prod": OPERATOR,
    ",": 1.8,
    ";": 3.1,
    "quad": QUAD,
    "qquad": 22.0,
    "{": NARROW,
    "}": NARROW,
    "%": GLYPH,
    "#": GLYPH,
}
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_&]|\s+|.", re.S)
_FUNCTIONS = ("sin", "cos", "tan", "tanh", "log", "ln", "exp", "max", "min", "arg", "det", "erf")
_WORDS = ("operatorname", "mathrm", "text", "textrm", "mathit", "mathbf", "mathtt", "texttt")


def columns(expr) -> int:
    """Columns of the unicode pretty form on screen (East Asian wide characters take two)."""
    return max(_screen_width(line) for line in printing.pretty(expr).split("\n"))


def lines(expr) -> int:
    return printing.pretty(expr).count("\n") + 1


def points(expr) -> float:
    """Estimated width in points of ``expr`` in LaTeX display math at 11 pt."""
    return latex_points(printing.latex(expr))


def latex_points(tex: str) -> float:
    tokens = [t for t in _TOKEN.findall(tex) if not t.isspace()]
    width, _ = _group(tokens, 0, 1.0, stop=None, display=True)
    return width


def _screen_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _argument(tokens, index, scale, display=False):
    """One argument: a braced group or a single token; returns its width and the next index."""
    if index >= len(tokens):
        return 0.0, index
    if tokens[index] == "{":
        width, index = _group(tokens, index + 1, scale, stop="}", display=display)
        return width, index + 1
    return _group(tokens[index : index + 1], 0, scale, stop=None, display=display)[0], index + 1


def _raw(tokens, index) -> tuple[str, int]:
    """The text of a braced argument, unparsed (for \\operatorname{softmax} and \\begin{...})."""
    depth, out = 0, []
    for position in range(index, len(tokens)):
        token = tokens[position]
        depth += {"{": 1, "}": -1}.get(token, 0)
        if depth == 0:
            return "".join(out[1:]), position + 1
        out.append(token)
    return "".join(out[1:]), len(tokens)


def _group(tokens, index, scale, stop, display=False):
    """Width of tokens from ``index`` up to ``stop`` (a closing brace) or the end; ``display``
    style sets the halves of a fraction at full size, text style (matrix cells) smaller."""
    width = 0.0
    first = True
    closing_tall = False
    spaced = scale >= 1.0  # operators are spaced only at full size
    while index < len(tokens):
        token = tokens[index]
        if token == stop:
            return width, index
        index += 1
        if token in ("^", "_"):
            part, index = _argument(tokens, index, max(scale * SCRIPT, SCRIPT_SCRIPT))
            width += part
        elif token == "{":
            part, index = _group(tokens, index, scale, stop="}", display=display)
            width, index = width + part, index + 1
        elif token == "\\frac":
            inner = scale if display else max(scale * SCRIPT, SCRIPT_SCRIPT)
            top, index = _argument(tokens, index, inner)
            bottom, index = _argument(tokens, index, inner)
            width += max(top, bottom) + 2.4 * scale
        elif token == "\\sqrt":
            inner, index = _argument(tokens, index, scale, display)
            width += inner + ROOT * scale
        elif token in ("\\left", "\\right"):
            if index < len(tokens) and tokens[index] != ".":
                tall = token == "\\left" and display and _encloses_fraction(tokens, index)
                width += (
                    TALL_DELIMITER if tall or token == "\\right" and closing_tall else DELIMITER
                ) * scale
                if token == "\\left":
                    closing_tall = tall
            index += 1
        elif token == "\\begin":
            name, index = _raw(tokens, index)
            body_end = _environment_end(tokens, index, name)
            width += _matrix(tokens[index:body_end], scale)
            index = body_end + 1
            index = _raw(tokens, index)[1]
        elif token[1:] in _WORDS and token.startswith("\\"):
            text, index = _raw(tokens, index)
            letters = sum(CAPITAL - 1.0 if ch.isupper() else ROMAN for ch in text)
            width += letters * scale + (3.0 if token == "\\operatorname" else 0.0)
        elif token in ("+", "-"):
            width += (BINARY if spaced and not first else 8.6) * scale
        elif token in ("=", "<", ">"):
            width += (RELATION if spaced else 8.6) * scale
        elif token.startswith("\\"):
            name = token[1:]
            if name in _FUNCTIONS:
                width += (len(name) * ROMAN + 1.8) * scale
                continue
            known = _COMMANDS.get(name)
            if known in (BINARY, DOT, RELATION) and not spaced:
                known = 8.0
            width += (known if known is not None else GLYPH * 1.15) * scale
        elif token in "()[],.;|":
            width += NARROW * scale
        elif token == "&":
            pass
        else:
            glyph = CAPITAL if token.isupper() else DIGIT if token.isdigit() else GLYPH
            width += _screen_width(token) * glyph * scale
        first = token in ("(", "[", "{")
    return width, index


def _encloses_fraction(tokens, index) -> bool:
    """Whether the \\left at ``index - 1`` encloses a fraction before its \\right."""
    depth = 1
    for token in tokens[index + 1 :]:
        depth += {"\\left": 1, "\\right": -1}.get(token, 0)
        if depth == 0:
            return False
        if token == "\\frac":
            return True
    return False


def _environment_end(tokens, index, name) -> int:
    """The index of the ``\\end`` that closes ``\\begin{name}``."""
    depth = 1
    position = index
    while position < len(tokens):
        if tokens[position] in ("\\begin", "\\end"):
            inner, after = _raw(tokens, position + 1)
            if inner == name:
                depth += 1 if tokens[position] == "\\begin" else -1
                if depth == 0:
                    return position
            position = after
            continue
        position += 1
    return len(tokens)


def _matrix(tokens, scale) -> float:
    """A bmatrix (or any array): widest cell of each column, the gaps, and the brackets."""
    rows: list[list[list[str]]] = [[[]]]
    depth = 0  # braces and inner environments: their & and \\ belong to them
    for token in tokens:
        depth += {"{": 1, "}": -1, "\\begin": 1, "\\end": -1}.get(token, 0)
        if depth == 0 and token == "\\\\":
            rows.append([[]])
        elif depth == 0 and token == "&":
            rows[-1].append([])
        else:
            rows[-1][-1].append(token)
    widths: list[float] = []
    for row in rows:
        for column, cell in enumerate(row):
            cell_width = _group(cell, 0, scale, stop=None)[0]
            if column == len(widths):
                widths.append(cell_width)
            else:
                widths[column] = max(widths[column], cell_width)
    return sum(widths) + COLUMN_GAP * scale * max(len(widths) - 1, 0) + 2 * MATRIX_BRACKET * scale


__all__ = ["columns", "latex_points", "lines", "points"]
