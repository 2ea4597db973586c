"""PDF: the Typst document compiled in-process by the ``typst`` package (fonts embedded, offline,
no TeX), or with ``engine="latex"`` the LaTeX document compiled by latexmk or pdflatex.

Figures are drawn into memory and handed to the compiler; nothing is written beside the output.
Both engines give the same bytes for the same inputs (no dates, fixed IDs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from derive import budget
from derive.errors import DeriveError, InputError
from derive.render.base import Renderer, register
from derive.render.latex import LatexRenderer
from derive.render.typst import TypstRenderer

ENGINES = ("typst", "latex")
LATEX_TIMEOUT = 120  # seconds


class MemoryFigures:
    """A figure sink that keeps PNG bytes by file name instead of writing a folder."""

    def __init__(self):
        self.files: dict[str, bytes] = {}

    def save(self, figure) -> str:
        from derive.figures import draw_png

        name = (re.sub(r"[^a-z0-9-]+", "-", figure.name.lower()).strip("-") or "figure") + ".png"
        if name not in self.files:
            self.files[name] = draw_png(figure)
        return name


@register
class PdfRenderer(Renderer):
    """``engine``: ``typst`` (default, in-process) or ``latex`` (latexmk or pdflatex on PATH)."""

    name = "pdf"
    extensions = (".pdf",)
    binary = True
    default_settings = {"engine": "typst"}

    def _inner_settings(self) -> dict:
        return {k: v for k, v in self.settings.items() if k != "engine"}

    def render(self, derivation) -> bytes:
        engine = self.settings["engine"]
        if engine not in ENGINES:
            raise InputError("--engine", f"expected one of {', '.join(ENGINES)}")
        figures = MemoryFigures()
        if engine == "latex":
            return _latex_pdf(derivation, self._inner_settings(), figures)
        from derive.typst_compile import compile_pdf

        typst = TypstRenderer(**self._inner_settings(), figures=figures)
        source = budget.within(budget.describe(derivation.params), lambda: typst.render(derivation))
        return compile_pdf(source, figures.files)


def latex_program() -> list[str]:
    """The LaTeX command line to run, or an input error naming what is missing."""
    if shutil.which("latexmk"):
        return ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "-quiet"]
    if shutil.which("pdflatex"):
        return ["pdflatex", "-interaction=nonstopmode", "-halt-on-error"]
    raise InputError(
        "--engine", "latex needs latexmk or pdflatex on PATH; neither was found (use --engine typst)"
    )


def _latex_pdf(derivation, settings: dict, figures: MemoryFigures) -> bytes:
    command = latex_program()
    with tempfile.TemporaryDirectory(prefix="derive-latex-") as folder:
        root = Path(folder)
        latex = LatexRenderer(**settings, figures=figures)
        source = budget.within(budget.describe(derivation.params), lambda: latex.render(derivation))
        (root / "derivation.tex").write_text(source, encoding="utf-8")
        for name, data in figures.files.items():
            (root / name).write_bytes(data)
        environment = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
        try:
            done = subprocess.run(
                [*command, "derivation.tex"],
                cwd=root,
                env=environment,
                capture_output=True,
                text=True,
                timeout=LATEX_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise DeriveError(f"{command[0]} took longer than {LATEX_TIMEOUT} s") from None
        pdf = root / "derivation.pdf"
        if done.returncode != 0 or not pdf.exists():
            raise DeriveError(f"{command[0]} failed: {_first_error(done.stdout)}")
        return pdf.read_bytes()


def _first_error(log: str) -> str:
    for line in log.splitlines():
        if line.startswith("!"):
            return line[1:].strip()
    return "see the LaTeX log"
