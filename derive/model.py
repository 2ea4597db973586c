"""The stage model: a topic is its givens plus an ordered chain of named stages.

Everything else (prose, exact and numeric values, every output format, worksheet blanks
and the grading of a student's answers) is derived from these few frozen objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import sympy as sp


@dataclass(frozen=True)
class Text:
    """User-supplied text (a token label, a title): every renderer escapes it."""

    value: str


@dataclass(frozen=True)
class Rounded:
    """An exact number shown as decimals: the renderer rounds it to its precision, and to no fewer
    than ``at_least`` decimals when a topic needs more to tell two numbers apart. Topics never round."""

    value: Any
    at_least: int = 0
    # A share shown in percent: 100·value with two fewer decimals than the precision (0.6652 is 66.52),
    # so a percentage carries the digits of the weight it stands for; the "%" sign is the text's.
    percent: bool = False


Inline = sp.Basic | Text | Rounded | str | int


@dataclass(frozen=True)
class Prose:
    """A paragraph: trusted prose with ``{name}`` fields that renderers fill with math or text."""

    template: str
    fields: Mapping[str, Inline] = field(default_factory=dict)


@dataclass(frozen=True)
class Equation:
    """A display line ``parts[0] = parts[1] = ...``, optionally ending ``≈ approx``."""

    parts: tuple[sp.Basic, ...]
    approx: sp.Basic | None = None


@dataclass(frozen=True)
class Table:
    """A small table of inline cells; the header row is trusted prose or user text."""

    header: tuple[Inline, ...]
    rows: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Figure:
    """A picture described by plain numbers; drawn (lazily, with matplotlib) only when written.

    ``kind`` is one of ``heatmap`` (data: values, row_labels, col_labels), ``curves``
    (data: x, series {label: ys}, xlabel, ylabel, points {label: (x, y)}), ``vectors`` (data: vectors
    {label: (x, y)}) or ``paths`` (data: paths {label: [(x, y), ...]}, circle).
    """

    name: str
    kind: str
    title: str
    data: Mapping[str, Any]


Block = Prose | Equation | Table | Figure


class Values(Mapping):
    """The givens and the values of the stages computed so far, readable as attributes."""

    def __init__(self, data: Mapping[str, Any]):
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, key: str) -> Any:
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def updated(self, **changes: Any) -> Values:
        return Values({**self._data, **changes})


@dataclass(frozen=True)
class Mistake:
    """A named misconception: what a student who holds it would compute, and a hint."""

    id: str
    hint: str
    compute: Callable[[Values], Any]


@dataclass(frozen=True)
class Stage:
    """One named step; ``name`` is the stable answer id used by JSON and ``derive check``."""

    name: str
    title: str | Callable[[Values], str]  # a callable names the step after the convention in force
    compute: Callable[[Values], Any]
    explain: Callable[[Values], tuple[Block, ...]]
    mistakes: tuple[Mistake, ...] = ()
    answer: bool = True
    optional: bool = False  # left out of the derivation when its value is None (an option not given)
    # Each row of the answer is a probability distribution: the grader's and the quiz's generic
    # hard-max and rows-not-summing-to-one apply (declared, as values that look like one may not be).
    distribution: bool = False

    def titled(self, values: Values) -> str:
        """The step's heading for these givens."""
        return self.title(values) if callable(self.title) else self.title


@dataclass(frozen=True)
class Option:
    """One input of a topic, shared by the CLI, the Python API and the checker."""

    name: str
    help: str
    parse: Callable[[Any, str], Any]
    default: Any = None
    required: bool = False
    flag_value: Any = None
    choices: tuple[str, ...] = ()
    # The answers' rows are this input's rows: given as a vector, a 1-row answer is a vector.
    sets_answer_shape: bool = False
    # The value names a "file", a "folder" or "either": the command line then shows FILE, DIR or
    # PATH, and tests/test_paths.py finds the option and tries hostile paths on it.
    path: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Topic:
    """A topic: validated givens (``prepare``) and the stages that run on them."""

    name: str
    summary: str
    options: tuple[Option, ...]
    prepare: Callable[[Mapping[str, Any]], Givens]
    stages: tuple[Stage, ...]
    result: str
    examples: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    example_notes: Mapping[str, str] = field(default_factory=dict)
    # A derivation in letters may name its intermediates (a_ij, mu): each name with its expression in
    # the input letters, computed from the stages' values, so that an answer may use the names.
    names: Callable[[Values], Mapping[Any, Any]] | None = None
    # For the test suite: random raw options, and the same answers from derive.forward (NumPy).
    sample: Callable[[Any], Mapping[str, str]] | None = None
    reference: Callable[[Mapping[str, Any]], Mapping[str, Any]] | None = None

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages if s.answer)


@dataclass(frozen=True)
class Givens:
    """What ``prepare`` returns: the values stages read, and how to present them."""

    title: str
    values: Mapping[str, Any]
    intro: tuple[Block, ...]
    params: Mapping[str, Any]
    vector_input: bool = False  # set by derive.api from the raw options, not by topics


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    blocks: tuple[Block, ...]
    value: Any
    answer: bool


@dataclass(frozen=True, repr=False)
class Derivation:
    """A finished worked solution: SymPy objects and plain strings, never LaTeX."""

    topic: str
    title: str
    params: Mapping[str, Any]
    intro: tuple[Block, ...]
    steps: tuple[Step, ...]
    result: str
    vector_input: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict)  # display settings, e.g. precision

    @property
    def answers(self) -> Mapping[str, Any]:
        """The exact values (SymPy) by answer id, as the stages computed them."""
        return MappingProxyType({s.name: s.value for s in self.steps if s.answer})

    @property
    def shaped_answers(self) -> Mapping[str, Any]:
        """The exact answers in the input's shape: from a vector input, a 1-row matrix is a list."""
        if not self.vector_input:
            return self.answers
        return MappingProxyType({name: _as_vector(value) for name, value in self.answers.items()})

    @property
    def values(self) -> Mapping[str, Any]:
        """The answers as floats in the input's shape, exactly as JSON gives them (None: no float64)."""
        from derive.numbers import to_float

        return MappingProxyType({name: to_float(value) for name, value in self.shaped_answers.items()})

    def _repr_markdown_(self) -> str:
        from derive.render import render

        return render(self, "markdown", **self.settings)

    def _repr_latex_(self) -> str:
        from derive.render import render

        return render(self, "latex", fragment=True, **self.settings)

    def __str__(self) -> str:
        from derive.render import render

        return render(self, "terminal", color=False, **self.settings)

    def __repr__(self) -> str:
        """Short, for the Python prompt: print(d) shows the worked solution itself."""
        return f"<Derivation {self.topic}: {self.title!r}, answers {', '.join(self.answers)}>"


def _as_vector(value: Any) -> Any:
    """A 1×n matrix without its row dimension (a list of n entries, as NumPy keeps a 1-D shape)."""
    if isinstance(value, sp.MatrixBase) and value.rows == 1:
        return list(value)
    return value


def run(topic: Topic, givens: Givens) -> Derivation:
    """Compute every stage in order; each sees the givens and the earlier stages' values."""
    values = Values(givens.values)
    steps = []
    for stage in topic.stages:
        value = stage.compute(values)
        values = values.updated(**{stage.name: value})
        if stage.optional and value is None:
            continue
        steps.append(
            Step(stage.name, stage.titled(values), tuple(stage.explain(values)), value, stage.answer)
        )
    return Derivation(
        topic.name,
        givens.title,
        dict(givens.params),
        givens.intro,
        tuple(steps),
        topic.result,
        givens.vector_input,
    )
