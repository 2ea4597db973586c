"""The renderer seam: the format registry, visitor dispatch through the MRO, declared settings."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
import sympy as sp

import derive
from derive import registry, render
from derive.errors import InputError
from derive.model import Derivation, Equation, Prose, Step
from derive.render.base import Renderer

TEXT_FORMATS = [name for name in render.names() if not render.get(name).binary]


def _derivation(*blocks) -> Derivation:
    step = Step("only", "The only step", tuple(blocks), sp.Integer(1), True)
    return Derivation("demo", "Demo", {}, (), (step,), "only")


def test_registry_lists_the_formats_once_with_their_extensions():
    names = render.names()
    assert names[0] == "terminal"
    assert {"terminal", "markdown", "latex", "json"} <= set(names)
    extensions = [ext for name in names for ext in render.get(name).extensions]
    assert len(extensions) == len(set(extensions)), "an extension may select only one format"
    for name in names:
        renderer = render.get(name)
        assert issubclass(renderer, Renderer) and renderer.name == name
        assert all(ext.startswith(".") and ext == ext.lower() for ext in renderer.extensions)


@pytest.mark.parametrize(
    "path,fmt",
    [("a.txt", "terminal"), ("a.md", "markdown"), ("dir/A.TEX", "latex"), ("x.y.json", "json")],
)
def test_an_extension_names_its_format(path, fmt):
    assert render.for_path(path) == fmt


@pytest.mark.parametrize("path", ["notes", "notes.docx", "notes.md.bak"])
def test_an_unknown_extension_is_an_input_error(path):
    with pytest.raises(InputError) as error:
        render.for_path(path)
    assert error.value.option == "--output" and ".md" in error.value.message


def test_unknown_format_is_an_input_error():
    with pytest.raises(InputError, match="unknown format 'docx'"):
        render.render(_derivation(), "docx")


@dataclass(frozen=True)
class _Note(Prose):
    """A subclass of a known block: dispatch must find visit_Prose through the MRO."""


@dataclass(frozen=True)
class _Unknown:
    text: str = "?"


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_block_subclass_is_visited_as_its_base(fmt):
    plain = render.render(_derivation(Prose("Hello {x}.", {"x": sp.Symbol("x")})), fmt)
    sub = render.render(_derivation(_Note("Hello {x}.", {"x": sp.Symbol("x")})), fmt)
    assert sub == plain and "Hello" in plain


@pytest.mark.parametrize("fmt", render.names())
def test_an_unknown_block_fails_loudly(fmt):
    with pytest.raises(TypeError, match="cannot render a _Unknown block"):
        render.render(_derivation(_Unknown()), fmt)


def test_prepare_is_called_once_for_every_block_before_visiting():
    seen = []

    class Recording(render.get("markdown")):
        def prepare(self, block):
            seen.append(block)
            return (Prose("replaced"),)

    blocks = (Prose("a"), Equation((sp.Symbol("y"), sp.Integer(2))))
    text = Recording().render(_derivation(*blocks))
    assert seen == list(blocks)
    assert text.count("replaced") == 2 and "y = 2" not in text


@pytest.mark.parametrize("fmt", render.names())
def test_settings_are_declared_and_checked(fmt):
    renderer = render.get(fmt)
    assert {"precision", "width", "exact"} <= set(renderer.declared_settings())
    with pytest.raises(TypeError, match="no setting 'colour'"):
        renderer(colour=True)
    for bad in ({"precision": 13}, {"precision": -1}, {"precision": 2.5}, {"precision": True}):
        with pytest.raises(InputError, match="precision"):
            renderer(**bad)
    with pytest.raises(InputError, match="exact"):
        renderer(exact="sometimes")
    with pytest.raises(InputError, match="width"):
        renderer(width=5)


def test_precision_reaches_every_rounded_number():
    derivation = _derivation(Equation((sp.Symbol("y"), sp.Rational(1, 3)), approx=sp.Rational(1, 3)))
    for fmt in ("terminal", "markdown", "latex"):
        assert "0.33333" in render.render(derivation, fmt, precision=5)
        assert "0.333333" not in render.render(derivation, fmt, precision=5)
        assert "0.33" in render.render(derivation, fmt, precision=2)


def _refuse(token):
    raise ValueError(f"not strict RFC 8259 JSON: {token}")


EXAMPLES = [(t, e) for t in registry.names() for e in registry.get(t).examples]


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_every_example_is_strict_json(topic_name, example):
    text = render.render(derive.derive(topic_name, example=example), "json")
    data = json.loads(text, parse_constant=_refuse)
    for answer in data["answers"].values():
        values = np.array(answer["value"], dtype=object).ravel().tolist()
        if any(v is None for v in values) and answer["exact"] is not None:
            assert answer["value_note"].startswith("null where"), answer


def test_a_value_beyond_float64_is_null_with_its_exact_form_and_a_note():
    text = render.render(derive.derive("softmax", example="overflow"), "json")
    assert "Infinity" not in text and "NaN" not in text
    exp = json.loads(text, parse_constant=_refuse)["answers"]["exp"]
    assert exp["value"] == [None, None, None]
    assert exp["exact"] == ["exp(1000)", "exp(1001)", "exp(1002)"]
    assert "float64" in exp["value_note"]


@pytest.mark.parametrize(
    "value,expected,note",
    [
        (sp.exp(1000), None, "float64"),
        (-(sp.Integer(10) ** 400), None, "float64"),
        (sp.Integer(10) ** 300, 10**300, None),
        (sp.Symbol("d_k"), None, "symbolic"),
        (sp.Matrix([[1, sp.exp(800)]]), [[1, None]], "float64"),
        (sp.Rational(1, 3), 1 / 3, None),
    ],
)
def test_answer_entries_are_floats_or_null_with_a_reason(value, expected, note):
    from derive.render.json import answer

    entry = answer(value)
    assert entry["value"] == expected
    assert entry.get("value_note") is None if note is None else note in entry["value_note"]
    json.dumps(entry, allow_nan=False)


def test_numpy_values_with_nan_or_inf_become_null():
    from derive.render.json import answer

    entry = answer(np.array([1.5, np.inf, np.nan]))
    assert entry["value"] == [1.5, None, None]
    assert "float64" in entry["value_note"] and "NaN" in entry["value_note"]
