"""Figures: drawn only when written, byte-identical between runs, referenced from Markdown and LaTeX."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy as sp
from conftest import require, require_program

from derive import blocks
from derive.figures import FigureSink, default_folder, draw_png
from derive.model import Derivation, Step
from derive.render import render


def _derivation():
    heat = blocks.heatmap(
        "weights",
        "Attention weights",
        sp.Matrix([[sp.Rational(1, 2), sp.Rational(1, 2)], [0, 1]]),
        ["the", "bank"],
        ["the", "bank"],
        xlabel="key",
        ylabel="query",
    )
    wave = blocks.curves("waves", "Sine waves", [0, 1, 2], {"sin": [0, 0.84, 0.91]}, "position", "value")
    arrows = blocks.vectors("angle", "Two vectors", {"a": (1, 0), "b": (1, 1)})
    step = Step("w", "Weights", (blocks.prose("See the picture."), heat, wave, arrows), sp.Integer(1), True)
    return Derivation("demo", "Demo", {}, (), (step,), "w")


@pytest.mark.parametrize("index", range(3))
def test_each_figure_kind_is_deterministic_png(index):
    require("matplotlib")
    figure = _derivation().steps[0].blocks[1 + index]
    first, second = draw_png(figure), draw_png(figure)
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and len(first) > 5000
    assert first == second


def test_markdown_and_latex_reference_written_figures(tmp_path):
    require("matplotlib")
    sink = FigureSink(default_folder(tmp_path / "notes.md"), relative_to=tmp_path)
    markdown = render(_derivation(), "markdown", figures=sink)
    assert not (tmp_path / "notes-figures").exists(), "nothing is written before write()"
    sink.write()
    assert "![Attention weights](notes-figures/weights.png)" in markdown
    assert sorted(p.name for p in (tmp_path / "notes-figures").iterdir()) == [
        "angle.png",
        "waves.png",
        "weights.png",
    ]
    latex = render(
        _derivation(), "latex", figures=FigureSink(tmp_path / "notes-figures", tmp_path, force=True)
    )
    assert "\\includegraphics[width=0.7\\linewidth]{notes-figures/weights.png}" in latex
    pdflatex = require_program("pdflatex")
    (tmp_path / "notes.tex").write_text(latex)
    result = subprocess.run(
        [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "notes.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-1500:]


def test_existing_figures_are_not_overwritten_without_force(tmp_path):
    require("matplotlib")
    first = FigureSink(tmp_path / "f", tmp_path)
    first.save(_derivation().steps[0].blocks[1])
    first.write()
    from derive.errors import InputError

    with pytest.raises(InputError, match="--figures"):
        FigureSink(tmp_path / "f", tmp_path).save(_derivation().steps[0].blocks[1])


def test_without_a_folder_figures_are_left_out_and_the_terminal_shows_a_text_heatmap():
    assert "![" not in render(_derivation(), "markdown")
    assert "includegraphics" not in render(_derivation(), "latex")
    text = render(_derivation(), "terminal", width=100, color=False)
    assert "Attention weights" in text and "█" in text and "0.50" in text


def test_hostile_figure_folder_is_refused(tmp_path):
    require("matplotlib")
    from derive.errors import InputError

    with pytest.raises(InputError, match="--figures"):
        FigureSink(tmp_path / "a}b\\input{x}", tmp_path).save(_derivation().steps[0].blocks[1])


def test_commands_that_draw_nothing_do_not_import_matplotlib():
    code = (
        "import sys; from derive.cli import run; run(['softmax', '--x', '1 2', '-f', 'markdown']); "
        "print('matplotlib' in sys.modules, 'jinja2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "False True"


def test_cli_writes_figures_beside_the_output_file(cli, tmp_path):
    require("matplotlib")
    target = tmp_path / "pe.md"
    code, _, err = cli("positional-encoding", "--example", "small", "-f", "markdown", "-o", str(target))
    assert code == 0, err
    assert "](pe-figures/positional-encoding.png)" in target.read_text()
    assert (tmp_path / "pe-figures" / "positional-encoding.png").exists()
    code, _, err = cli(
        "positional-encoding", "--example", "small", "-f", "terminal", "--figures", str(tmp_path)
    )
    assert code == 2 and "--figures" in err
