"""The Typst math printer and the safe Typst compiler."""

from __future__ import annotations

import re
import subprocess

import pytest
import sympy as sp
from sympy.core.symbol import Str

from derive import printing, printing_typst, registry
from derive.api import prepare
from derive.model import Equation, Prose, Table, run
from derive.numbers import Decimal
from derive.render import escape
from derive.typst_compile import TypstCompileError, compile_pdf
from tests.conftest import require_program

x, y, z = sp.symbols("x y z")
HOSTILE = "O'Brien & <b>Ünal</b> $x_1$ 100% {#} \\ * _ @ < ] #set"


def _unevaluated(build):
    with sp.evaluate(False):
        return build()


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (sp.Rational(1, 2), "frac(1, 2)"),
        (sp.Rational(-3, 4), "-frac(3, 4)"),
        (sp.sqrt(sp.Symbol("d_k")), "sqrt(d_(k))"),
        (sp.Symbol("x") ** 2, "x^(2)"),
        (sp.exp(-2) / sp.Symbol("Z"), "frac(e^(-2), Z)"),
        (sp.UnevaluatedExpr(sp.exp(-2)) / sp.Symbol("Z"), "frac(e^(-2), Z)"),
        (sp.Matrix([[1, 2], [3, 4]]), 'mat(delim: "[", 1, 2; 3, 4)'),
        (_unevaluated(lambda: sp.Mul(1, -3) + sp.Mul(-2, 6)), "1 dot.op (-3) + (-2) dot.op 6"),
        (_unevaluated(lambda: sp.Add(3, 1, 2)), "3 + 1 + 2"),
        (sp.Symbol("alpha_i"), "alpha_(i)"),
        (sp.Symbol("W_Q"), "W_(Q)"),
        (sp.Symbol("d_model"), 'd_(italic("model"))'),
        (sp.Symbol("xhat_1"), "hat(x)_(1)"),
        (sp.Symbol("gbar_1"), "macron(g)_(1)"),  # Typst's bar(g) is |g|
        (sp.Symbol("xddot"), "dot.double(x)"),
        (sp.Symbol("A^(1)"), "A^((1))"),
        (sp.Symbol("k'_0"), "k'_(0)"),
        (sp.Symbol("pos"), 'italic("pos")'),
        (Decimal("0.0100"), "0.0100"),
        (Decimal("1.25e-7"), "1.25 times 10^(-7)"),
        (sp.Float("2.5e-8", 3), "2.50 times 10^(-8)"),
        (sp.Eq(x, _unevaluated(lambda: sp.Add(y, 1)), evaluate=False), "x = y + 1"),
        (sp.Le(x, 3), "x <= 3"),
        (sp.Function("softmax")(x), 'op("softmax")(x)'),
        (sp.Function("theta")(x), "theta(x)"),
        (sp.cos(x), "cos(x)"),
        (sp.acos(x), "arccos(x)"),
        (sp.Abs(x), "lr(| x |)"),
        (sp.Sum(sp.exp(sp.Symbol("s_j")), (sp.Symbol("j"), 1, 3)), "sum_(j = 1)^(3) e^(s_(j))"),
        (Str('a"b\\c#'), '"a\\"b\\\\c#"'),
        (sp.Transpose(sp.MatrixSymbol("K", 2, 2)), "K^T"),
        (-sp.oo, "-infinity"),
    ],
)
def test_prints_typst(expr, expected):
    assert printing_typst.typst(expr) == expected


def _all_topic_expressions():
    """Every formula the topics' examples print: equation parts, approximations, inline fields."""
    found = {}
    for topic in registry.all_topics():
        for example in topic.examples:
            derivation = run(topic, prepare(topic, {}, example))
            for block in list(derivation.intro) + [b for s in derivation.steps for b in s.blocks]:
                values = []
                if isinstance(block, Prose):
                    values = list(block.fields.values())
                elif isinstance(block, Equation):
                    values = [*block.parts, block.approx]
                elif isinstance(block, Table):
                    values = [*block.header, *(c for row in block.rows for c in row)]
                for value in values:
                    if isinstance(value, (sp.Basic, sp.MatrixBase)):
                        found.setdefault(sp.srepr(value), value)
    return list(found.values())


@pytest.fixture(scope="module")
def topic_expressions():
    return _all_topic_expressions()


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _latex_shape(text: str):
    roots = len(re.findall(r"\\sqrt\[", text))
    text = re.sub(r"\\sqrt\[\d+\]", "\\\\sqrt", text)
    return {
        "frac": text.count("\\frac"),
        "sqrt": text.count("\\sqrt"),
        "root": roots,
        "mat": text.count("\\begin{bmatrix}"),
        "sum": text.count("\\sum"),
        "numbers": sorted(_NUMBER.findall(text)),
    }


def _typst_shape(text: str):
    roots = len(re.findall(r"root\(\d+, ", text))
    text = re.sub(r"root\(\d+, ", "", text)
    return {
        "frac": text.count("frac("),
        "sqrt": text.count("sqrt(") + roots,
        "root": roots,
        "mat": text.count("mat("),
        "sum": text.count("sum_"),
        "numbers": sorted(_NUMBER.findall(text)),
    }


def test_topic_formulas_have_the_latex_shape(topic_expressions):
    """Same fractions, roots, matrices, sums and numbers as the LaTeX printer gives."""
    assert len(topic_expressions) > 500
    for expr in topic_expressions:
        latex, typst = printing.latex(expr), printing_typst.typst(expr)
        assert _typst_shape(typst) == _latex_shape(latex), (latex, typst)


def test_topic_formulas_compile(topic_expressions):
    body = "\n".join(f"$ {printing_typst.typst(e)} $" for e in topic_expressions)
    pdf = compile_pdf("#set page(width: 40cm, height: auto)\n" + body)
    assert pdf.startswith(b"%PDF-")


def _pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(pdf)
    tool = require_program("pdftotext")
    return subprocess.run([tool, str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_hostile_text_prints_literally_in_markup_and_math(tmp_path):
    source = f"= {escape.typst(HOSTILE)}\n\n{escape.typst(HOSTILE)}\n\n$ {printing_typst.string(HOSTILE)} $\n"
    lines = [line.strip() for line in _pdf_text(compile_pdf(source), tmp_path).splitlines() if line.strip()]
    assert lines.count(HOSTILE) == 3, lines


def test_odd_names_cannot_reach_typst_syntax():
    names = [HOSTILE, 'a"b', "x\\", "#let", "$", "//c", "]", "q'_(0)", "1:1"]
    body = "\n".join(
        f"$ {printing_typst.typst(sp.Symbol(n))} $ $ {printing_typst.typst(sp.Function(n)(x))} $"
        for n in names
    )
    assert compile_pdf(body + "\n").startswith(b"%PDF-")


def test_same_source_gives_same_bytes_and_no_date():
    source = "#set document(title: [t])\n= Title\n$ x^2 $\n"
    first, second = compile_pdf(source), compile_pdf(source)
    assert first == second
    assert b"CreationDate" not in first and b"ModDate" not in first and b"CreateDate" not in first


def test_fonts_are_embedded(tmp_path):
    path = tmp_path / "fonts.pdf"
    path.write_bytes(compile_pdf("Text and $x^2 + sum_(i=1)^n i$ and `code`\n"))
    tool = require_program("pdffonts")
    rows = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[
        2:
    ]
    assert len(rows) >= 2
    for row in rows:
        assert re.search(r"\s(yes)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+\s*$", row), row


def test_a_failed_compile_is_one_line_and_the_next_compile_works():
    with pytest.raises(TypstCompileError) as failure:
        compile_pdf("#let broken = \n")
    assert "\n" not in str(failure.value) and str(failure.value).startswith("typst: ")
    assert compile_pdf("fine\n").startswith(b"%PDF-")


def test_packages_are_refused():
    with pytest.raises(TypstCompileError, match="packages"):
        compile_pdf('#import "@preview/cetz:0.2.0": canvas\n')


@pytest.mark.parametrize("name", ["../escape.png", "sub/dir.png", ".hidden", "main.typ"])
def test_only_plain_new_file_names(name):
    with pytest.raises(TypstCompileError):
        compile_pdf("x\n", {name: b"data"})


def test_files_outside_the_root_are_not_readable():
    with pytest.raises(TypstCompileError):
        compile_pdf('#read("/etc/hostname")\n')
    with pytest.raises(TypstCompileError):
        compile_pdf('#read("../../../../etc/hostname")\n')


def test_files_we_wrote_are_readable():
    pdf = compile_pdf('#read("note.txt")\n', {"note.txt": b"hello"})
    assert pdf.startswith(b"%PDF-")
