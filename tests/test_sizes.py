"""The size policy holds at every size a topic allows: terminal lines fit the terminal, LaTeX
fits the page (pdflatex reports no box more than 10 pt too wide), and --exact picks the forms."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from functools import cache

import numpy as np
import pytest
from conftest import require_program

from derive import limits, registry
from derive.api import parse_options, prepare
from derive.model import run
from derive.render import render

TOPICS = registry.all_topics()
EXAMPLES = [(t.name, e) for t in TOPICS for e in t.examples]
LAYER_TOKENS = LAYER_DIM = 8  # the encoder and decoder layers' own limits (a d_model × d_model W)
LAYER_FF = 16
FORWARD_WORDS = 50  # WordPiece cuts these into 128 tokens with [CLS] and [SEP]: forward's limit


def _matrix(rng, rows: int, cols: int) -> str:
    return "; ".join(" ".join(str(int(v)) for v in rng.integers(-2, 3, cols)) for _ in range(rows))


def _attention(tokens: int, dims: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "x": _matrix(rng, tokens, dims),
        **{name: _matrix(rng, dims, dims) for name in ("wq", "wk", "wv")},
    }


def _multi_head(tokens: int, dims: int, heads: int) -> dict:
    rng = np.random.default_rng(1)
    options = {"x": _matrix(rng, tokens, dims), "heads": str(heads)}
    options.update({name: _matrix(rng, dims, dims) for name in ("wq", "wk", "wv", "wo")})
    return options


def _encoder_layer() -> dict:
    rng = np.random.default_rng(2)
    options = {"x": _matrix(rng, LAYER_TOKENS, LAYER_DIM), "heads": "2", "eps": "0"}
    options.update({name: _matrix(rng, LAYER_DIM, LAYER_DIM) for name in ("wq", "wk", "wv", "wo")})
    options.update({"w1": _matrix(rng, LAYER_DIM, LAYER_FF), "w2": _matrix(rng, LAYER_FF, LAYER_DIM)})
    return options


def _forward() -> dict:
    words = "the river bank was steep and the bank by the river was closed".split()
    text = " ".join(words[i % len(words)] for i in range(FORWARD_WORDS))
    return {"text": text, "layers": "12", "d_model": "256", "heads": "64", "d_ff": "1024"}


LARGEST = {
    "attention 4x8": ("attention", _attention(4, 8)),
    "attention largest": ("attention", _attention(limits.MAX_TOKENS, limits.MAX_DIM)),
    "multi-head 4x8": ("multi-head", _multi_head(4, 8, 2)),
    "multi-head largest": ("multi-head", _multi_head(limits.MAX_TOKENS, limits.MAX_DIM, 4)),
    "encoder-layer largest": ("encoder-layer", _encoder_layer()),
    "forward largest": ("forward", _forward()),
}


@cache
def _largest(name: str):
    topic_name, options = LARGEST[name]
    topic = registry.get(topic_name)
    return run(topic, topic.prepare(parse_options(topic, options)))


@cache
def _example(topic_name: str, example: str):
    topic = registry.get(topic_name)
    return run(topic, prepare(topic, {}, example))


def _columns(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def _too_long(text: str, width: int) -> list[str]:
    return [line for line in text.split("\n") if _columns(line) > width]


def _overfull(tex: str, tmp_path, displays_only: bool = False) -> list[float]:
    """Points by which pdflatex's boxes stick out of the page (only displayed mathematics and
    tables with ``displays_only``: paragraphs are reported "in paragraph")."""
    pdflatex = require_program("pdflatex")
    (tmp_path / "doc.tex").write_text(tex, encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    log = (tmp_path / "doc.log").read_text(encoding="latin-1")
    where = r" detected at line" if displays_only else ""
    return [float(v) for v in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)" + where, log)]


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_examples_fit_the_terminal(topic_name, example, width):
    text = render(_example(topic_name, example), "terminal", width=width, color=False)
    assert not _too_long(text, width), _too_long(text, width)[:3]


@pytest.mark.parametrize("name", LARGEST)
def test_largest_sizes_fit_80_columns(name):
    text = render(_largest(name), "terminal", width=80, color=False)
    assert not _too_long(text, 80), _too_long(text, 80)[:3]


@pytest.mark.parametrize("name", LARGEST)
def test_largest_sizes_fit_the_latex_page(name, tmp_path):
    widths = _overfull(render(_largest(name), "latex"), tmp_path)
    assert not [w for w in widths if w > 10], widths


# Prose, not mathematics: a sentence ends in the unbreakable numpy.random.default_rng(0).random().
LONG_PROSE = {("next-token", "top-k"), ("next-token", "top-p")}


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_examples_fit_the_latex_page(topic_name, example, tmp_path):
    widths = _overfull(render(_example(topic_name, example), "latex"), tmp_path)
    if (topic_name, example) in LONG_PROSE:
        widths = _overfull(render(_example(topic_name, example), "latex"), tmp_path, displays_only=True)
    assert not [w for w in widths if w > 10], widths


def test_without_the_policy_attention_4x8_would_not_fit(tmp_path):
    """The cases above are hard ones: keeping every exact form overflows the page."""
    widths = _overfull(render(_largest("attention 4x8"), "latex", exact="always"), tmp_path)
    assert [w for w in widths if w > 10], widths


def test_the_step_says_when_decimals_replace_an_exact_form():
    text = render(_largest("attention 4x8"), "terminal", width=80, color=False)
    assert "too long for the page; it is given to 4 decimals" in text
    shown = render(_largest("attention 4x8"), "terminal", width=80, color=False, precision=2)
    assert "given to 2 decimals" in shown


def test_long_softmax_rows_name_their_sum_once():
    text = render(_largest("attention 4x8"), "markdown")
    for row in range(1, 5):
        assert text.count(f"Z_{{{row}}} =") == 1, row
        assert f"{{Z_{{{row}}}}}" in text


def test_exact_never_shows_decimals_where_exact_forms_fit():
    derivation = _example("softmax", "basic")
    never = render(derivation, "terminal", width=100, color=False, exact="never")
    auto = render(derivation, "terminal", width=100, color=False)
    assert "ℯ + ℯ" in auto.replace("  ", " ") or "──" in auto
    assert "softmax(z) ≈ [0.0900  0.2447  0.6652]" in never
    assert "softmax(z) ≈" not in auto.split("Step 5")[0].replace("\n    ≈", "")


def test_exact_always_keeps_every_exact_form():
    derivation = _largest("attention 4x8")
    always = render(derivation, "latex", exact="always")
    auto = render(derivation, "latex")
    assert "too long for the page" not in always
    assert len(always) > len(auto)
