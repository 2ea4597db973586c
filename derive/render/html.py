"""HTML: one self-contained file with MathML (browsers render it natively), no JavaScript.

Figures are PNG ``data:`` URIs with alt text; a Content-Security-Policy forbids scripts and
every network request. Each ``<math>`` carries ``alttext`` and ``display`` for screen
readers; headings give the document its outline. User text and prose are HTML-escaped.
"""

from __future__ import annotations

import base64

from derive import printing
from derive.numbers import approx
from derive.render import escape
from derive.render.base import Renderer, fill, is_math, is_user_text, register

MATHML = 'xmlns="http://www.w3.org/1998/Math/MathML"'
TALL_PARTS = 160  # characters of plain math after which a chain goes one part per line


def _inline(value) -> str:
    from derive import printing_mathml

    if is_user_text(value):
        return f"<em>{escape.html(value.value)}</em>"
    if is_math(value):
        return printing_mathml.math(value)
    return escape.html(str(value))


def display_math(block, precision: int) -> str:
    """The chain ``a = b ≈ c`` as one block ``<math>``; a long chain is a two-column table."""
    from derive import printing_mathml

    parts = [("", block.parts[0])] + [("=", p) for p in block.parts[1:]]
    if block.approx is not None:
        parts.append(("≈", approx(block.approx, precision)))
    spoken = " ".join(f"{rel} {printing_mathml.spoken(p)}".strip() for rel, p in parts)
    bodies = [(rel, printing_mathml.body(p)) for rel, p in parts]
    plain_length = len(spoken)
    tall = sum(isinstance(p, printing.sp.MatrixBase) for _, p in parts) > 2 or (
        len(parts) > 2 and plain_length > TALL_PARTS
    )
    if not tall or len(parts) < 2:
        inner = "".join((f"<mo>{rel}</mo>" if rel else "") + body for rel, body in bodies)
        inner = f"<mrow>{inner}</mrow>"
    else:
        rows = [f"<mtr><mtd>{bodies[0][1]}</mtd><mtd><mo>{bodies[1][0]}</mo>{bodies[1][1]}</mtd></mtr>"]
        rows += [f"<mtr><mtd></mtd><mtd><mo>{rel}</mo>{body}</mtd></mtr>" for rel, body in bodies[2:]]
        inner = f'<mtable class="chain">{"".join(rows)}</mtable>'
    return f'<math {MATHML} display="block" alttext="{escape.html(spoken)}">{inner}</math>'


@register
class HtmlRenderer(Renderer):
    """A standalone page; figures are always drawn and embedded."""

    name = "html"
    extensions = (".html", ".htm")

    def visit_Figure(self, block) -> str:
        from derive.figures import draw_png

        data = base64.b64encode(draw_png(block)).decode("ascii")
        title = escape.html(block.title)
        return (
            f'<figure><img src="data:image/png;base64,{data}" alt="{title}">'
            f"<figcaption>{title}</figcaption></figure>"
        )

    def visit_Prose(self, block) -> str:
        return f"<p>{fill(block, escape.html, _inline)}</p>"

    def visit_Equation(self, block) -> str:
        return display_math(block, self.precision)

    def visit_Table(self, block) -> str:
        header = "".join(f'<th scope="col">{_inline(c)}</th>' for c in block.header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>\n" for row in block.rows
        )
        return f'<div class="table"><table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n{rows}</tbody>\n</table></div>'

    def render(self, derivation) -> str:
        return self.template(
            "document.html.j2",
            title=escape.html(derivation.title),
            intro=self.blocks(derivation.intro),
            steps=[
                {"title": escape.html(s.title), "blocks": self.blocks(s.blocks)} for s in derivation.steps
            ],
        )
