"""A CSV of responses (``student,problem,answer,value``), what an LMS or a form export becomes:
one row per answer, ``problem`` numbered from 1 as on the sheet. Read into the same problems an
answer file gives, so both are graded alike."""

from __future__ import annotations

import csv
from pathlib import Path

from derive import files
from derive.errors import InputError
from derive.grading.answer_file import Manifest, Problem

COLUMNS = ("student", "problem", "answer", "value")
MAX_BYTES = 20_000_000


def load(path: str | Path, manifest: Manifest, option: str = "--responses") -> tuple[dict, list[str]]:
    """Per student id, their problems (answers only; inputs come from the manifest), and the rows
    that could not be used (unknown student, problem or answer id), each with its line."""
    path = Path(path)
    text = files.read_text(path, option, MAX_BYTES, "utf-8-sig")
    reader = csv.reader(text.splitlines())
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        raise InputError(f"{path}:1", f"empty; expected the header {','.join(COLUMNS)}") from None
    except csv.Error as error:
        raise InputError(f"{path}:1", f"not valid CSV ({error})") from None
    if any(column not in header for column in COLUMNS):
        raise InputError(f"{path}:1", f"the header must name the columns {','.join(COLUMNS)}")
    where = {column: header.index(column) for column in COLUMNS}
    answers: dict[str, dict[int, dict[str, str]]] = {}
    skipped = []
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                skipped.append(f"{path}:{line}: expected {len(header)} columns, found {len(row)}")
                continue
            student, number, name, value = (row[where[c]].strip() for c in COLUMNS)
            problem = int(number) if number.isdigit() else 0
            sheet = manifest.students.get(student)
            if sheet is None:
                skipped.append(f"{path}:{line}: student {student[:40]!r} is not in the manifest")
            elif not 1 <= problem <= len(sheet):
                skipped.append(f"{path}:{line}: no problem {number[:10]!r} (the sheet has 1 to {len(sheet)})")
            elif name not in sheet[problem - 1].ask:
                skipped.append(f"{path}:{line}: problem {problem} asks no answer {name[:40]!r}")
            elif name in answers.setdefault(student, {}).setdefault(problem, {}):
                skipped.append(
                    f"{path}:{line}: a second {name!r} for {student}, problem {problem}; the first is used"
                )
            else:
                answers[student][problem][name] = value
    except csv.Error as error:
        raise InputError(f"{path}:{reader.line_num}", f"not valid CSV ({error})") from None
    problems = {
        student: tuple(
            Problem(n, manifest.students[student][n - 1].topic, None, by_problem.get(n, {}), {})
            for n in range(1, len(manifest.students[student]) + 1)
        )
        for student, by_problem in answers.items()
    }
    return problems, skipped
