"""Answer files and a class: ``derive check ANSWERS.toml``, ``derive grade DIR`` (CSV, Markdown
and HTML class report), and a CSV of responses. Right answers come from NumPy, not from derive."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

SPEC = Path(__file__).resolve().parents[1] / "examples" / "week3.toml"


def _matrix(text: str) -> np.ndarray:
    return np.array([[float(v) for v in row.split()] for row in text.split(";")])


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _reference(topic: str, given: dict) -> dict[str, np.ndarray]:
    """Every asked value of week3.toml's problems, by NumPy."""
    if topic == "softmax":
        return {"softmax": _softmax(_matrix(given["x"]))}
    if topic == "attention":
        q, k, v = (_matrix(given[name]) for name in ("q", "k", "v"))
        scores = q @ k.T
        scaled = scores / np.sqrt(q.shape[1])
        weights = _softmax(scaled)
        return {"scores": scores, "scaled": scaled, "weights": weights, "output": weights @ v}
    if topic == "layer-norm":
        x = _matrix(given["x"])
        mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
        return {"mean": mean, "variance": var, "output": (x - mean) / np.sqrt(var + float(given["eps"]))}
    assert topic == "positional-encoding"
    positions, d, base = int(given["positions"]), int(given["d_model"]), float(given["base"])
    pe = np.zeros((positions, d))
    for pos in range(positions):
        for i in range(0, d, 2):
            pe[pos, i] = np.sin(pos / base ** (i / d))
            pe[pos, i + 1] = np.cos(pos / base ** (i / d))
    return {"pe": pe}


def _written(value: np.ndarray, decimals: int = 2) -> str:
    return "; ".join(" ".join(f"{v:.{decimals}f}" for v in row) for row in np.atleast_2d(value))


def _fill(path: Path, answers: dict[int, dict[str, str]], given_edits: dict[str, str] | None = None) -> None:
    """Write answers into a blank answer file, problem by problem, as a student would."""
    text = path.read_text(encoding="utf-8")
    parts = re.split(r"(?m)^(?=\[\[problem\]\])", text)
    for number, filled in answers.items():
        for name, value in filled.items():
            parts[number] = parts[number].replace(f'{name} = ""', f'{name} = "{value}"')
    text = "".join(parts)
    for old, new in (given_edits or {}).items():
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from derive.cli import run

    out = tmp_path_factory.mktemp("week3") / "ws"
    assert run(["worksheet", str(SPEC), "--out", str(out), "--students", "3"]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    truth = {
        s["id"]: [_reference(p["topic"], p["given"]) for p in s["problems"]] for s in manifest["students"]
    }
    right = {n: {k: _written(v) for k, v in values.items()} for n, values in enumerate(truth["s01"], start=1)}
    _fill(out / "answers" / "s01.toml", right)
    # s02: the hard max; scaled wrong in one entry, weights and output done right from it; the
    # sample variance; and an edited input.
    s02 = truth["s02"]
    scaled = s02[1]["scaled"].copy()
    scaled[0, 0] += 1
    weights = np.round(_softmax(np.round(scaled, 2)), 2)
    given_q = manifest["students"][1]["problems"][1]["given"]["q"]
    x = _matrix(manifest["students"][1]["problems"][2]["given"]["x"])
    one_hot = (s02[0]["softmax"] == s02[0]["softmax"].max()).astype(float)
    _fill(
        out / "answers" / "s02.toml",
        {
            1: {"softmax": _written(one_hot)},
            2: {
                "scores": _written(s02[1]["scores"]),
                "scaled": _written(scaled),
                "weights": _written(weights),
                "output": _written(weights @ _matrix(manifest["students"][1]["problems"][1]["given"]["v"])),
            },
            3: {"mean": _written(s02[2]["mean"]), "variance": _written(x.var(ddof=1, keepdims=True))},
        },
        {f'q = "{given_q}"': 'q = "1 1 1 1; 1 1 1 1; 1 1 1 1"'},
    )
    (out / "answers" / "s03.toml").unlink()
    return out, truth


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_grade_writes_a_row_per_student_problem_and_asked_answer(folder, cli, tmp_path):
    out, _ = folder
    code, stdout, err = cli("grade", str(out), "-o", str(tmp_path / "grades.csv"))
    assert code == 0, err
    rows = _rows(tmp_path / "grades.csv")
    assert len(rows) == 3 * 9
    assert {"student", "problem", "answer", "verdict", "points", "misconception"} <= set(rows[0])
    by = {(r["student"], r["problem"], r["answer"]): r for r in rows}
    assert all(r["verdict"] == "correct" and r["points"] == "1" for r in rows if r["student"] == "s01")
    assert by["s02", "1", "softmax"]["misconception"] == "hard-max"
    assert by["s02", "2", "scores"]["verdict"] == "correct"
    assert by["s02", "2", "scaled"]["verdict"] == "wrong"
    assert by["s02", "2", "weights"]["verdict"] == "follows-through"
    assert by["s02", "2", "output"]["verdict"] == "follows-through"
    assert by["s02", "3", "variance"]["misconception"] == "sample-variance"
    assert by["s02", "3", "output"]["verdict"] == "blank"
    assert "given q was changed" in by["s02", "2", "scores"]["notes"]
    assert all(r["verdict"] == "blank" for r in rows if r["student"] == "s03")
    assert "s03: no answers file" in stdout


def test_the_class_report_counts_misconceptions_and_is_deterministic(folder, cli, tmp_path):
    out, _ = folder
    for name in ("a", "b"):
        assert cli("grade", str(out), "-o", str(tmp_path / f"{name}.csv"))[0] == 0
    markdown = (tmp_path / "a.md").read_text(encoding="utf-8")
    assert "## Score distribution" in markdown and "| 9 | 1 | █ |" in markdown
    assert "P1 softmax: softmax: **hard-max**, 1 of 3" in markdown
    assert "- s03: no answers file" in markdown
    page = (tmp_path / "a.html").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "hard-max" in page
    for suffix in ("csv", "md", "html"):
        assert (tmp_path / f"a.{suffix}").read_bytes() == (tmp_path / f"b.{suffix}").read_bytes()


def test_grade_never_overwrites_without_force(folder, cli, tmp_path):
    out, _ = folder
    (tmp_path / "grades.html").write_text("mine", encoding="utf-8")
    code, _, err = cli("grade", str(out), "-o", str(tmp_path / "grades.csv"))
    assert code == 2 and "--force" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "grades.csv").exists() and (tmp_path / "grades.html").read_text() == "mine"
    assert cli("grade", str(out), "-o", str(tmp_path / "grades.csv"), "--force")[0] == 0


def test_a_csv_of_responses_grades_as_the_answer_files_do(folder, cli, tmp_path):
    out, _ = folder
    assert cli("grade", str(out), "-o", str(tmp_path / "files.csv"))[0] == 0
    from derive.grading import answer_file

    lines = ["student,problem,answer,value"]
    for ident in ("s01", "s02"):
        loaded = answer_file.load(out / "answers" / f"{ident}.toml")
        for problem in loaded.problems:
            lines += [f'{ident},{problem.number},{k},"{v}"' for k, v in problem.answers.items() if v]
    lines.append("s09,1,softmax,0.5 0.5")
    (tmp_path / "responses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, stdout, _ = cli(
        "grade", str(out), "--responses", str(tmp_path / "responses.csv"), "-o", str(tmp_path / "r.csv")
    )
    assert code == 0 and "s09" in stdout
    strip = [{k: v for k, v in r.items() if k != "notes"} for r in _rows(tmp_path / "files.csv")]
    assert [{k: v for k, v in r.items() if k != "notes"} for r in _rows(tmp_path / "r.csv")] == strip


def test_check_an_answer_file_against_the_manifest(folder, cli):
    out, _ = folder
    manifest = str(out / "manifest.json")
    code, stdout, _ = cli("check", str(out / "answers" / "s01.toml"), "--manifest", manifest)
    assert code == 0 and "9 of 9 answers correct." in stdout
    code, stdout, _ = cli("check", str(out / "answers" / "s02.toml"), "--manifest", manifest)
    assert code == 1
    assert "given q was changed from the sheet's value" in stdout and "'hard-max'" in stdout
    assert "expected" not in stdout.replace("--reveal shows the expected", "")
    code, stdout, _ = cli("check", str(out / "answers" / "s02.toml"), "--manifest", manifest, "-f", "json")
    data = json.loads(stdout)
    assert data["problems"][0]["answers"]["softmax"]["expected"]["value"]
    assert data["points"] == 4 and data["max_points"] == 9


@pytest.mark.parametrize(
    "body, line, message",
    [
        ('student = "s01"\n[[problem]]\ntopic = "softmax"\n[problem.given\n', 4, "not valid TOML"),
        (
            'student = "s01"\n[[problem]]\ntopic = "softmax"\n[problem.answers]\nsoftmx = "1"\n',
            5,
            "no answer",
        ),
        (
            'student = "s01"\n[[problem]]\ntopic = "softmax"\n[problem.given]\nx = "1 2"\n'
            '[problem.answers]\nsoftmax = "0.27 zz"\n',
            7,
            "softmax",
        ),
        ('student = "s01"\n[[problem]]\ntopic = "sofmax"\n', 3, "unknown topic"),
        (  # a student's file may not make the grader's machine read a file
            'student = "s01"\n[[problem]]\ntopic = "tokenize"\n[problem.given]\ntext = "hi"\n'
            'vocab = "/etc/passwd"\n[problem.answers]\nids = "1"\n',
            6,
            "vocab names a file",
        ),
        (
            'student = "s01"\n[[problem]]\ntopic = "cost"\n[problem.given]\nmodel = "/proc/self/environ"\n',
            5,
            "model names a file",
        ),
    ],
)
def test_a_malformed_answer_file_is_exit_2_with_its_line(tmp_path, cli, body, line, message):
    path = tmp_path / "answers.toml"
    path.write_text(body, encoding="utf-8")
    code, out, err = cli("check", str(path))
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert f"{path}:{line}:" in err and message in err


def test_an_answer_file_without_a_manifest_uses_its_own_inputs(tmp_path, cli):
    path = tmp_path / "mine.toml"
    path.write_text(
        'student = "me"\n[[problem]]\ntopic = "softmax"\n[problem.given]\nx = "1 2 3"\n'
        '[problem.answers]\nsoftmax = "0 0 1"\n',
        encoding="utf-8",
    )
    code, stdout, _ = cli("check", str(path))
    assert code == 1 and "hard-max" in stdout
    p = _softmax(np.array([1.0, 2.0, 3.0]))
    path.write_text(path.read_text().replace("0 0 1", _written(p, 3)), encoding="utf-8")
    assert cli("check", str(path), "--decimals", "3")[0] == 0


def test_hostile_text_in_an_answer_file_is_refused_or_spelled_out(tmp_path, cli):
    path = tmp_path / "evil.toml"
    path.write_text('student = "s\\u001b]0;pwned\\u0007"\n[[problem]]\ntopic = "softmax"\n', encoding="utf-8")
    code, out, err = cli("check", str(path))
    assert code == 2 and "\x1b" not in err and f"{path}:1:" in err
    path.write_text(
        'student = "s01"\n[[problem]]\ntopic = "softmax"\n[problem.given]\n"x\\u202e" = "1 2"\n',
        encoding="utf-8",
    )
    code, out, err = cli("check", str(path))
    assert code == 2 and "\u202e" not in err and re.search(rf"{re.escape(str(path))}:[45]: ", err)


def test_grade_refuses_answers_and_responses_together_and_a_bad_responses_header(folder, cli, tmp_path):
    out, _ = folder
    (tmp_path / "r.csv").write_text("who,what\n", encoding="utf-8")
    code, _, err = cli(
        "grade", str(out), "--responses", str(tmp_path / "r.csv"), "-o", str(tmp_path / "g.csv")
    )
    assert code == 2 and f"{tmp_path / 'r.csv'}:1:" in err and not (tmp_path / "g.csv").exists()
    code, _, err = cli(
        "grade",
        str(out),
        "--answers",
        str(out / "answers"),
        "--responses",
        str(tmp_path / "r.csv"),
        "-o",
        str(tmp_path / "g.csv"),
    )
    assert code == 2 and "--responses" in err


def test_an_unreadable_answer_in_a_class_is_a_verdict_with_its_text_spelled_out(folder, cli, tmp_path):
    out, _ = folder
    (tmp_path / "r.csv").write_text(
        'student,problem,answer,value\ns01,1,softmax,"=1+1\x1b[2J"\n', encoding="utf-8"
    )
    code, _, _ = cli("grade", str(out), "--responses", str(tmp_path / "r.csv"), "-o", str(tmp_path / "g.csv"))
    assert code == 0
    row = next(r for r in _rows(tmp_path / "g.csv") if r["student"] == "s01" and r["problem"] == "1")
    assert row["verdict"] == "unreadable" and row["written"] == "'=1+1<U+001B>[2J"
