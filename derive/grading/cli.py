"""``derive check ANSWERS.toml [--manifest DIR/manifest.json]`` and ``derive grade DIR``."""

from __future__ import annotations

import sys

import click

from derive import path_type
from derive.errors import InputError


def looks_like_answer_file(name: str) -> bool:
    """``derive check`` takes a topic or a file: a name ending in .toml is a file."""
    return name.endswith(".toml")


def _precision(decimals, rtol, atol, manifest=None):
    from derive.grading.precision import DEFAULT_DECIMALS, Precision

    if decimals is None:
        decimals = manifest.decimals if manifest is not None else DEFAULT_DECIMALS
    return Precision(decimals, rtol, atol)


def check_file_command(path: str, grading_options) -> click.Command:
    """The command ``derive check PATH`` runs: PATH is the answer file to grade."""

    def run(fmt, manifest, decimals, rtol, atol, reveal):
        from derive.grading import answer_file, display, sheet
        from derive.grading.report import CORRECT, UNREADABLE

        answers = answer_file.load(path)
        loaded = answer_file.load_manifest(manifest) if manifest else None
        precision = _precision(decimals, rtol, atol, loaded)
        assigned = None
        if loaded is not None:
            assigned = loaded.students.get(answers.student)
            if assigned is None:
                line = answers.line(0, "student")
                raise InputError(f"{path}:{line}", f"student {answers.student[:40]!r} is not in {manifest}")
        graded = sheet.grade_problems(answers.problems, precision, assigned, answers.path, answers.line)
        for problem in graded:
            for item in problem.report.items:
                if item.verdict == UNREADABLE:
                    line = answers.lines.of_key(item.id, problem.number - 1, "answers")
                    raise InputError(f"{path}:{line}", f"{item.id}: {item.hint}")
        click.echo(display.render_sheet(answers.student, precision.describe(), graded, fmt, reveal), nl=False)
        right = all(i.verdict == CORRECT for p in graded for i in p.report.items)
        sys.exit(0 if right else 1)

    options = [
        click.option("-f", "--format", "fmt", type=click.Choice(("terminal", "json")), default="terminal"),
        click.option(
            "--manifest",
            type=path_type.file(),
            default=None,
            help="the worksheet's manifest.json: the inputs and asked ids come from it",
        ),
        *grading_options,
    ]
    for option in reversed(options):
        run = option(run)
    return click.command(path, help="Grade a filled answer file (answers/<id>.toml).")(run)


def _beside(output: str) -> tuple[str, str]:
    """The class report's two files: grades.csv -> grades.md and grades.html."""
    from pathlib import Path

    stem = Path(output).with_suffix("")
    return f"{stem}.md", f"{stem}.html"


def grade_command(grading_options) -> click.Command:
    def run(folder, answers, responses, output, force, decimals, rtol, atol):
        from derive.grading import class_report, gradebook
        from derive.output import check_target, write_atomic

        if answers is not None and responses is not None:
            raise InputError("--responses", "give either --answers FOLDER or --responses FILE.csv, not both")
        if not output.endswith(".csv"):
            raise InputError("--output", f"expected a .csv file, got {output[:60]!r}")
        targets = (output, *_beside(output))
        for target in targets:
            check_target(target, force)
        book = gradebook.grade_class(folder, answers, responses, decimals, rtol, atol)
        files = (gradebook.csv_text(book), class_report.markdown(book), class_report.html_page(book))
        for target, text in zip(targets, files):
            write_atomic(target, text, force=force)
        totals = book.totals().values()
        mean = sum(totals) / len(totals) if totals else 0
        from derive.visible import one_line

        click.echo(
            f"graded {len(book.students)} students (mean {mean:.1f} of {book.max_points} points): "
            f"wrote {one_line(', '.join(targets))}"
        )
        for problem in book.problems:  # a file's name in the answers folder may hold an escape
            click.echo(f"  not graded: {one_line(problem)}")

    options = [
        click.argument("folder", metavar="DIR", type=path_type.folder()),
        click.option(
            "--answers",
            type=path_type.folder(),
            default=None,
            help="the folder of filled answer files [default: DIR/answers]",
        ),
        click.option(
            "--responses",
            type=path_type.file(),
            default=None,
            help="a CSV student,problem,answer,value (an LMS or form export) instead of answer files",
        ),
        click.option(
            "-o",
            "--output",
            required=True,
            type=path_type.file(),
            help="grades.csv; the class report goes beside it as grades.md and grades.html",
        ),
        click.option("--force", is_flag=True, help="overwrite existing output files"),
        *grading_options,
    ]
    for option in reversed(options):
        run = option(run)
    return click.command(
        "grade", help="Grade a worksheet folder's answer files into a CSV and a class report."
    )(run)
