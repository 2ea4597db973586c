"""Read and validate a worksheet spec (SPEC.toml) and a class roster (CSV) before anything is written.

Every error is one line naming the file and the line, so a lecturer can fix it at once.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from derive import files, registry, toml_lines, visible
from derive.errors import InputError
from derive.worksheet import variants

MAX_PROBLEMS = 12
MAX_STUDENTS = 500
MAX_DECIMALS = 6
MAX_TITLE = 200
MAX_NAME = 120
MAX_ROSTER_BYTES = 1_000_000  # 500 students with ids and names of the longest allowed fit in 150 kB
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class Problem:
    topic: str
    ask: tuple[str, ...]
    level: int


@dataclass(frozen=True)
class Spec:
    title: str
    seed: int
    decimals: int
    problems: tuple[Problem, ...]

    def as_dict(self) -> dict:
        """A canonical form: the sheet id hashes this, so comments and spacing do not change it."""
        return {
            "title": self.title,
            "seed": self.seed,
            "decimals": self.decimals,
            "problems": [{"topic": p.topic, "ask": list(p.ask), "level": p.level} for p in self.problems],
        }


@dataclass(frozen=True)
class Student:
    id: str
    name: str


def load_spec(path: str | Path) -> Spec:
    """The spec, fully validated: every topic has a variant generator and every answer id exists."""
    path = Path(path)
    data, lines = toml_lines.read(path, "SPEC")

    def fail(line: int, message: str):
        raise InputError(f"{path}:{line}", message)

    known = {"title", "seed", "decimals", "problem"}
    for key in data:
        if key not in known:
            fail(lines.of_key(key), f"unknown key {key!r}; expected one of {', '.join(sorted(known))}")
    title = data.get("title", "Worksheet")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        fail(lines.of_key("title"), f"title must be one line of text, at most {MAX_TITLE} characters")
    if visible.first_hidden(title):
        fail(lines.of_key("title"), f"title contains {visible.describe(visible.first_hidden(title))}")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        fail(lines.of_key("seed"), "seed must be a whole number from 0 to 2^63 - 1")
    decimals = data.get("decimals", 2)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= MAX_DECIMALS:
        fail(lines.of_key("decimals"), f"decimals must be a whole number from 0 to {MAX_DECIMALS}")
    raw_problems = data.get("problem")
    if not isinstance(raw_problems, list) or not raw_problems:
        fail(len(lines.lines) or 1, "no problems: add at least one [[problem]] table with a topic")
    if len(raw_problems) > MAX_PROBLEMS:
        fail(lines.problem_starts[MAX_PROBLEMS], f"at most {MAX_PROBLEMS} problems on one sheet")
    problems = tuple(_problem(raw, index, lines, fail) for index, raw in enumerate(raw_problems))
    return Spec(title.strip(), seed, decimals, problems)


def _problem(raw: dict, index: int, lines: toml_lines.TomlLines, fail) -> Problem:
    start = lines.span(index).start
    known = {"topic", "ask", "level"}
    for key in raw:
        if key not in known:
            fail(lines.of_key(key, index), f"unknown key {key!r} in [[problem]]; expected topic, ask, level")
    name = raw.get("topic")
    if not isinstance(name, str):
        fail(start, "this [[problem]] needs topic = \"NAME\" (see 'derive topics')")
    topic_line = lines.of_key("topic", index)
    if name not in registry.names():
        fail(topic_line, f"unknown topic {name[:40]!r}; try one of: {', '.join(registry.names())}")
    level = raw.get("level", 1)
    if not isinstance(level, int) or isinstance(level, bool):
        fail(lines.of_key("level", index), "level must be 1, 2 or 3")
    offered = variants.levels(name)
    if not offered:
        fail(
            topic_line,
            f"no worksheet variants for topic {name!r} yet; topics with variants: "
            f"{', '.join(variants.topics())}",
        )
    if level not in offered:
        fail(
            lines.of_key("level", index),
            f"no level {level} variants for {name}; levels: {', '.join(map(str, offered))}",
        )
    topic = registry.get(name)
    askable = [a for a in topic.answer_ids if not variants.refusal(name, a, level)]
    ask = raw.get("ask", [topic.result if topic.result in askable else askable[-1]])
    if isinstance(ask, str):
        ask = [ask]
    if not isinstance(ask, list) or not ask or not all(isinstance(a, str) for a in ask):
        fail(lines.of_key("ask", index), 'ask must be a list of answer ids, such as ask = ["scores"]')
    for answer in ask:
        if answer not in topic.answer_ids:
            fail(
                lines.of_text(answer, index, "ask"),
                f"{name} has no answer {answer[:40]!r}; answer ids: {', '.join(topic.answer_ids)}",
            )
    for answer in ask:
        reason = variants.refusal(name, answer, level)
        if reason:
            fail(lines.of_text(answer, index, "ask"), f"{name} level {level} cannot ask {answer!r}: {reason}")
    if len(set(ask)) != len(ask):
        fail(lines.of_key("ask", index), "an answer id is asked twice")
    ordered = tuple(a for a in topic.answer_ids if a in ask)
    return Problem(name, ordered, level)


def numbered(count: int) -> tuple[Student, ...]:
    """``--students N``: ids s01 … sNN, names left for the students to write."""
    if not 1 <= count <= MAX_STUDENTS:
        raise InputError("--students", f"expected a number of students from 1 to {MAX_STUDENTS}")
    width = max(2, len(str(count)))
    return tuple(Student(f"s{i:0{width}d}", "") for i in range(1, count + 1))


def load_roster(path: str | Path) -> tuple[Student, ...]:
    """A CSV with the columns id,name; names are any Unicode text, ids become file names."""
    path = Path(path)
    text = files.read_text(path, "--roster", MAX_ROSTER_BYTES, "utf-8-sig")
    reader = csv.reader(text.splitlines())

    def fail(line: int, message: str):
        raise InputError(f"{path}:{line}", message)

    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except StopIteration:
        fail(1, "the roster is empty; expected a header line id,name")
    except csv.Error as error:
        fail(1, f"not valid CSV ({error})")
    if header[:2] != ["id", "name"]:
        fail(1, "the first line must be the header id,name")
    students, seen = [], set()
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                fail(line, f"expected {len(header)} columns (id,name), found {len(row)}")
            ident, name = row[0].strip(), row[1].strip()
            if not SAFE_ID.match(ident):
                fail(
                    line,
                    f"id {ident[:40]!r} must be 1-40 letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit (it names files)",
                )
            if ident.lower() in seen:
                fail(line, f"id {ident!r} appears twice")
            if len(name) > MAX_NAME:
                fail(line, f"the name must be one line of at most {MAX_NAME} characters")
            if visible.first_hidden(name):
                fail(line, f"the name contains {visible.describe(visible.first_hidden(name))}")
            seen.add(ident.lower())
            students.append(Student(ident, name))
    except csv.Error as error:
        fail(reader.line_num, f"not valid CSV ({error})")
    if not students:
        fail(1, "the roster lists no students")
    if len(students) > MAX_STUDENTS:
        fail(1, f"at most {MAX_STUDENTS} students")
    return tuple(students)
