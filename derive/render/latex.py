"""LaTeX: a complete document for pdflatex (texlive-latex-base and -recommended only), or a fragment."""

from __future__ import annotations

from derive import printing
from derive.render import escape
from derive.render.base import Renderer, fill, is_math, is_user_text, register
from derive.render.markdown import display_math


def _inline(value) -> str:
    if is_user_text(value):
        return f"\\emph{{{escape.latex(value.value)}}}"
    if is_math(value):
        return f"\\({printing.latex(value)}\\)"
    return escape.latex_prose(str(value))


@register
class LatexRenderer(Renderer):
    """A document, or with ``fragment`` its body; ``figures`` (a FigureSink) writes the pictures."""

    name = "latex"
    extensions = (".tex",)
    default_settings = {"fragment": False, "figures": None}
    template_syntax = (
        ("block_start_string", "((*"),
        ("block_end_string", "*))"),
        ("variable_start_string", "((("),
        ("variable_end_string", ")))"),
        ("comment_start_string", "((#"),
        ("comment_end_string", "#))"),
    )

    def visit_Figure(self, block) -> str:
        figures = self.settings["figures"]
        if not figures:
            return ""
        return (
            f"\\begin{{center}}\n\\includegraphics[width=0.7\\linewidth]{{{figures.save(block)}}}\n"
            f"\\par\\small {escape.latex_prose(block.title)}\n\\end{{center}}"
        )

    def visit_Prose(self, block) -> str:
        return fill(block, escape.latex_prose, _inline)

    def visit_Equation(self, block) -> str:
        math = display_math(block, self.precision)
        if math.startswith("\\begin{aligned}"):
            return (
                "\\begin{align*}" + math[len("\\begin{aligned}") : -len("\\end{aligned}")] + "\\end{align*}"
            )
        return f"\\[\n{math}\n\\]"

    def visit_Table(self, block) -> str:
        columns = "r" * len(block.header)
        header = " & ".join(_inline(c) for c in block.header)
        rows = " \\\\\n".join(" & ".join(_inline(c) for c in row) for row in block.rows)
        return (
            f"\\begin{{center}}\\begin{{tabular}}{{{columns}}}\n\\toprule\n{header} \\\\\n\\midrule\n"
            f"{rows} \\\\\n\\bottomrule\n\\end{{tabular}}\\end{{center}}"
        )

    def render(self, derivation) -> str:
        return self.template(
            "fragment.tex.j2" if self.settings["fragment"] else "document.tex.j2",
            title=escape.latex_prose(derivation.title),
            intro=self.blocks(derivation.intro),
            steps=[
                {"title": escape.latex_prose(s.title), "blocks": self.blocks(s.blocks)}
                for s in derivation.steps
            ],
        )
