"""TOML files a person edits (worksheet specs, answer files): parsed with tomllib, and every error
names the file and the line, found in the text because tomllib keeps no positions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from derive import files
from derive.errors import InputError

_PROBLEM_HEADER = re.compile(r"^\s*\[\[\s*problem\s*\]\]")
_TOML_LINE = re.compile(r"at line (\d+)")
MAX_BYTES = 1_000_000


def read(path: str | Path, option: str) -> tuple[dict, TomlLines]:
    """The parsed file and where its keys sit; a missing, unreadable or invalid file is an InputError."""
    path = Path(path)
    text = files.read_text(path, option, MAX_BYTES)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        found = _TOML_LINE.search(str(error))
        where = f"{path}:{found.group(1)}" if found else str(path)
        raise InputError(where, f"not valid TOML ({str(error).split(' (at')[0]})") from None
    return data, TomlLines(text)


class TomlLines:
    """Where keys sit in a file made of top-level keys and ``[[problem]]`` tables."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.problem_starts = [i + 1 for i, line in enumerate(self.lines) if _PROBLEM_HEADER.match(line)]

    def span(self, problem: int | None) -> range:
        if problem is None:
            end = self.problem_starts[0] if self.problem_starts else len(self.lines) + 1
            return range(1, end)
        start = self.problem_starts[problem] if problem < len(self.problem_starts) else 1
        later = [s for s in self.problem_starts if s > start]
        return range(start, later[0] if later else len(self.lines) + 1)

    def of_key(self, key: str, problem: int | None = None, table: str | None = None) -> int:
        """The line of ``key =`` at the top, in problem ``problem`` (from 0), or in its sub-table
        ``[problem.<table>]``; the nearest header when the key is absent."""
        span = self.span(problem)
        start = span.start
        if table is not None:
            header = re.compile(rf"^\s*\[\s*problem\s*\.\s*{re.escape(table)}\s*\]")
            start = next((n for n in span if header.match(self.lines[n - 1])), start)
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
        for number in range(start, span.stop):
            if pattern.match(self.lines[number - 1]):
                return number
        return start

    def of_text(self, text: str, problem: int, key: str) -> int:
        """The line of a value inside a (possibly multi-line) array, else the key's line."""
        quoted = re.compile(rf"[\"']{re.escape(text)}[\"']")
        start = self.of_key(key, problem)
        for number in range(start, self.span(problem).stop):
            if quoted.search(self.lines[number - 1]):
                return number
        return start
