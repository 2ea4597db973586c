"""A class's worksheet (30 students × 4 problems, sheets and keys) against one PDF of one derivation.

The reference is `derive softmax --example basic -f pdf` when that format exists, else a fresh
Python compiling a one-page Typst document through derive.typst_compile; both are measured here,
alternately with the worksheet run, and the ratio of the medians is printed (the goal is at most 4).
Also printed: CPU time (user + system, workers included) of both, and the worksheet's phases in-process.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("RUNS", "3"))
STUDENTS = 30
PYTHON = sys.executable
ROOT = Path(__file__).resolve().parent.parent
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
ONE_PAGE = (
    "from derive.typst_compile import compile_pdf; import sys; "
    "sys.stdout.buffer.write(compile_pdf('= Softmax\\n$ x = mat(delim: \"[\", 1, 2, 3) $'))"
)


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _timed(argv) -> tuple[float, float]:
    """Wall time and the child's user + system CPU time."""
    before = os.times()
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, env=_env())
    wall = time.perf_counter() - start
    after = os.times()
    return wall, (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )


def _reference(folder: Path) -> tuple[list[str], str]:
    help_text = subprocess.run(
        [PYTHON, "-m", "derive", "softmax", "--help"], capture_output=True, text=True, env=_env()
    ).stdout
    if "pdf" in help_text:
        target = folder / "softmax.pdf"
        argv = [
            PYTHON,
            "-m",
            "derive",
            "softmax",
            "--example",
            "basic",
            "-f",
            "pdf",
            "-o",
            str(target),
            "--force",
        ]
        return argv, "derive softmax --example basic -f pdf"
    return [PYTHON, "-c", ONE_PAGE], "python + one Typst compile of a one-page document"


def _phases(spec_path: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from derive.typst_compile import compile_pdf
    from derive.worksheet import classroom, layout, pages, parts, spec

    loaded, students = spec.load_spec(spec_path), spec.numbered(STUDENTS)
    start = time.perf_counter()
    rows = list(zip(*parts.columns(loaded, students)))
    made = time.perf_counter()
    people = [(s, classroom.sheet_id(loaded, s), row) for s, row in zip(students, rows)]
    sheets = layout.document(
        "sheet", [layout.sheet_page(loaded, s, i, [p.sheet for p in r]) for s, i, r in people]
    )
    keys = layout.document("key", [layout.key_page(loaded, s, i, [p.key for p in r]) for s, i, r in people])
    laid = time.perf_counter()
    pdfs = compile_pdf(sheets), compile_pdf(keys)
    both = time.perf_counter()
    for pdf in pdfs:
        pages.split(pdf, STUDENTS)
    cut = time.perf_counter()
    return {
        "problems (variants, derivations, printing; a worker per problem)": made - start,
        "pages (templates, QR codes)": laid - made,
        "sheets.pdf + keys.pdf compiles, one after the other": both - laid,
        "each student's PDFs cut from them": cut - both,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        spec_path = folder / "spec.toml"
        spec_path.write_text(SPEC, encoding="utf-8")
        reference, reference_name = _reference(folder)
        worksheet = [
            PYTHON,
            "-m",
            "derive",
            "worksheet",
            str(spec_path),
            "--students",
            str(STUDENTS),
            "--force",
        ]
        timings = {"reference": [], "reference_cpu": [], "worksheet": [], "worksheet_cpu": []}
        for run in range(RUNS):
            wall, cpu = _timed(reference)
            timings["reference"].append(wall)
            timings["reference_cpu"].append(cpu)
            wall, cpu = _timed([*worksheet, "--out", str(folder / f"out{run}")])
            timings["worksheet"].append(wall)
            timings["worksheet_cpu"].append(cpu)
        phases = _phases(spec_path)
    median = {name: statistics.median(values) for name, values in timings.items()}
    print(
        f"reference: {reference_name}: median {median['reference']:.2f} s (CPU {median['reference_cpu']:.2f} s)"
    )
    print(
        f"worksheet: {STUDENTS} students × 4 problems, sheets and keys: median {median['worksheet']:.2f} s "
        f"(CPU {median['worksheet_cpu']:.2f} s); {RUNS} runs each, alternating"
    )
    for name, seconds in phases.items():
        print(f"  in-process {name}: {seconds:.2f} s")
    print(
        f"ratio worksheet / reference, wall time: {median['worksheet'] / median['reference']:.1f} (goal: at most 4)"
    )
    print(f"ratio worksheet / reference, CPU time: {median['worksheet_cpu'] / median['reference_cpu']:.1f}")


if __name__ == "__main__":
    main()
