"""Answer files (``answers/<id>.toml``, as ``derive worksheet`` writes them) and the manifest.

An answer file is ``student = "id"``, then one ``[[problem]]`` per problem with its ``topic``, its
inputs in ``[problem.given]`` (as typed on the command line) and the student's answers in
``[problem.answers]`` (text; ``""`` is a blank). Every error names the file and the line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from derive import files, registry, toml_lines
from derive.errors import InputError
from derive.worksheet.spec import SAFE_ID

MAX_MANIFEST_BYTES = 50_000_000


@dataclass(frozen=True)
class Problem:
    """One problem of an answer file (``number`` from 1), with the lines its keys sit on."""

    number: int
    topic: str
    given: dict[str, str] | None  # None from a CSV of responses, which carries no inputs
    answers: dict[str, str]
    answer_lines: dict[str, int]


@dataclass(frozen=True)
class AnswerFile:
    path: Path
    student: str
    problems: tuple[Problem, ...]
    lines: toml_lines.TomlLines

    def line(self, number: int, key: str) -> int:
        """The line of a problem's key (``topic``, ``answers``) or of one of its given inputs."""
        if key in ("topic", "given", "answers", "student"):
            return self.lines.of_key(key, None if key == "student" else number - 1)
        return self.lines.of_key(key, number - 1, "given")


@dataclass(frozen=True)
class Assigned:
    """A problem as the manifest hands it to a student: the true inputs and the asked ids."""

    topic: str
    given: dict[str, str]
    ask: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    path: Path
    title: str
    decimals: int
    students: dict[str, tuple[Assigned, ...]]  # in roster order
    names: dict[str, str]


def _strings(table, where: str, what: str) -> dict[str, str]:
    if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
        raise InputError(where, f'{what} must be a table of strings, such as x = "1 2 3"')
    return dict(table)


def load(path: str | Path, option: str = "ANSWERS") -> AnswerFile:
    """The answer file, checked for structure (ids and topics exist); the numbers are read when graded."""
    path = Path(path)
    data, lines = toml_lines.read(path, option)

    def fail(line: int, message: str):
        raise InputError(f"{path}:{line}", message)

    for key in data:
        if key not in ("student", "problem"):
            fail(lines.of_key(key), f"unknown key {key!r}; expected student and [[problem]] tables")
    student = data.get("student")
    if not isinstance(student, str) or not SAFE_ID.match(student.strip()):
        fail(
            lines.of_key("student"),
            'expected student = "ID" at the top: 1-40 letters, digits, ".", "_" or "-", as on the roster',
        )
    raw = data.get("problem")
    if not isinstance(raw, list) or not raw:
        fail(len(lines.lines) or 1, "no [[problem]] tables")
    problems = tuple(_problem(path, entry, index, lines) for index, entry in enumerate(raw))
    return AnswerFile(path, student.strip(), problems, lines)


def _problem(path: Path, raw: dict, index: int, lines) -> Problem:
    start = lines.span(index).start

    def where(key: str, table: str | None = None) -> str:
        return f"{path}:{lines.of_key(key, index, table)}"

    for key in raw:
        if key not in ("topic", "given", "answers"):
            raise InputError(
                where(key), f"unknown key {key!r} in [[problem]]; expected topic, given, answers"
            )
    topic = raw.get("topic")
    if not isinstance(topic, str):
        raise InputError(f"{path}:{start}", 'this [[problem]] needs topic = "NAME"')
    if topic not in registry.names():
        raise InputError(where("topic"), f"unknown topic {topic[:40]!r}")
    given = _strings(raw.get("given", {}), where("given"), "[problem.given]")
    options = {option.name: option for option in registry.get(topic).options}
    for name in given:
        if name not in options:
            raise InputError(
                where(name, "given"),
                f"{topic} takes no input {name[:40]!r}; inputs: {', '.join(sorted(options))}",
            )
        if options[name].path:  # a student's file must not make the grader's machine read a path
            raise InputError(
                where(name, "given"),
                f"{name} names a file, which an answer file cannot give; pass --{name.replace('_', '-')} "
                f"to 'derive check {topic}' instead",
            )
    answers = _strings(raw.get("answers", {}), where("answers"), "[problem.answers]")
    ids = registry.get(topic).answer_ids
    for name in answers:
        if name not in ids:
            raise InputError(
                where(name, "answers"), f"{topic} has no answer {name[:40]!r}; answer ids: {', '.join(ids)}"
            )
    answer_lines = {name: lines.of_key(name, index, "answers") for name in answers}
    return Problem(index + 1, topic, given, answers, answer_lines)


def load_manifest(path: str | Path, option: str = "--manifest") -> Manifest:
    """manifest.json as ``derive worksheet`` writes it: per student, each problem's inputs and asked ids."""
    path = Path(path)
    text = files.read_text(path, option, MAX_MANIFEST_BYTES)
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InputError(option, f"{path} is not a worksheet manifest ({type(error).__name__})") from None
    try:
        students, names = {}, {}
        for student in data["students"]:
            ident = student["id"]
            names[ident] = str(student.get("name", ""))
            students[ident] = tuple(
                Assigned(p["topic"], _strings(p["given"], option, "given"), tuple(p["ask"]))
                for p in student["problems"]
            )
        decimals = data["decimals"]
        title = str(data.get("title", ""))
    except (KeyError, TypeError) as error:
        raise InputError(option, f"{path} is not a worksheet manifest (missing {error})") from None
    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise InputError(option, f"{path}: decimals must be a whole number")
    return Manifest(path, title, decimals, students, names)
