"""Every registered topic, generically: NumPy agreement, JSON contract, goldens, LaTeX, determinism."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import sympy as sp
from conftest import assert_golden, require_program

from derive import registry
from derive.api import parse_options, prepare
from derive.model import run
from derive.render import render

TOPICS = registry.all_topics()
EXAMPLES = [(t.name, e) for t in TOPICS for e in t.examples]
GOLDEN_FORMATS = {"terminal": "txt", "markdown": "md", "latex": "tex", "json": "json"}


def _numeric(value):
    if isinstance(value, sp.MatrixBase):
        return np.array(value.evalf(20).tolist(), dtype=float)
    if isinstance(value, (list, tuple)):
        return np.array(value)
    return float(sp.N(value, 20))


def _derive(topic_name, example):
    topic = registry.get(topic_name)
    return run(topic, prepare(topic, {}, example))


@pytest.mark.parametrize("topic", [t for t in TOPICS if t.reference], ids=lambda t: t.name)
@pytest.mark.parametrize("seed", range(5))
def test_exact_values_equal_numpy_reference(topic, seed):
    raw = topic.sample(np.random.default_rng(seed))
    options = parse_options(topic, raw)
    answers = run(topic, topic.prepare(options)).answers
    reference = topic.reference(options)
    assert reference, "the reference must cover at least one answer"
    for name, expected in reference.items():
        got = _numeric(answers[name])
        np.testing.assert_allclose(
            np.reshape(got, np.shape(expected)),
            expected,
            rtol=1e-9,
            atol=1e-12,
            err_msg=f"{topic.name}.{name} with {raw}",
        )


@pytest.mark.parametrize("topic", TOPICS, ids=lambda t: t.name)
def test_topic_declares_a_result_and_examples(topic):
    assert topic.result in topic.answer_ids
    assert topic.examples, "every topic needs a built-in example for 'derive topics'"
    assert set(topic.example_notes) == set(topic.examples)


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_json_contract(topic_name, example, cli):
    code, out, err = cli(topic_name, "--example", example, "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["topic"] == topic_name
    assert set(data) >= {"topic", "title", "params", "result", "answers", "steps"}
    assert data["result"] in data["answers"]
    topic = registry.get(topic_name)
    always = {s.name for s in topic.stages if s.answer and not s.optional}  # optional: only when asked
    assert always <= set(data["answers"]) <= set(topic.answer_ids)
    for answer in data["answers"].values():
        assert np.shape(answer["value"]) == np.shape(answer["exact"])
    for step in data["steps"]:
        assert {"name", "title", "text"} <= set(step) and step["text"]


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
@pytest.mark.parametrize("fmt", GOLDEN_FORMATS)
def test_golden(topic_name, example, fmt):
    derivation = _derive(topic_name, example)
    settings = {"width": 100, "color": False} if fmt == "terminal" else {}
    text = render(derivation, fmt, **settings)
    assert text == render(_derive(topic_name, example), fmt, **settings), "output is not deterministic"
    assert_golden(f"{topic_name}/{example}.{GOLDEN_FORMATS[fmt]}", text)


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_latex_golden_compiles(topic_name, example, tmp_path):
    pdflatex = require_program("pdflatex")
    source = tmp_path / "doc.tex"
    source.write_text(render(_derive(topic_name, example), "latex"), encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", source.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_fragment_is_the_document_body(topic_name, example):
    derivation = _derive(topic_name, example)
    fragment = render(derivation, "latex", fragment=True)
    assert "\\documentclass" not in fragment
    assert fragment.strip() in render(derivation, "latex")


@pytest.mark.parametrize("topic_name,example", EXAMPLES)
def test_examples_check_as_correct_against_themselves(topic_name, example):
    """Feeding the exact answers back to the checker must grade every one correct."""
    from derive import check

    def written(entry):
        return str(entry) if isinstance(entry, (str, int)) else str(sp.N(entry, 20))

    topic = registry.get(topic_name)
    given = []
    for name, value in _derive(topic_name, example).answers.items():
        if isinstance(value, sp.MatrixBase):
            text = "; ".join(" ".join(written(e) for e in value.row(r)) for r in range(value.rows))
        elif isinstance(value, (list, tuple)):
            text = " ".join(written(e) for e in value)
        else:
            text = written(value)
        given.append(f"{name}={text}")
    report = check.check(topic, {}, given, example=example)
    assert report.all_correct, [(i.id, i.verdict) for i in report.items if i.verdict != "correct"]
