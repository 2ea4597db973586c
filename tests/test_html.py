"""HTML: self-contained, no scripts, no network, MathML a screen reader can read, text escaped."""

from __future__ import annotations

import re
import xml.dom.minidom
from html.parser import HTMLParser

import pytest
import sympy as sp

from derive import registry, render
from derive.api import derive
from derive.model import Derivation, Equation, Prose, Step, Table, Text
from derive.numbers import Decimal

HOSTILE = "O'Brien & <b>Ünal</b> $x_1$ 100% {#} \\ * _ @ < ] #set"
URL_ATTRIBUTES = {"src", "href", "action", "srcset", "data", "poster", "formaction", "xlink:href"}


class _Page(HTMLParser):
    """Collects tags, attributes, headings and visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self._heading: str | None = None
        self._style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self._heading, self._heading_text = tag, []
        self._style = tag == "style"

    def handle_endtag(self, tag):
        if tag == self._heading:
            self.headings.append((tag, "".join(self._heading_text)))
            self._heading = None
        if tag == "style":
            self._style = False

    def handle_data(self, data):
        if self._style:
            return
        self.text.append(data)
        if self._heading:
            self._heading_text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def _assert_self_contained(page: str) -> _Page:
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "iframe" not in tags and "link" not in tags and "object" not in tags
    for tag, attributes in parsed.tags:
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
        for name in URL_ATTRIBUTES & set(attributes):
            assert attributes[name].startswith("data:image/png;base64,"), (tag, name, attributes[name][:60])
    assert not re.search(r"url\(|@import|https?://(?!www\.w3\.org/1998/Math/MathML)", page)
    return parsed


def _maths(page: str) -> list[str]:
    return re.findall(r"<math\b.*?</math>", page, flags=re.S)


@pytest.mark.parametrize("topic", registry.names())
def test_every_example_is_self_contained_and_accessible(topic):
    for example in registry.get(topic).examples:
        derivation = derive(topic, example=example)
        page = render.render(derivation, "html")
        parsed = _assert_self_contained(page)
        assert parsed.tags[0] == ("html", {"lang": "en"})
        levels = [level for level, _ in parsed.headings]
        assert levels.count("h1") == 1 and levels[0] == "h1"
        assert levels.count("h2") == len(derivation.steps)
        for tag, attributes in parsed.tags:
            if tag == "img":
                assert attributes.get("alt"), attributes.keys()
            if tag == "math":
                assert attributes.get("display") in ("block", "inline") and attributes.get("alttext"), (
                    attributes
                )
        for math in _maths(page):
            xml.dom.minidom.parseString(math)  # well-formed MathML, entities resolved


def test_figures_are_inlined_and_runs_are_identical():
    page = render.render(derive("encoder-layer", example="post"), "html")
    assert page == render.render(derive("encoder-layer", example="post"), "html")
    images = [a for tag, a in _parse(page).tags if tag == "img"]
    assert images and all(a["src"].startswith("data:image/png;base64,iVBOR") for a in images)


def _hostile_derivation() -> Derivation:
    blocks = (
        Prose("Token {name} here.", {"name": Text(HOSTILE)}),
        Table((Text(HOSTILE), "value"), ((Text("a&b"), sp.Integer(1)),)),
        Equation((sp.Symbol("x"), sp.Integer(2))),
    )
    return Derivation("demo", HOSTILE, {}, (), (Step("only", HOSTILE, blocks, sp.Integer(1), True),), "only")


def test_user_text_is_escaped_and_shown_literally():
    page = render.render(_hostile_derivation(), "html")
    parsed = _assert_self_contained(page)
    assert "b" not in [tag for tag, _ in parsed.tags]
    text = "".join(parsed.text)
    assert f"Token {HOSTILE} here." in text
    assert text.count(HOSTILE) >= 4  # title, heading, prose, table header
    assert ("h1", HOSTILE) in parsed.headings


def test_math_text_cannot_inject_markup():
    from sympy.core.symbol import Str

    from derive import printing_mathml

    math = printing_mathml.math(sp.Eq(sp.Symbol("<b>x</b>"), Str(HOSTILE), evaluate=False), display=True)
    dom = xml.dom.minidom.parseString(math)
    assert not dom.getElementsByTagName("b")
    texts = [n.firstChild.data for n in dom.getElementsByTagName("mtext")]
    assert texts == [" ".join(HOSTILE.split())]
    assert dom.documentElement.getAttribute("alttext")


@pytest.mark.parametrize(
    ("expr", "tags", "numbers"),
    [
        (sp.Rational(1, 2), ["mfrac"], ["1", "2"]),
        (sp.sqrt(sp.Symbol("d_k")), ["msqrt", "msub"], []),
        (sp.Matrix([[1, 2], [3, 4]]), ["mtable"], ["1", "2", "3", "4"]),
        (Decimal("0.0100"), [], ["0.0100"]),
        (Decimal("1.25e-7"), ["msup"], ["1.25", "10", "−7"]),
    ],
)
def test_mathml_forms(expr, tags, numbers):
    from derive import printing_mathml

    dom = xml.dom.minidom.parseString(printing_mathml.math(expr))
    for tag in tags:
        assert dom.getElementsByTagName(tag), tag
    assert [n.firstChild.data for n in dom.getElementsByTagName("mn")] == numbers


def test_unevaluated_products_stay_as_written():
    from derive import printing_mathml

    with sp.evaluate(False):
        expr = sp.Add(sp.Mul(1, -3), sp.Mul(-2, 6))
    dom = xml.dom.minidom.parseString(printing_mathml.math(expr))
    assert [n.firstChild.data for n in dom.getElementsByTagName("mn")] == ["1", "−3", "−2", "6"]
    assert [n.firstChild.data for n in dom.getElementsByTagName("mo")].count("⋅") == 2
