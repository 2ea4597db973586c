"""PDF through Typst (and through LaTeX with --engine latex): every topic, determinism, no overflow."""

from __future__ import annotations

import re
import subprocess

import pytest
import sympy as sp

from derive import registry, render
from derive.api import derive
from derive.model import Derivation, Equation, Prose, Step, Table, Text
from tests.conftest import require_program

HOSTILE = "O'Brien & <b>Ünal</b> $x_1$ 100% {#} \\ * _ @ < ] #set"
MARGIN_PT = 2 / 2.54 * 72  # the template's 2 cm margins
SLACK_PT = 1.0


def _pdf_words(pdf: bytes, tmp_path):
    """Page sizes and word boxes from pdftotext -bbox, to find anything past the margins."""
    path = tmp_path / "words.pdf"
    path.write_bytes(pdf)
    tool = require_program("pdftotext")
    html = subprocess.run([tool, "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    pages = []
    for page in re.findall(r"<page (.*?)</page>", html, flags=re.S):
        width = float(re.search(r'width="([\d.]+)"', page).group(1))
        boxes = [
            (float(a), float(b), word)
            for a, b, word in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>(.*?)</word>', page
            )
        ]
        pages.append((width, boxes))
    return pages


def _text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "text.pdf"
    path.write_bytes(pdf)
    tool = require_program("pdftotext")
    return subprocess.run([tool, str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize("topic", registry.names())
def test_every_example_compiles_and_stays_inside_the_margins(topic, tmp_path):
    chosen = registry.get(topic)
    assert chosen.examples, f"{topic} has no example to print"
    for example in chosen.examples:
        pdf = render.render(derive(topic, example=example), "pdf")
        assert pdf.startswith(b"%PDF-")
        pages = _pdf_words(pdf, tmp_path)
        assert pages and any(boxes for _, boxes in pages)
        for width, boxes in pages:
            for left, right, word in boxes:
                assert left >= MARGIN_PT - SLACK_PT and right <= width - MARGIN_PT + SLACK_PT, (
                    f"{topic} --example {example}: {word!r} runs past the margin ({left:.1f}-{right:.1f} of {width})"
                )


def test_two_runs_give_identical_bytes():
    derivation = derive("encoder-layer", example="post")  # has a heatmap figure
    first = render.render(derivation, "pdf")
    second = render.render(derive("encoder-layer", example="post"), "pdf")
    assert first == second
    assert b"CreationDate" not in first and b"ModDate" not in first


def test_figures_are_embedded_as_images(tmp_path):
    path = tmp_path / "figure.pdf"
    path.write_bytes(render.render(derive("encoder-layer", example="post"), "pdf"))
    tool = require_program("pdfimages")
    listing = subprocess.run([tool, "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(listing.strip().splitlines()) > 2, listing


def test_fonts_are_embedded(tmp_path):
    path = tmp_path / "fonts.pdf"
    path.write_bytes(render.render(derive("softmax", example="basic"), "pdf"))
    tool = require_program("pdffonts")
    rows = subprocess.run([tool, str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[
        2:
    ]
    assert rows
    assert all(row.split()[-5] == "yes" for row in rows), rows


def _hostile_derivation() -> Derivation:
    blocks = (
        Prose("Token {name} here.", {"name": Text(HOSTILE)}),
        Table((Text(HOSTILE), "value"), ((Text("a&b"), sp.Integer(1)),)),
        Equation((sp.Symbol("x"), sp.Integer(2))),
    )
    return Derivation("demo", "Demo", {}, (), (Step("only", "A step", blocks, sp.Integer(1), True),), "only")


def test_user_text_prints_literally(tmp_path):
    text = _text(render.render(_hostile_derivation(), "pdf"), tmp_path)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    assert f"Token {HOSTILE} here." in lines
    assert sum(HOSTILE in line for line in lines) == 2, lines


def test_typst_source_escapes_user_text():
    source = render.render(_hostile_derivation(), "typst")
    assert "#set document" in source and source.count("#set") >= 1
    assert "\\#set" in source and "\\$x\\_1\\$" in source and "<b>" not in source


def test_cli_writes_pdf(cli, tmp_path):
    target = tmp_path / "s.pdf"
    code, out, err = cli("softmax", "--example", "basic", "-f", "pdf", "-o", str(target))
    assert (code, err) == (0, "")
    assert target.read_bytes().startswith(b"%PDF-")
    code, out, err = cli("softmax", "--example", "basic", "-o", str(target))
    assert code == 2 and "exists" in err and len(err.strip().splitlines()) == 1


def test_cli_typst_output_compiles(cli, tmp_path):
    from derive.typst_compile import compile_pdf

    code, source, err = cli("attention", "--example", "river", "-f", "typst")
    assert (code, err) == (0, "")
    assert compile_pdf(source).startswith(b"%PDF-")
    target = tmp_path / "s.typ"
    code, _, err = cli("attention", "--example", "river", "-o", str(target))
    assert (code, err) == (0, "")
    images = re.findall(r'image\("([^"]+)"', target.read_text(encoding="utf-8"))
    assert images and all((tmp_path / name).read_bytes().startswith(b"\x89PNG") for name in images)


def test_engine_latex_compiles(cli, tmp_path):
    require_program("pdflatex")
    target = tmp_path / "s.pdf"
    code, _, err = cli("softmax", "--example", "basic", "-f", "pdf", "--engine", "latex", "-o", str(target))
    assert (code, err) == (0, "")
    data = target.read_bytes()
    assert data.startswith(b"%PDF-")
    assert "Normalise" in _text(data, tmp_path)
    again = tmp_path / "again.pdf"
    assert cli("softmax", "--example", "basic", "--engine", "latex", "-o", str(again))[0] == 0
    assert again.read_bytes() == data


def test_engine_latex_without_tex_is_a_one_line_error(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("derive.render.pdf.shutil.which", lambda name: None)
    target = tmp_path / "s.pdf"
    code, out, err = cli("softmax", "--example", "basic", "-f", "pdf", "--engine", "latex", "-o", str(target))
    assert code == 2 and err.startswith("Error: --engine") and len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_engine_goes_with_pdf_only(cli):
    code, _, err = cli("softmax", "--example", "basic", "-f", "markdown", "--engine", "latex")
    assert code == 2 and "--engine" in err
