"""Markdown with ``$...$`` and ``$$...$$`` math, for GitHub and Jupyter (KaTeX or MathJax)."""

from __future__ import annotations

import sympy as sp

from derive import printing
from derive.numbers import approx
from derive.render import escape, measure, policy
from derive.render.base import Renderer, fill, is_math, is_user_text, register


def _inline(value) -> str:
    if is_user_text(value):
        return f"*{escape.markdown(value.value)}*"
    if is_math(value):
        return f"${printing.latex(value)}$"
    return escape.markdown_prose(str(value))


def display_math(block, precision: int) -> str:
    """LaTeX for an equation chain; matrix chains go one part per line so they stay readable,
    and a sum too long for the page is broken before one of its plus or minus signs."""
    room = policy.Page.document().room(block.parts[0] if len(block.parts) > 1 else None)
    parts = [("", _lines(block.parts[0], room))] + [("=", _lines(p, room)) for p in block.parts[1:]]
    if block.approx is not None:
        parts.append(("\\approx", [printing.latex(approx(block.approx, precision))]))
    bodies = [" ".join(lines) for _, lines in parts]
    tall = (
        any(len(lines) > 1 for _, lines in parts)
        or sum(b.count("\\begin{bmatrix}") for b in bodies) > 2
        or (len(parts) > 2 and sum(map(len, bodies)) > 160)
        or len(bodies) > 1
        and sum(map(measure.latex_points, bodies)) + measure.RELATION * (len(bodies) - 1) > policy.PAGE_POINTS
    )
    if not tall:
        return " ".join([bodies[0], *(f"{rel} {body}" for (rel, _), body in zip(parts[1:], bodies[1:]))])
    first = parts[0][1]
    head = first[0] + "".join(f" \\\\ &\\quad {line}" for line in first[1:]) if len(first) > 1 else first[0]
    if len(first) > 1:
        head = "&" + head
    rest = [
        f"&{rel} {lines[0]}" + "".join(f" \\\\ &\\quad {line}" for line in lines[1:])
        for rel, lines in parts[1:]
    ]
    return "\\begin{aligned}" + head + (" " + " \\\\ ".join(rest) if rest else "") + "\\end{aligned}"


def _lines(part, room: float) -> list[str]:
    """The LaTeX of one part, as one line or, for a sum too wide for ``room``, several."""
    text = printing.latex(part)
    if not isinstance(part, sp.Add) or "\\begin{" in text or measure.latex_points(text) <= room:
        return [text]
    lines, current = [], ""
    for term in _terms(text):
        if current and measure.latex_points(f"{current} {term}") > room - measure.QUAD:
            lines.append(current)
            current = term
        else:
            current = f"{current} {term}".strip()
    return [*lines, current]


def _terms(text: str) -> list[str]:
    """A printed sum cut before each plus or minus sign outside braces and brackets."""
    terms, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if text.startswith("\\left", index):
            depth += 1
        elif text.startswith("\\right", index):
            depth -= 1
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and index > start and text[index - 1 : index + 2] in (" + ", " - "):
            terms.append(text[start : index - 1])
            start = index
    return [*terms, text[start:]]


@register
class MarkdownRenderer(Renderer):
    """``figures`` (a FigureSink) writes the pictures; without one they are left out."""

    name = "markdown"
    extensions = (".md", ".markdown")
    default_settings = {"figures": None}

    def visit_Figure(self, block) -> str:
        figures = self.settings["figures"]
        return f"![{escape.markdown_prose(block.title)}]({figures.save(block)})" if figures else ""

    def visit_Prose(self, block) -> str:
        return fill(block, escape.markdown_prose, _inline)

    def visit_Equation(self, block) -> str:
        return f"$$\n{display_math(block, self.precision)}\n$$"

    def visit_Table(self, block) -> str:
        header = "| " + " | ".join(_inline(c) for c in block.header) + " |"
        rule = "|" + "---:|" * len(block.header)
        rows = ["| " + " | ".join(_inline(c) for c in row) + " |" for row in block.rows]
        return "\n".join([header, rule, *rows])

    def render(self, derivation) -> str:
        return self.template(
            "derivation.md.j2",
            title=escape.markdown_prose(derivation.title),
            intro=self.blocks(derivation.intro),
            steps=[
                {"title": escape.markdown_prose(s.title), "blocks": self.blocks(s.blocks)}
                for s in derivation.steps
            ],
        )
