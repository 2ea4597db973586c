"""Only renderers round: every decimal a topic prints follows --precision (issue 8).

Each topic is rendered at --precision 1 and 4; a number with exactly two decimals that appears in
both outputs was rounded by the topic itself, not by the renderer.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest

from derive import registry
from derive.api import derive
from derive.render import render

TWO_DECIMALS = re.compile(r"(?<![\d.])-?\d+\.\d{2}(?![\d])")

# Exact values that happen to have two decimals, not rounded ones: BERT's rate and 0.15 · 7, and the
# clustering tolerance the particles topic states.
EXACT = {"masked-lm": {"0.15", "1.05"}, "particles": {"0.01"}}
# cost reports engineering figures (3 significant digits, 1-decimal units and shares), its own rule.
OWN_RULE = {"cost"}
EXTRA = [("layer-norm", "epsilon"), ("feed-forward", "gelu"), ("attention", "causal"), ("kv-cache", "decode")]


def _cases():
    cases = [(t.name, next(iter(t.examples))) for t in registry.all_topics() if t.examples]
    return [c for c in cases + EXTRA if c[0] not in OWN_RULE]


def _two_decimal_numbers(d, precision: int) -> Counter:
    return Counter(TWO_DECIMALS.findall(render(d, "terminal", precision=precision, color=False, width=100)))


@pytest.mark.parametrize("topic, example", _cases())
def test_every_printed_decimal_follows_precision(topic, example):
    d = derive(topic, example=example)
    fixed = _two_decimal_numbers(d, 1) & _two_decimal_numbers(d, 4)
    leaked = {n: k for n, k in fixed.items() if n not in EXACT.get(topic, set())}
    assert not leaked, f"{topic} --example {example} prints these at any precision: {leaked}"


def test_percentages_carry_two_fewer_decimals_than_the_precision():
    d = derive("attention", example="river")
    share = 100 * math.exp(2) / (1 + math.e + math.exp(2))  # bank → river, by hand
    for precision in (2, 4, 6):
        text = render(d, "terminal", precision=precision, color=False, width=100)
        assert f"“river” ({share:.{max(precision - 2, 0)}f}%)" in text


def test_the_terminal_heatmap_shows_at_most_two_decimals():
    d = derive("attention", example="river")
    low = render(d, "terminal", precision=1, color=False, width=100)
    assert "(shading from 0.1 ' ' to 0.7 '█')" in low  # 0.0900 and 0.6652
    high = render(d, "terminal", precision=6, color=False, width=100)
    assert "(shading from 0.09 ' ' to 0.67 '█')" in high
