"""What grading returns: a verdict per asked answer, its points, the misconception and its hint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CORRECT = "correct"
FOLLOWS_THROUGH = "follows-through"  # right from the student's own plausible earlier answers
IMPRECISE = "imprecise"  # right only at fewer decimals than the task asks
WRONG = "wrong"
BLANK = "blank"  # left empty in an answer file
UNREADABLE = "unreadable"  # not numbers derive can read (graded in a class, refused at the terminal)

DEFAULT_DECIMALS = 2  # the precision a task asks for when it names none

VERDICTS = (CORRECT, FOLLOWS_THROUGH, IMPRECISE, WRONG, BLANK, UNREADABLE)
# Carried-forward credit is full credit: one slip costs its own step only.
POINTS = {CORRECT: 1.0, FOLLOWS_THROUGH: 1.0}


@dataclass(frozen=True)
class Entry:
    """One entry of a vector or matrix answer (rows and columns from 1)."""

    row: int
    col: int
    given: Any
    expected: Any
    correct: bool
    written: str = ""


@dataclass(frozen=True)
class AnswerReport:
    id: str
    verdict: str
    entries: tuple[Entry, ...] = ()
    shape_note: str | None = None
    mistake: str | None = None  # the misconception's id, such as "hard-max"
    hint: str | None = None
    written: str = ""
    expected: Any = None  # the exact value; shown to a student only with --reveal

    @property
    def points(self) -> float:
        return POINTS.get(self.verdict, 0.0)

    @property
    def misconception(self) -> str | None:
        return self.mistake

    @property
    def wrong_entries(self) -> list[tuple[int, int]]:
        return [(e.row, e.col) for e in self.entries if not e.correct]


@dataclass(frozen=True)
class Report:
    topic: str
    items: tuple[AnswerReport, ...] = field(default_factory=tuple)
    precision: str = ""  # "2 decimals" or the explicit tolerances, as the report prints it
    notes: tuple[str, ...] = ()  # about the inputs, such as an edited given
    vector_input: bool = False  # the inputs were vectors: JSON gives 1-row values as flat lists

    @property
    def all_correct(self) -> bool:
        return all(item.verdict == CORRECT for item in self.items)

    @property
    def points(self) -> float:
        return sum(item.points for item in self.items)

    def item(self, answer_id: str) -> AnswerReport:
        return next(i for i in self.items if i.id == answer_id)
