"""Every format shows the same forms: for every topic's examples, each equation and each inline
formula, printed for the terminal, Markdown and LaTeX, shows the same numbers.

The size policy runs first, once, for the page; the prepared blocks are then printed in each
format with ``exact="always"`` so that only the printers differ. A printer that moves a factor
across the fraction bar (SymPy's fraction() put e^{-2} under the line in LaTeX) or drops a term
changes the numbers a reader sees, and fails here.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest
import sympy as sp
from formshape import numbers

from derive import registry
from derive.api import prepare
from derive.model import Derivation, Equation, Prose, run
from derive.render import policy, render

EXAMPLES = [(t.name, e) for t in registry.all_topics() for e in t.examples]
WIDE = 10_000  # terminal columns: nothing is sliced, so the picture is the whole form


@cache
def _blocks(topic_name: str, example: str) -> tuple:
    topic = registry.get(topic_name)
    derivation = run(topic, prepare(topic, {}, example))
    blocks = [*derivation.intro, *(b for step in derivation.steps for b in step.blocks)]
    return policy.prepare_all(blocks, policy.Page.document())


def _math_blocks(topic_name: str, example: str):
    """Each display equation, and each inline formula of a paragraph on its own."""
    for block in _blocks(topic_name, example):
        if isinstance(block, Equation):
            yield block
        elif isinstance(block, Prose):
            for value in block.fields.values():
                if isinstance(value, (sp.Basic, sp.MatrixBase)):
                    yield Prose("{m}", {"m": value})


def _body(block, fmt: str) -> str:
    settings = {"terminal": {"width": WIDE, "color": False}}.get(fmt, {})
    text = render(Derivation("t", "T", {}, (block,), (), ""), fmt, exact="always", **settings)
    if fmt == "latex":
        text = render(Derivation("t", "T", {}, (block,), (), ""), fmt, exact="always", fragment=True)
        return _latex_numbers_text(text)
    if fmt == "markdown":
        return _latex_numbers_text(text.split("\n", 1)[1])
    return text.split("\n", 3)[3]


def _latex_numbers_text(text: str) -> str:
    """LaTeX with the spellings that carry digits but no number removed: 10^{k} of scientific
    notation (the terminal writes e+k) and the names of environments and commands."""
    text = re.sub(r"\\times 10\^\{(-?\d+)\}", r" \1", text)
    return re.sub(r"\\[A-Za-z]+", " ", text)


def _shown(block) -> dict[str, Counter]:
    return {fmt: numbers(_body(block, fmt)) for fmt in ("terminal", "markdown", "latex")}


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_terminal_markdown_and_latex_show_the_same_numbers(topic_name, example):
    for block in _math_blocks(topic_name, example):
        shown = _shown(block)
        assert shown["terminal"] == shown["latex"] == shown["markdown"], (
            f"{block}: only in terminal {shown['terminal'] - shown['latex']}, "
            f"only in LaTeX {shown['latex'] - shown['terminal']}"
        )


def test_the_examples_have_mathematics_to_compare():
    """Only the tokenizer topics are all text; the rest give hundreds of formulas to compare."""
    counted = {name: sum(1 for _ in _math_blocks(name, example)) for name, example in EXAMPLES}
    assert sum(counted.values()) > 500
    assert {name for name, count in counted.items() if count == 0} <= {
        "tokenize",
        "bpe-train",
        "wordpiece-train",
    }


def test_the_comparison_catches_a_numerator_moved_below_the_line():
    """The softmax bug: LaTeX once printed 1/(e^{2}(e^{-2}+e^{-1}+e^{0})) for e^{-2}/(...)."""
    with sp.evaluate(False):
        moved = sp.Mul(1, sp.Pow(sp.Mul(sp.exp(2), sp.Add(*(sp.exp(k) for k in (-2, -1, 0)))), -1))
    written = Equation(
        (
            sp.Symbol("p"),
            sp.Mul(sp.exp(-2), sp.Pow(sp.Add(*(sp.exp(k) for k in (-2, -1, 0))), -1), evaluate=False),
        )
    )
    assert numbers(_body(written, "terminal")) == numbers(_body(written, "latex"))
    assert numbers(_body(Equation((sp.Symbol("p"), moved)), "latex")) != numbers(_body(written, "terminal"))
