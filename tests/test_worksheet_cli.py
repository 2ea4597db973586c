"""``derive worksheet`` end to end: the folder, literal names in the PDFs, byte-identical reruns, refusals."""

from __future__ import annotations

import json
import subprocess
import tomllib

import pytest
from conftest import require_program

HOSTILE = "O'Brien & <b>Ünal</b> $x_1$ 100% {#}"
SPEC = """\
title = "Week 3: attention by hand"
seed = 2026
decimals = 2
[[problem]]
topic = "softmax"
ask = ["softmax"]
[[problem]]
topic = "attention"
ask = ["scores", "scaled", "weights", "output"]
level = 1
[[problem]]
topic = "layer-norm"
ask = ["mean", "variance", "output"]
[[problem]]
topic = "positional-encoding"
ask = ["pe"]
"""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inputs")
    (folder / "spec.toml").write_text(SPEC, encoding="utf-8")
    (folder / "roster.csv").write_text(f'id,name\na1,"{HOSTILE}"\nb2,Zoë Ångström\n', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def made(inputs, tmp_path_factory):
    """Two runs of the same class into two folders."""
    from derive.cli import run

    runs = []
    for name in ("first", "second"):
        out = tmp_path_factory.mktemp(name) / "week3"
        code = run(
            [
                "worksheet",
                str(inputs / "spec.toml"),
                "--out",
                str(out),
                "--roster",
                str(inputs / "roster.csv"),
            ]
        )
        assert code == 0
        runs.append(out)
    return runs


def pdf_text(path) -> str:
    program = require_program("pdftotext")
    return subprocess.run(
        [program, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_folder_holds_every_promised_file(made):
    out = made[0]
    expected = {"sheets.pdf", "keys.pdf", "manifest.json"}
    expected |= {
        f"{kind}/{ident}.{ext}"
        for ident in ("a1", "b2")
        for kind, ext in (("sheets", "pdf"), ("keys", "pdf"), ("answers", "toml"))
    }
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()} == expected
    for pdf in out.rglob("*.pdf"):
        assert pdf.read_bytes().startswith(b"%PDF-")


def test_two_runs_are_byte_identical(made):
    first, second = made
    for relative in (
        "sheets.pdf",
        "keys.pdf",
        "manifest.json",
        "sheets/a1.pdf",
        "keys/b2.pdf",
        "answers/a1.toml",
    ):
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_a_hostile_name_prints_literally_everywhere(made):
    out = made[0]
    for pdf in ("sheets.pdf", "keys.pdf", "sheets/a1.pdf", "keys/a1.pdf"):
        assert HOSTILE in pdf_text(out / pdf), pdf
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["students"][0]["name"] == HOSTILE


def test_each_student_starts_a_page_and_a_four_problem_key_fits_one_page(made):
    out = made[0]
    keys = pdf_text(out / "keys.pdf").rstrip("\f").split("\f")
    assert len(keys) == 2 and "a1" in keys[0] and "b2" in keys[1]
    sheets = pdf_text(out / "sheets.pdf").rstrip("\f").split("\f")
    owners = [page for page in sheets if "Name:" in page]
    assert len(owners) == 2 and HOSTILE in owners[0] and "Zoë Ångström" in owners[1]


def test_the_class_pdfs_have_a_bookmark_per_student_and_each_student_pdf_is_their_pages(made):
    from pypdf import PdfReader

    out = made[0]
    people = [f"a1 · {HOSTILE}", "b2 · Zoë Ångström"]
    for kind in ("sheets", "keys"):
        whole = PdfReader(out / f"{kind}.pdf")
        assert [item.title for item in whole.outline if not isinstance(item, list)] == people
        texts = [page.extract_text() for page in whole.pages]
        parts = [PdfReader(out / kind / f"{ident}.pdf", strict=True) for ident in ("a1", "b2")]
        assert sum(len(part.pages) for part in parts) == len(whole.pages)
        assert [page.extract_text() for part in parts for page in part.pages] == texts
        starts = [
            whole.get_destination_page_number(item) for item in whole.outline if not isinstance(item, list)
        ]
        for part, person, start in zip(parts, people, starts):
            titles = [item.title for item in part.outline if not isinstance(item, list)]
            problems = [item.title for item in part.outline[1]]
            assert titles == [person] and len(problems) == 4 and problems[0].endswith("Softmax")
            wanted = [
                whole.get_destination_page_number(item) - start
                for item in whole.outline[1 + 2 * people.index(person)]
            ]
            assert [part.get_destination_page_number(item) for item in part.outline[1]] == wanted


def test_each_sheet_carries_its_sheet_id_as_a_qr_code_a_decoder_reads(made, tmp_path):
    import zxingcpp
    from PIL import Image

    program = require_program("pdftoppm")
    out = made[0]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for student in manifest["students"]:
        page = tmp_path / student["id"]
        subprocess.run(
            [
                program,
                "-png",
                "-r",
                "150",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(out / "sheets" / f"{student['id']}.pdf"),
                str(page),
            ],
            check=True,
        )
        found = zxingcpp.read_barcodes(Image.open(f"{page}.png"))
        assert [(code.format, code.text) for code in found] == [
            (zxingcpp.BarcodeFormat.QRCode, student["sheet_id"])
        ]


def test_sheet_shows_inputs_and_the_key_shows_the_manifest_values(made):
    out = made[0]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    student = manifest["students"][1]
    key = pdf_text(out / "keys" / "b2.pdf")
    weights = student["problems"][1]["answers"]["weights"]["value"]
    for row in weights:
        for value in row:
            assert f"{value:.2f}" in key
    sheet = pdf_text(out / "sheets" / "b2.pdf")
    assert student["sheet_id"] in sheet and student["sheet_id"] in key
    assert "Values you may need" in sheet


def test_answer_files_are_blank_and_carry_the_inputs(made):
    out = made[0]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for student in manifest["students"]:
        data = tomllib.loads((out / "answers" / f"{student['id']}.toml").read_text(encoding="utf-8"))
        assert data["student"] == student["id"]
        for problem, expected in zip(data["problem"], student["problems"]):
            assert problem["given"] == expected["given"]
            assert problem["answers"] == dict.fromkeys(expected["ask"], "")


def test_an_existing_folder_is_refused_untouched_without_force(cli, inputs, tmp_path):
    out = tmp_path / "week3"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = cli("worksheet", str(inputs / "spec.toml"), "--out", str(out), "--students", "2")
    assert code == 2 and "--force" in err and err.count("\n") == 1
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    code, _, err = cli(
        "worksheet", str(inputs / "spec.toml"), "--out", str(out), "--students", "2", "--force"
    )
    assert code == 2 and "not a worksheet folder" in err
    assert (out / "notes.txt").read_text() == "mine"


def test_force_replaces_a_worksheet_folder(cli, inputs, tmp_path):
    spec = tmp_path / "one.toml"
    spec.write_text('[[problem]]\ntopic = "residual"\n', encoding="utf-8")
    out = tmp_path / "w"
    assert cli("worksheet", str(spec), "--out", str(out), "--students", "3")[0] == 0
    assert cli("worksheet", str(spec), "--out", str(out), "--students", "1", "--force", "--seed", "5")[0] == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [s["id"] for s in manifest["students"]] == ["s01"] and manifest["seed"] == 5
    assert sorted(p.name for p in (out / "answers").iterdir()) == ["s01.toml"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("interrupted", ["write_bytes", "replace"])
def test_an_interrupted_write_leaves_the_old_folder_and_no_staging(tmp_path, monkeypatch, interrupted):
    """Ctrl-C while the files are written, or between moving the old folder aside and the new one
    in: the old folder is back in place and no hidden staging folder is left."""
    import os
    from pathlib import Path

    from derive.worksheet import folder

    out = tmp_path / "w"
    out.mkdir()
    (out / "manifest.json").write_text("old")
    target = Path if interrupted == "write_bytes" else os
    real = getattr(target, interrupted)
    calls = []

    def interrupt(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:  # the second file, or the new folder's rename after the old one moved aside
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(target, interrupted, interrupt)
    with pytest.raises(KeyboardInterrupt):
        folder.write(out, {"manifest.json": b"new", "answers/s01.toml": b"x"}, force=True)
    monkeypatch.undo()
    assert (out / "manifest.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "give either --students N or --roster"),
        (("--students", "2", "--roster", "r.csv"), "give either --students N or --roster"),
        (("--students", "0"), "--students"),
        (("--roster", "missing.csv"), "does not exist"),
    ],
)
def test_bad_options_write_nothing(cli, inputs, tmp_path, args, words):
    out = tmp_path / "w"
    code, _, err = cli("worksheet", str(inputs / "spec.toml"), "--out", str(out), *args)
    assert code == 2 and words in err and err.count("\n") == 1
    assert not out.exists()


def test_a_bad_spec_names_its_line_and_writes_nothing(cli, tmp_path):
    spec = tmp_path / "bad.toml"
    spec.write_text(
        'title = "x"\n[[problem]]\ntopic = "softmax"\nask = ["probabilities"]\n', encoding="utf-8"
    )
    out = tmp_path / "w"
    code, _, err = cli("worksheet", str(spec), "--out", str(out), "--students", "2")
    assert code == 2 and f"{spec}:4: softmax has no answer 'probabilities'" in err
    assert not out.exists()


def test_a_hostile_title_prints_literally(cli, tmp_path):
    title = 'Week "3" \\ #set text(red) $x$ <i>'
    spec = tmp_path / "title.toml"
    spec.write_text(f'title = {json.dumps(title)}\n[[problem]]\ntopic = "residual"\n', encoding="utf-8")
    out = tmp_path / "w"
    assert cli("worksheet", str(spec), "--out", str(out), "--students", "1")[0] == 0
    assert title in pdf_text(out / "sheets.pdf") and title in pdf_text(out / "keys.pdf")
    from pypdf import PdfReader

    for pdf, wanted in (
        ("sheets.pdf", title),
        ("keys.pdf", f"Key: {title}"),
        ("keys/s01.pdf", f"Key: {title}"),
    ):
        assert PdfReader(out / pdf).metadata.title == wanted, pdf


def test_duplex_starts_every_student_on_a_new_sheet_of_paper(cli, inputs, made, tmp_path):
    """One-page sheets: a blank page after each, so that no student prints on another's back; each
    student's own PDF is as without --duplex."""
    from pypdf import PdfReader

    out = tmp_path / "duplex"
    argv = ("worksheet", str(inputs / "spec.toml"), "--out", str(out), "--roster", str(inputs / "roster.csv"))
    assert cli(*argv, "--duplex")[0] == 0
    for kind in ("sheets", "keys"):
        plain, padded = PdfReader(made[0] / f"{kind}.pdf"), PdfReader(out / f"{kind}.pdf", strict=True)
        assert len(plain.pages) == 2 and len(padded.pages) == 4
        starts = [padded.get_destination_page_number(i) for i in padded.outline if not isinstance(i, list)]
        assert starts == [0, 2]
        assert [padded.pages[n].extract_text() for n in (1, 3)] == ["", ""]
        assert [padded.pages[n].extract_text() for n in (0, 2)] == [p.extract_text() for p in plain.pages]
        for ident in ("a1", "b2"):
            assert (out / kind / f"{ident}.pdf").read_bytes() == (
                made[0] / kind / f"{ident}.pdf"
            ).read_bytes()


def test_separate_processes_give_identical_files(inputs, tmp_path):
    """Python's string hashing differs between processes: nothing may depend on it."""
    import os
    import sys

    outputs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"w{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        argv = [sys.executable, "-m", "derive", "worksheet", str(inputs / "spec.toml"), "--out", str(out)]
        subprocess.run([*argv, "--students", "2"], check=True, env=env, capture_output=True)
        outputs.append(out)
    for relative in ("sheets.pdf", "keys.pdf", "manifest.json", "sheets/s01.pdf", "keys/s02.pdf"):
        assert (outputs[0] / relative).read_bytes() == (outputs[1] / relative).read_bytes(), relative
