"""Manifest and blank answer files: the formats the grading issue reads, checked against NumPy."""

from __future__ import annotations

import json
import tomllib
from fractions import Fraction

import numpy as np
import pytest

from derive import forward
from derive.worksheet import answers, classroom, manifest, spec

SPEC = spec.Spec(
    "Week 3: attention by hand",
    2026,
    2,
    (spec.Problem("softmax", ("softmax",), 1), spec.Problem("attention", ("scores", "weights"), 1)),
)
STUDENTS = (spec.Student("a1", "O'Brien & <b>Ünal</b> $x_1$ 100% {#}"), spec.Student("b2", "李"))


@pytest.fixture(scope="module")
def sheets():
    return classroom.build(SPEC, STUDENTS)


def numbers(text):
    return np.array([[float(Fraction(e)) for e in row.split()] for row in text.split(";")])


def test_manifest_has_the_issue_shape_and_every_answer(sheets):
    data = json.loads(manifest.render(SPEC, sheets))
    assert [data[k] for k in ("title", "seed", "decimals")] == ["Week 3: attention by hand", 2026, 2]
    assert [s["id"] for s in data["students"]] == ["a1", "b2"]
    assert data["students"][0]["name"] == STUDENTS[0].name
    for student in data["students"]:
        first, second = student["problems"]
        assert first["topic"] == "softmax" and first["ask"] == ["softmax"]
        assert set(first["answers"]) == {"z", "exp", "sum", "softmax"}
        assert set(second["answers"]) == {"Q", "K", "V", "scores", "scaled", "weights", "output"}
        for problem in student["problems"]:
            assert all(set(a) == {"value", "exact"} for a in problem["answers"].values())
            assert all(isinstance(v, str) for v in problem["given"].values())


def test_manifest_values_agree_with_numpy(sheets):
    data = json.loads(manifest.render(SPEC, sheets))
    for student in data["students"]:
        soft, att = student["problems"]
        x = numbers(soft["given"]["x"])
        np.testing.assert_allclose(soft["answers"]["softmax"]["value"], forward.softmax(x))
        q, k, v = (numbers(att["given"][n]) for n in ("q", "k", "v"))
        out, weights = forward.scaled_dot_product_attention(q, k, v, None)
        np.testing.assert_allclose(att["answers"]["weights"]["value"], weights)
        np.testing.assert_allclose(att["answers"]["output"]["value"], out)


def test_students_get_different_numbers_and_the_same_again_on_a_rerun(sheets):
    again = classroom.build(SPEC, STUDENTS)
    assert manifest.render(SPEC, sheets) == manifest.render(SPEC, again)
    a, b = sheets
    assert a.assignments[1].variant.given != b.assignments[1].variant.given
    assert a.sheet_id != b.sheet_id and len(a.sheet_id) == 9


def test_a_student_keeps_their_numbers_when_the_roster_grows(sheets):
    bigger = classroom.build(SPEC, (STUDENTS[0], spec.Student("c3", "Cy"), STUDENTS[1]))
    assert bigger[0].assignments == sheets[0].assignments


def test_blank_answer_file_parses_into_the_issue_format(sheets):
    for sheet in sheets:
        data = tomllib.loads(answers.render(SPEC, sheet))
        assert data["student"] == sheet.student.id
        assert [p["topic"] for p in data["problem"]] == ["softmax", "attention"]
        for problem, item in zip(data["problem"], sheet.assignments):
            assert problem["given"] == dict(item.variant.given)
            assert problem["answers"] == dict.fromkeys(item.problem.ask, "")


def test_toml_strings_survive_quotes_backslashes_and_control_characters():
    text = 'a "b" \\ c\n\t\x01 Ü'
    assert tomllib.loads(f"v = {answers.toml_string(text)}")["v"] == text


def test_key_decimals_are_fixed_half_up_and_never_scientific():
    import sympy as sp

    from derive.worksheet.layout import fixed

    shown = [str(fixed(v, 2)) for v in (sp.Rational(1, 8), sp.Rational(-1, 8), sp.exp(-6), -sp.exp(-6), 100)]
    assert shown == ["0.13", "-0.13", "0.00", "0.00", "100.00"]
    assert fixed(-sp.oo, 2) == -sp.oo


def test_a_key_shows_a_whole_number_as_it_is_without_a_tail_of_decimals():
    from derive.worksheet import layout

    cost_spec = spec.Spec("Cost", 7, 2, (spec.Problem("cost", ("parameters", "training_flops"), 3),))
    (sheet,) = classroom.build(cost_spec, STUDENTS[:1])
    (problem,) = layout.key_context(cost_spec, sheet)["problems"]
    lines = [line for step in problem["steps"] for line in step["lines"]]
    assert any('italic("train")' in line and line[-1].isdigit() for line in lines), lines
    assert not [line for line in lines if ".00" in line], lines
    assert all(shown["exact"] is None and "." not in shown["approx"] for shown in problem["answers"])


def test_a_learning_rate_is_keyed_to_significant_figures_as_the_grader_asks():
    """0.0007 at 2 decimals would be 0.00: the key shows 2 significant figures and the checker takes them."""
    from derive import registry
    from derive.api import prepare
    from derive.grading.grader import grade
    from derive.worksheet import layout

    noam = {"schedule": "noam", "step": "3025", "d_model": "256", "warmup": "900"}
    lr = 256**-0.5 * min(3025**-0.5, 3025 * 900**-1.5)  # 1/880
    small = spec.Spec("Rates", 3, 2, (spec.Problem("lr-schedule", ("lr",), 1),))
    (sheet,) = classroom.build(small, STUDENTS[:1])
    value = float(sheet.assignments[0].derivation.answers["lr"])
    shown = layout.key_context(small, sheet)["problems"][0]["answers"][0]["approx"]
    assert value < 0.005 and float(shown) == float(f"{value:.2g}")
    topic = registry.get("lr-schedule")
    assert grade(topic, prepare(topic, noam), {"lr": f"{lr:.2g}"}).items[0].verdict == "correct"
    assert grade(topic, prepare(topic, noam), {"lr": "0.00"}).items[0].verdict != "correct"


def test_a_word_answer_gets_a_word_box_a_key_entry_and_is_graded_by_equality():
    from derive import registry
    from derive.api import prepare
    from derive.grading.grader import grade
    from derive.worksheet import layout

    word_spec = spec.Spec("Words", 5, 2, (spec.Problem("next-token", ("filtered", "token"), 2),))
    (sheet,) = classroom.build(word_spec, STUDENTS[:1])
    (item,) = sheet.assignments
    given = dict(item.variant.given)
    words = given["vocab"].split()
    h, e = numbers(given["hidden"])[0], numbers(given["embedding"])
    p = forward.softmax(e @ h / float(given.get("temperature", "1")))
    u = np.random.default_rng(int(given["seed"])).random()
    kept = np.zeros(len(p), bool)
    order = np.argsort(-p, kind="stable")
    if "top_k" in given:
        kept[order[: int(given["top_k"])]] = True
    else:
        kept[order] = np.cumsum(p[order]) - p[order] < float(given["top_p"])
    filtered = np.where(kept, p, 0) / p[kept].sum()
    word = words[int(np.argmax(np.cumsum(filtered) > u))]
    entry = json.loads(manifest.render(word_spec, (sheet,)))["students"][0]["problems"][0]["answers"]["token"]
    assert entry == {"value": word, "exact": word}
    assert "# token: one word" in answers.render(word_spec, sheet)
    box = layout.sheet_context(word_spec, sheet)["problems"][0]["asks"][1]
    assert (box["rows"], box["cols"], box["width"]) == (1, 1, layout.WORD_CELL_CM)
    key = layout.key_context(word_spec, sheet)["problems"][0]
    shown = key["answers"][1]
    assert shown["approx"] == f'"{word}"' and shown["exact"] is None
    (walk,) = next(step["lines"] for step in key["steps"] if "Choose" in step["title"])
    chosen = words.index(word)
    sums = ", ".join(f"{w} {s:.2f}" for w, s in zip(words[: chosen + 1], np.cumsum(filtered)))
    assert sums in walk and f"u = {u:.4f}: {word}" in walk
    assert not any("seed" in line for line in layout.givens(item))  # the task states u instead
    topic = registry.get("next-token")
    givens = prepare(topic, given)
    assert grade(topic, givens, {"token": word}).items[0].verdict == "correct"
    other = next(w for w in words if w != word)
    assert grade(topic, givens, {"token": other}).items[0].verdict != "correct"


def test_token_and_count_lists_get_a_box_each_a_key_line_and_are_graded_entry_by_entry():
    from test_vocab_training import course_training

    from derive import registry
    from derive.api import prepare
    from derive.grading.grader import grade
    from derive.worksheet import layout

    list_spec = spec.Spec("Lists", 5, 2, (spec.Problem("bpe-train", ("scores", "merges", "vocab"), 3),))
    (sheet,) = classroom.build(list_spec, STUDENTS[:1])
    given = dict(sheet.assignments[0].variant.given)
    counts = {w: int(c) for w, c in (item.split() for item in given["corpus"].split(","))}
    if given["tie_break"] == "first":
        merges, scores, _ = course_training(counts, int(given["merges"]), "", False)
    else:
        merges, scores = sheet.assignments[0].derivation.answers["merges"], None
    vocab = sorted(set("".join(counts))) + merges
    note = answers.render(list_spec, sheet)
    assert f"# merges: {len(merges)} tokens separated by spaces" in note
    assert f"# vocab: {len(vocab)} tokens separated by spaces" in note
    boxes = layout.sheet_context(list_spec, sheet)["problems"][0]["asks"]
    assert [box["count"] for box in boxes[1:]] == [len(merges), len(vocab)]
    for box in boxes:  # a long row wraps: no box beyond the page's answer column
        assert box["cols"] * box["width"] <= layout.ROW_MAX_CM and box["rows"] * box["cols"] >= box["count"]
    shown = layout.key_context(list_spec, sheet)["problems"][0]["answers"]
    assert shown[1]["approx"] == " quad ".join(f'"{token}"' for token in merges)
    assert shown[2]["approx"] == " quad ".join(f'"{token}"' for token in vocab)
    if scores is not None:
        assert shown[0]["approx"] == 'mat(delim: "[", ' + ", ".join(map(str, scores)) + ")"  # a row of counts
    (worked,) = [
        s for s in layout.key_context(list_spec, sheet)["problems"][0]["steps"] if "Merge" in s["title"]
    ]
    assert [line.rsplit("→ ", 1)[1] for line in worked["lines"]] == [f'{token}"' for token in merges]
    topic = registry.get("bpe-train")
    givens = prepare(topic, given)
    report = grade(topic, givens, {"merges": " ".join(merges), "vocab": " ".join(vocab)})
    assert [item.verdict for item in report.items] == ["correct", "correct"]
    swapped = " ".join([*merges[1:], merges[0]])
    assert grade(topic, givens, {"merges": swapped}).items[0].verdict != "correct"


def test_a_tokenizer_sheet_lists_the_vocabulary_it_needs_and_gives_a_text_a_whole_row():
    from derive.worksheet import layout

    text_spec = spec.Spec("Text", 5, 2, (spec.Problem("tokenize", ("normalized", "input_ids"), 3),))
    (sheet,) = classroom.build(text_spec, STUDENTS[:1])
    (problem,) = layout.sheet_context(text_spec, sheet)["problems"]
    assert problem["asks"][0]["width"] == layout.ROW_MAX_CM and problem["asks"][0]["count"] == 1
    assert (
        '#"[CLS]" #sym.arrow #"2"' in problem["table"]
        and '#"a … z" #sym.arrow #"47 … 72"' in problem["table"]
    )
    assert "# normalized: the text on one line" in answers.render(text_spec, sheet)


def test_a_list_of_words_gets_a_box_per_word_and_is_graded_word_by_word():
    from derive import registry
    from derive.api import prepare
    from derive.grading.grader import grade
    from derive.worksheet import layout

    word_spec = spec.Spec("Words", 5, 2, (spec.Problem("embeddings", ("nearest", "analogy"), 1),))
    (sheet,) = classroom.build(word_spec, STUDENTS[:1])
    given = dict(sheet.assignments[0].variant.given)
    table = {row.split(":")[0].strip(): numbers(row.split(":")[1])[0] for row in given["vectors"].split(";")}
    words = list(table)
    unit = {w: v / np.linalg.norm(v) for w, v in table.items()}
    nearest = [
        max((o for o in words if o != w), key=lambda o: unit[w] @ unit[o]) for w in given["words"].split()
    ]
    boxes = layout.sheet_context(word_spec, sheet)["problems"][0]["asks"]
    assert [(b["rows"], b["cols"]) for b in boxes] == [(1, 3), (1, 1)]
    assert "# nearest: 3 tokens separated by spaces" in answers.render(word_spec, sheet)
    assert "# analogy: one word" in answers.render(word_spec, sheet)
    shown = layout.key_context(word_spec, sheet)["problems"][0]["answers"][0]
    assert shown["approx"] == " quad ".join(f'"{w}"' for w in nearest)
    topic = registry.get("embeddings")
    report = grade(topic, prepare(topic, given), {"nearest": " ".join(nearest), "analogy": words[3]})
    assert [item.verdict for item in report.items] == ["correct", "correct"]
    wrong = grade(topic, prepare(topic, given), {"nearest": " ".join(nearest[::-1])}).items[0]
    assert wrong.verdict != "correct" or nearest == nearest[::-1]
