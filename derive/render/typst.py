"""Typst: a complete document, compiled to PDF by ``derive.render.pdf`` (no TeX needed).

Math comes from ``derive.printing_typst``; user text is escaped with ``escape.typst`` and our
own prose with ``escape.typst_prose``. Every display formula and table is wrapped in the
template's ``fit`` function, which scales it down only when it is wider than the text block,
so nothing runs off the page.
"""

from __future__ import annotations

from derive import printing_typst
from derive.numbers import approx
from derive.render import escape
from derive.render.base import Renderer, fill, is_math, is_user_text, register

TALL_PARTS = 160  # characters of printed math after which a chain goes one part per line


def inline(value) -> str:
    """One inline cell or field: user text emphasised, math between ``$``, prose escaped."""
    if is_user_text(value):
        return f"#emph[{escape.typst(value.value)}]"
    if is_math(value):
        text = printing_typst.typst(value)
        # Typst sets an inline matrix's entries at script size; LaTeX keeps them at text size.
        return f"$display({text})$" if text.startswith("mat(") else f"${text}$"
    return escape.typst_prose(str(value))


def display_math(block, precision: int) -> str:
    """``$ a = b approx c $``; a long chain or one with many matrices goes one part per line."""
    parts = [("", printing_typst.typst(block.parts[0]))]
    parts += [("=", printing_typst.typst(p)) for p in block.parts[1:]]
    if block.approx is not None:
        parts.append(("approx", printing_typst.typst(approx(block.approx, precision))))
    bodies = [body for _, body in parts]
    tall = sum(b.count("mat(") for b in bodies) > 2 or (len(parts) > 2 and sum(map(len, bodies)) > TALL_PARTS)
    if not tall:
        return "$ " + " ".join(f"{rel} {body}".strip() for rel, body in parts) + " $"
    lines = [f"{parts[0][1]} &{parts[1][0]} {parts[1][1]}"]
    lines += [f"&{rel} {body}" for rel, body in parts[2:]]
    return "$ " + " \\\n  ".join(lines) + " $"


@register
class TypstRenderer(Renderer):
    """A Typst document; ``figures`` (anything with ``save(figure) -> path``) places the pictures."""

    name = "typst"
    extensions = (".typ",)
    default_settings = {"figures": None}

    def visit_Figure(self, block) -> str:
        figures = self.settings["figures"]
        if not figures:
            return ""
        path = printing_typst.string(figures.save(block))
        caption = escape.typst_prose(block.title)
        return f"#figure(image({path}, width: 70%, alt: {printing_typst.string(block.title)}), caption: [{caption}])"

    def visit_Prose(self, block) -> str:
        return fill(block, escape.typst_prose, inline)

    def visit_Equation(self, block) -> str:
        return f"#fit[{display_math(block, self.precision)}]"

    def visit_Table(self, block) -> str:
        def cells(row):
            return ", ".join(f"[{inline(c)}]" for c in row)

        rows = "".join(f"  {cells(row)},\n" for row in block.rows)
        return (
            f"#align(center, fit(table(\n  columns: {len(block.header)}, align: right, stroke: none,\n"
            f"  inset: (x: 0.6em, y: 0.35em),\n  table.hline(),\n  table.header({cells(block.header)}),\n"
            f"  table.hline(stroke: 0.5pt),\n{rows}  table.hline(),\n)))"
        )

    def render(self, derivation) -> str:
        return self.template(
            "document.typ.j2",
            title=escape.typst_prose(derivation.title),
            intro=self.blocks(derivation.intro),
            steps=[
                {"title": escape.typst_prose(s.title), "blocks": self.blocks(s.blocks)}
                for s in derivation.steps
            ],
        )
