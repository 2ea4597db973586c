"""derive export: Moodle XML, GIFT and a Canvas QTI zip, each parsed here the way its importer reads it.

The readers below follow Moodle's own importers (question/format/xml, question/format/gift and the
cloze regexes of question/type/multianswer) and Canvas's numeric item converter; the values they
find are compared with NumPy computed by hand from each student's inputs.
"""

from __future__ import annotations

import html
import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest

from derive.worksheet import classroom, manifest, spec

NASTY = "O'Brien & <b>Ünal</b> ]]> {1:NUMERICAL:=1} ~=#:\\ 100%"
SPEC = spec.Spec(
    "Week 3 / <attention> & {softmax}: ~=#",
    2026,
    2,
    (
        spec.Problem("softmax", ("softmax",), 1),
        spec.Problem("attention", ("scores", "scaled", "weights", "output"), 1),
        spec.Problem("layer-norm", ("mean",), 1),
    ),
)
STUDENTS = (spec.Student("a1", NASTY), spec.Student("b2", "李"), spec.Student("c3", ""))
TOLERANCE = 0.005


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    made = tmp_path_factory.mktemp("sheet")
    sheets = classroom.build(SPEC, STUDENTS)
    (made / "manifest.json").write_text(manifest.render(SPEC, sheets), encoding="utf-8")
    return made


@pytest.fixture(scope="module")
def givens(folder):
    import json

    data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {s["id"]: [p["given"] for p in s["problems"]] for s in data["students"]}


def numbers(text):
    return np.array([[float(Fraction(e)) for e in row.split()] for row in text.split(";")])


def softmax_rows(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def expected(problem: int, given: dict) -> dict[str, np.ndarray]:
    """NumPy by hand, from the inputs as typed."""
    if problem == 0:
        x = numbers(given["x"])
        p = softmax_rows(x)
        one_hot = (p == p.max(axis=1, keepdims=True)).astype(float)
        return {"softmax": p, "no-exp": x / x.sum(axis=1, keepdims=True), "hard-max": one_hot}
    if problem == 1:
        q, k, v = (numbers(given[n]) for n in ("q", "k", "v"))
        scores = q @ k.T
        weights = softmax_rows(scores / np.sqrt(q.shape[1]))
        scaled = scores / np.sqrt(q.shape[1])
        return {"scores": scores, "scaled": scaled, "weights": weights, "output": weights @ v}
    x = numbers(given["x"])
    return {"mean": x.mean(axis=1, keepdims=True)}


@pytest.fixture(scope="module")
def made(folder):
    from derive.export import export

    return {to: export(folder, to) for to in ("moodle", "gift", "qti")}


# --- Moodle XML -----------------------------------------------------------------------------

# Moodle's cloze grammar (qtype_multianswer), NUMERICAL gaps only; Python needs fixed-width look-behinds.
FRACTION = r"=|%(-?[0-9]+(?:[.,][0-9]*)?)%"
ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
ALTERNATIVE = f"({FRACTION})?({ANSWER})(#({FEEDBACK}))?"
GAP = re.compile(r"\{([0-9]*):(NUMERICAL|NM):(" + ALTERNATIVE + "(~" + ALTERNATIVE + r")*)\}", re.S)
NUMBER = r"-?(([0-9]+[.,]?[0-9]*|[.,][0-9]+)([eE][-+]?[0-9]+)?)"
NUMERICAL = re.compile(f"^({NUMBER})(:({NUMBER}))?$")


def cloze_gaps(text: str) -> list[list[tuple[float, float, float, str]]]:
    """Each gap's alternatives as (fraction, value, tolerance, feedback), as Moodle extracts them."""
    gaps = []
    for match in GAP.finditer(text):
        rest, alternatives = match.group(3), []
        while rest:
            alt = re.match("~?" + ALTERNATIVE, rest, re.S)
            fraction = 1.0 if alt.group(1) == "=" else float(alt.group(2) or 0) / 100
            number = NUMERICAL.match(alt.group(3))
            assert number, alt.group(3)
            feedback = html.unescape(alt.group(5) or "")
            alternatives.append((fraction, float(number.group(1)), float(number.group(6)), feedback))
            rest = rest[alt.end() :]
        gaps.append(alternatives)
    return gaps


def questions(xml: bytes) -> list[ET.Element]:
    root = ET.fromstring(xml)
    assert root.tag == "quiz"
    return list(root)


def test_moodle_xml_has_a_category_per_problem_and_a_question_per_variant(made):
    parsed = questions(made["moodle"])
    kinds = [q.get("type") for q in parsed]
    assert kinds.count("category") == len(SPEC.problems)
    categories = [q.find("category/text").text for q in parsed if q.get("type") == "category"]
    assert categories[0].startswith("$course$/top/Week 3 // <attention>")  # '/' in a name is '//'
    assert categories[0].endswith("/Problem 1: softmax")
    real = [q for q in parsed if q.get("type") != "category"]
    assert len(real) == len(SPEC.problems) * len(STUDENTS)
    for question in real:  # the elements Moodle's importer requires or reads
        assert question.find("name/text").text
        assert question.find("questiontext").get("format") == "html"
        assert question.find("questiontext/text").text
        assert question.find("idnumber").text
    names = [q.find("name/text").text for q in real]
    assert any(NASTY in name for name in names)  # user text kept whole, XML-escaped in the file
    assert len(set(q.find("idnumber").text for q in real)) == len(real)


def test_moodle_scalar_answers_are_numerical_questions_with_tolerance(made, givens):
    real = [q for q in questions(made["moodle"]) if q.get("type") == "numerical"]
    assert len(real) == len(STUDENTS)  # the layer-norm mean of one row is one number
    for question in real:
        student = re.search(r"· (\w+)", question.find("name/text").text).group(1)
        answers = question.findall("answer")
        assert answers[0].get("fraction") == "100"
        assert all(a.get("fraction") == "0" for a in answers[1:])
        assert float(answers[0].find("tolerance").text) == TOLERANCE
        truth = expected(2, givens[student][2])["mean"][0, 0]
        assert abs(float(answers[0].find("text").text) - truth) < 1e-6
        assert answers[0].find("feedback/text").text


def test_moodle_cloze_gaps_carry_the_values_and_misconceptions(made, givens):
    cloze = [q for q in questions(made["moodle"]) if q.get("type") == "cloze"]
    assert len(cloze) == 2 * len(STUDENTS)
    for question in cloze:
        name = question.find("name/text").text
        student = re.search(r"· (\w+)", name).group(1)
        problem = int(name[1]) - 1
        gaps = cloze_gaps(question.find("questiontext/text").text)
        truth = expected(problem, givens[student][problem])
        attention = ("scores", "scaled", "weights", "output")
        asked = [truth["softmax"]] if problem == 0 else [truth[k] for k in attention]
        want = np.concatenate([a.ravel() for a in asked])
        assert len(gaps) == want.size
        for gap, value in zip(gaps, want):
            fraction, centre, tolerance, feedback = gap[0]
            assert fraction == 1.0 and tolerance == TOLERANCE and feedback == "Correct."
            assert abs(centre - value) < 1e-6
            for wrong in gap[1:]:  # after the right answer, never reachable by a right answer
                assert wrong[0] == 0.0 and abs(wrong[1] - centre) > 2 * TOLERANCE
        if problem == 0:
            no_exp = truth["no-exp"].ravel()
            named = [[w for w in gap[1:] if w[3].startswith("<b>no-exp</b>")] for gap in gaps]
            assert all(len(n) == 1 for n in named)
            assert all(abs(n[0][1] - v) < 1e-6 for n, v in zip(named, no_exp))
            assert all("Exponentiate" in n[0][3] for n in named)


def test_user_text_cannot_open_a_cloze_gap(made):
    text = next(
        q.find("questiontext/text").text
        for q in questions(made["moodle"])
        if q.get("type") == "cloze" and "P1" in q.find("name/text").text
    )
    assert "{1:NUMERICAL:=1}" not in text and len(cloze_gaps(text)) == 3


# --- GIFT ------------------------------------------------------------------------------------

_PLACEHOLDERS = {
    "\\:": "&&058;",
    "\\#": "&&035;",
    "\\=": "&&061;",
    "\\{": "&&123;",
    "\\}": "&&125;",
    "\\~": "&&126;",
}


def _pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _PLACEHOLDERS.items():
        text = text.replace(escaped, placeholder)
    return text.replace("\\n", "&&010").replace("&&092;", "\\")


def _post(text: str) -> str:
    for escaped, placeholder in _PLACEHOLDERS.items():
        text = text.replace(placeholder, escaped[1])
    return text.replace("&&010", "\n")


def parse_gift(text: str) -> list[dict]:
    """Numerical GIFT questions as Moodle's qformat_gift reads them (blank lines split questions)."""
    found, category = [], None
    for block in re.split(r"\n[ \t]*\n", text):
        lines = [line for line in block.split("\n") if not line.strip().startswith("//")]
        body = _pre("\n".join(lines).strip())
        if not body:
            continue
        if body.startswith("$CATEGORY:"):
            category = body[10:].strip()
            continue
        assert body.startswith("::")
        body = body[2:]
        name, body = body[: body.index("::")], body[body.index("::") + 2 :]
        start, finish = body.index("{"), body.index("}")
        answer_text, question_text = body[start + 1 : finish].strip(), body[:start]
        assert answer_text.startswith("#") and "~" not in answer_text
        answers = []
        for answer in [a.strip() for a in answer_text[1:].split("=")][1:]:
            weight = 1.0
            if re.match(r"^%-*([0-9]{1,2})\.?([0-9]*)%", answer):
                end = answer.index("%", 1)
                weight, answer = float(answer[1:end]) / 100, answer[end + 1 :]
            value, _, feedback = answer.partition("#")
            centre, _, tolerance = value.partition(":")
            answers.append((weight, float(centre), float(tolerance), html.unescape(_post(feedback.strip()))))
        assert question_text.startswith("[html]")
        found.append(
            {
                "category": category,
                "name": _post(name),
                "text": html.unescape(_post(question_text[6:])),
                "answers": answers,
            }
        )
    return found


def test_gift_has_one_numerical_question_per_entry_with_values_and_hints(made, givens):
    parsed = parse_gift(made["gift"].decode("utf-8"))
    entries = [
        3 + sum(expected(1, given[1])[k].size for k in ("scores", "scaled", "weights", "output")) + 1
        for given in givens.values()
    ]
    assert len(parsed) == sum(entries)
    softmax = [q for q in parsed if q["name"].startswith("P1 ")]
    assert all(q["category"].endswith("/Problem 1: softmax") for q in softmax)
    for question in softmax:
        student = re.search(r"· (\w+)", question["name"]).group(1)
        index = int(re.search(r"softmax\[(\d)\]$", question["name"]).group(1)) - 1
        truth = expected(0, givens[student][0])
        (weight, centre, tolerance, feedback), *wrongs = question["answers"]
        assert weight == 1.0 and tolerance == TOLERANCE and feedback == "Correct."
        assert abs(centre - truth["softmax"].ravel()[index]) < 1e-6
        no_exp = [w for w in wrongs if w[3].startswith("<b>no-exp</b>: Exponentiate")]
        assert len(no_exp) == 1 and no_exp[0][0] == 0.0
        assert abs(no_exp[0][1] - truth["no-exp"].ravel()[index]) < 1e-6
        one_hot = truth["hard-max"].ravel()[index]
        hard_max = [w for w in wrongs if w[3].startswith("<b>hard-max</b>: Softmax is not argmax")]
        assert [w[1] for w in hard_max] in ([one_hot], [])
        if not hard_max:  # left out only where it could not be told apart (the first match wins)
            assert any(abs(one_hot - v) <= 2 * TOLERANCE for v in [centre] + [w[1] for w in wrongs])
    first = next(q for q in parsed if "a1" in q["name"])
    assert NASTY in first["name"]
    assert "Give every answer to 2 decimals." in first["text"]


# --- QTI 1.2 for Canvas ------------------------------------------------------------------------

QTI = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"


def test_qti_zip_is_a_manifest_and_one_assessment_with_range_items(made, givens):
    archive = zipfile.ZipFile(io.BytesIO(made["qti"]))
    names = archive.namelist()
    assert names == sorted(names) and "imsmanifest.xml" in names
    assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())
    resource = ET.fromstring(archive.read("imsmanifest.xml")).find(f"{CP}resources/{CP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2"
    assessment = ET.fromstring(archive.read(resource.find(f"{CP}file").get("href")))
    assert assessment.find(f"{QTI}assessment").get("title") == SPEC.title
    items = assessment.findall(f".//{QTI}item")
    assert len(items) == len(parse_gift(made["gift"].decode("utf-8")))
    for item in items:
        fields = {
            f.find(f"{QTI}fieldlabel").text: f.find(f"{QTI}fieldentry").text
            for f in item.iter(f"{QTI}qtimetadatafield")
        }
        assert fields["question_type"] == "numerical_question"
        conditions = item.findall(f"{QTI}resprocessing/{QTI}respcondition")
        ranges = [c for c in conditions if c.find(f".//{QTI}vargte") is not None]
        assert len(ranges) == 1  # Canvas would make every range a right answer
        centre = float(ranges[0].find(f".//{QTI}varequal").text)
        low, high = (float(ranges[0].find(f".//{QTI}{tag}").text) for tag in ("vargte", "varlte"))
        assert low == pytest.approx(centre - TOLERANCE) and high == pytest.approx(centre + TOLERANCE)
        assert ranges[0].find(f"{QTI}setvar").text == "100"
    first = next(i for i in items if i.get("title").startswith("P1 softmax · a1"))
    truth = expected(0, givens["a1"][0])["softmax"].ravel()[0]
    assert float(first.find(f".//{QTI}varequal").text) == pytest.approx(truth, abs=1e-6)
    feedback = {f.get("ident"): f.find(f".//{QTI}mattext").text for f in first.iter(f"{QTI}itemfeedback")}
    assert "<b>no-exp</b>: Exponentiate" in feedback["general_incorrect_fb"]
    assert NASTY in first.get("title")


def test_qti_refuses_more_decimals_than_canvas_keeps(tmp_path, cli):
    fine = replace(SPEC, decimals=5, problems=SPEC.problems[:1])
    sheets = classroom.build(fine, STUDENTS[:1])
    (tmp_path / "manifest.json").write_text(manifest.render(fine, sheets), encoding="utf-8")
    code, out, err = cli("export", str(tmp_path), "--to", "qti", "-o", str(tmp_path / "quiz.zip"))
    assert code == 2 and not out and err.count("\n") == 1 and "Canvas keeps only 4" in err
    assert not (tmp_path / "quiz.zip").exists()
    code, _, err = cli("export", str(tmp_path), "--to", "moodle", "-o", str(tmp_path / "quiz.xml"))
    assert code == 0, err
    assert ":0.000005#Correct." in (tmp_path / "quiz.xml").read_text(encoding="utf-8")  # half a unit


# --- the command ------------------------------------------------------------------------------


def test_export_is_deterministic_and_never_clobbers(folder, tmp_path, cli, made):
    target = tmp_path / "quiz.gift"
    code, out, err = cli("export", str(folder), "--to", "gift", "-o", str(target))
    assert code == 0 and out and not err
    assert target.read_bytes() == made["gift"]
    target.write_text("keep me", encoding="utf-8")
    code, out, err = cli("export", str(folder), "--to", "gift", "-o", str(target))
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert target.read_text(encoding="utf-8") == "keep me"
    assert cli("export", str(folder), "--to", "qti", "-o", str(tmp_path / "a.zip"))[0] == 0
    assert cli("export", str(folder), "--to", "qti", "-o", str(tmp_path / "b.zip"))[0] == 0
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes() == made["qti"]


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "does not exist"),
        ("{not json", "not a worksheet manifest"),
        ('{"title": "x"}', "not a worksheet"),
    ],
)
def test_a_folder_without_a_good_manifest_is_one_line_and_writes_nothing(tmp_path, cli, content, message):
    if content is not None:
        (tmp_path / "manifest.json").write_text(content, encoding="utf-8")
    code, out, err = cli("export", str(tmp_path), "--to", "moodle", "-o", str(tmp_path / "q.xml"))
    assert code == 2 and not out and message in err and err.count("\n") == 1
    assert not (tmp_path / "q.xml").exists()
