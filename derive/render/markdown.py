"""Markdown with ``$...$`` and ``$$...$$`` math, for GitHub and Jupyter (KaTeX or MathJax)."""

from __future__ import annotations

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
    """LaTeX for an equation chain; matrix chains go one part per line so they stay readable."""
    parts = [printing.latex(p) for p in block.parts]
    if block.approx is not None:
        parts.append(("\\approx", printing.latex(approx(block.approx, precision))))
    bodies = [p if isinstance(p, str) else p[1] for p in parts]
    tall = (
        sum(b.count("\\begin{bmatrix}") for b in bodies) > 2
        or (len(parts) > 2 and sum(map(len, bodies)) > 160)
        or len(bodies) > 1
        and sum(map(measure.latex_points, bodies)) + measure.RELATION * (len(bodies) - 1) > policy.PAGE_POINTS
    )
    pieces = [parts[0]]
    for part in parts[1:]:
        rel, body = part if isinstance(part, tuple) else ("=", part)
        pieces.append(f"{'&' if tall else ''}{rel} {body}")
    if not tall:
        return " ".join(pieces)
    return "\\begin{aligned}" + pieces[0] + " " + " \\\\ ".join(pieces[1:]) + "\\end{aligned}"


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
