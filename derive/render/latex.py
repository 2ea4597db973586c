"""LaTeX: a complete document for pdflatex (texlive-latex-base and -recommended only), or a fragment."""

from __future__ import annotations

from derive import printing
from derive.render import escape
from derive.render._blocks import fill, is_math, is_user_text, kind
from derive.render._templates import render_template
from derive.render.markdown import display_math


def _inline(value) -> str:
    if is_user_text(value):
        return f"\\emph{{{escape.latex(value.value)}}}"
    if is_math(value):
        return f"\\({printing.latex(value)}\\)"
    return escape.latex_prose(str(value))


def _block(block, precision: int, figures=None) -> str:
    k = kind(block)
    if k == "figure":
        if not figures:
            return ""
        return (
            f"\\begin{{center}}\n\\includegraphics[width=0.7\\linewidth]{{{figures.save(block)}}}\n"
            f"\\par\\small {escape.latex_prose(block.title)}\n\\end{{center}}"
        )
    if k == "prose":
        return fill(block, escape.latex_prose, _inline)
    if k == "equation":
        math = display_math(block, precision)
        if math.startswith("\\begin{aligned}"):
            return (
                "\\begin{align*}" + math[len("\\begin{aligned}") : -len("\\end{aligned}")] + "\\end{align*}"
            )
        return f"\\[\n{math}\n\\]"
    columns = "r" * len(block.header)
    header = " & ".join(_inline(c) for c in block.header)
    rows = " \\\\\n".join(" & ".join(_inline(c) for c in row) for row in block.rows)
    return (
        f"\\begin{{center}}\\begin{{tabular}}{{{columns}}}\n\\toprule\n{header} \\\\\n\\midrule\n"
        f"{rows} \\\\\n\\bottomrule\n\\end{{tabular}}\\end{{center}}"
    )


def render(derivation, precision: int = 4, fragment: bool = False, figures=None) -> str:
    """``figures`` (a FigureSink) writes the pictures; without one they are left out."""

    def blocks(items):
        return [text for text in (_block(b, precision, figures) for b in items) if text]

    return render_template(
        "latex",
        "fragment.tex.j2" if fragment else "document.tex.j2",
        title=escape.latex_prose(derivation.title),
        intro=blocks(derivation.intro),
        steps=[{"title": escape.latex_prose(s.title), "blocks": blocks(s.blocks)} for s in derivation.steps],
    )
