"""Read printed math back into comparable shapes, whatever the format printed it.

Terminal forms are 2-D pictures, LaTeX and Typst are markup; the helpers here reduce each to the
same plain tokens so tests can compare what a reader sees rather than how it was spelled.
"""

from __future__ import annotations

import re
from collections import Counter

_SCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "01234567890123456789-")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def latex_tokens(text: str) -> str:
    """LaTeX math reduced to bare tokens: ``e^{-2} + e^{0}`` becomes ``e-2+e0``."""
    text = re.sub(r"\\(left|right)\b", "", text)
    text = re.sub(r"\\times 10\^\{(-?\d+)\}", r"e\1", text)
    text = text.replace("\\cdot", "⋅").replace("\\operatorname", "")
    text = text.replace("\\sqrt", "√")
    text = re.sub(r"\\(frac|mathrm|text|begin\{bmatrix\}|end\{bmatrix\})", "", text)
    return re.sub(r"[\s{}^_()\[\]]", "", text)


def typst_tokens(text: str) -> str:
    """Typst math reduced the same way: ``e^(-2)`` becomes ``e-2``, ``sqrt(2)`` becomes ``√2``."""
    text = text.replace("dot.op", "⋅").replace("sqrt", "√").replace("frac", "")
    return re.sub(r"[\s{}^_()\[\]\"$]", "", text)


def typst_fraction(text: str) -> tuple[str, str]:
    """Numerator and denominator of the outermost ``frac(.., ..)``."""
    start = text.index("frac(") + len("frac(")
    depth, comma = 1, None
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 1 and text[index] == "," and comma is None:
            comma = index
        if depth == 0:
            return typst_tokens(text[start:comma]), typst_tokens(text[comma + 1 : index])
    raise ValueError(f"unbalanced parentheses in {text!r}")


def picture_tokens(text: str) -> str:
    """A 2-D picture read column by column, top to bottom, spaces dropped: ``ℯ`` over ``-2``
    side by side reads ``e-2`` as in LaTeX."""
    lines = text.split("\n")
    width = max((len(line) for line in lines), default=0)
    padded = [line.ljust(width) for line in lines]
    out = []
    for column in range(width):
        out.extend(line[column] for line in padded if line[column] not in " /─⎡⎢⎣⎤⎥⎦⎛⎜⎝⎞⎟⎠()[]")
    return "".join(out).replace("ℯ", "e").translate(_SCRIPT_DIGITS)


def picture_fraction(text: str) -> tuple[str, str]:
    """Numerator and denominator of a pretty-printed fraction: the lines above and below its bar."""
    lines = text.split("\n")
    bar = next(i for i, line in enumerate(lines) if line.strip() and set(line.strip()) == {"─"})
    return picture_tokens("\n".join(lines[:bar])), picture_tokens("\n".join(lines[bar + 1 :]))


def latex_fraction(text: str) -> tuple[str, str]:
    """Numerator and denominator of the outermost ``\\frac{..}{..}``."""
    start = text.index("\\frac") + len("\\frac")
    numerator, end = _braced(text, start)
    denominator, _ = _braced(text, end)
    return latex_tokens(numerator), latex_tokens(denominator)


def _braced(text: str, start: int) -> tuple[str, int]:
    assert text[start] == "{", text[start:]
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index], index + 1
    raise ValueError(f"unbalanced braces in {text!r}")


def terms(tokens: str) -> list[str]:
    """The terms of a flattened sum, split at its plus signs."""
    return tokens.split("+")


def numbers(tokens: str) -> Counter:
    """The multiset of unsigned numbers a reader sees."""
    return Counter(_NUMBER.findall(tokens.translate(_SCRIPT_DIGITS)))
