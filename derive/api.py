"""Build a Derivation from raw option values: the one path shared by the CLI, Python and the checker.

Raw values may be the strings typed on the command line, Python numbers, nested lists, SymPy
values or NumPy arrays and scalars (converted to plain Python values first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from derive import registry
from derive.errors import InputError
from derive.model import Derivation, Givens, Topic, run


def _plain(value: Any) -> Any:
    """NumPy arrays and scalars (np.float64, np.int32, ...) as Python lists and numbers."""
    if type(value).__module__ == "numpy" and hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _with_example(topic: Topic, raw: Mapping[str, Any], example: str | None) -> dict[str, Any]:
    """The raw options, an example's values filling in what was not given explicitly."""
    raw = {name: _plain(value) for name, value in raw.items()}
    if example is None:
        return raw
    if example not in topic.examples:
        choices = ", ".join(topic.examples) or "none"
        raise InputError(
            "--example", f"unknown example {example!r} for {topic.name} (choose from: {choices})"
        )
    return {**topic.examples[example], **{k: v for k, v in raw.items() if v is not None}}


def _parse(topic: Topic, raw: Mapping[str, Any]) -> dict[str, Any]:
    known = {o.name for o in topic.options}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InputError(unknown[0], f"{topic.name} takes no option {unknown[0]!r}")
    parsed = {}
    for option in topic.options:
        value = raw.get(option.name)
        if value is None:
            if option.required:
                raise InputError(
                    option.flag,
                    "is required" + (" (or use --example; see 'derive topics')" if topic.examples else ""),
                )
            value = option.default
        parsed[option.name] = None if value is None else option.parse(value, option.flag)
    return parsed


def _one_dimensional(value: Any) -> bool:
    """Whether a raw vector-or-matrix value was written as a vector: '1 2 3', [1, 2, 3]."""
    from derive import parse

    if isinstance(value, str):
        return not parse.looks_like_matrix(value)
    if isinstance(value, (list, tuple)):
        return not any(isinstance(entry, (list, tuple)) for entry in value)
    return False


def _vector_input(topic: Topic, raw: Mapping[str, Any]) -> bool:
    """Whether an input that sets the answers' shape (``Option.sets_answer_shape``) is a vector."""
    return any(
        option.sets_answer_shape and raw.get(option.name) is not None and _one_dimensional(raw[option.name])
        for option in topic.options
    )


def parse_options(topic: Topic, raw: Mapping[str, Any], example: str | None = None) -> dict[str, Any]:
    """Validate every option; an example supplies defaults that explicit options override."""
    return _parse(topic, _with_example(topic, raw, example))


def prepare(topic: Topic, raw: Mapping[str, Any], example: str | None = None) -> Givens:
    merged = _with_example(topic, raw, example)
    givens = topic.prepare(_parse(topic, merged))
    if not _vector_input(topic, merged):
        return givens
    return replace(givens, vector_input=True, params=_vector_params(topic, givens.params))


def _vector_params(topic: Topic, params: Mapping[str, Any]) -> dict[str, Any]:
    """The echoed inputs in the shape they were given: a vector's single row as a flat list."""
    shaped = dict(params)
    for option in topic.options:
        value = shaped.get(option.name)
        if option.sets_answer_shape and isinstance(value, list) and len(value) == 1:
            if isinstance(value[0], list):
                shaped[option.name] = value[0]
    return shaped


def derive(
    topic: str, example: str | None = None, *, precision: int = 4, exact: str = "auto", **options: Any
) -> Derivation:
    """``derive("softmax", x=[1, 2, 3])``: the worked solution as a frozen Derivation.

    ``precision`` (decimals) and ``exact`` (auto, always or never) are how it displays itself;
    ``derive.render`` may override them.
    """
    from derive import budget
    from derive.render.base import check_settings

    settings = check_settings({"precision": precision, "exact": exact})
    chosen = registry.get(topic)
    givens = prepare(chosen, options, example)
    derivation = budget.within(budget.describe(options), lambda: run(chosen, givens))
    return replace(derivation, settings=settings)


def _written(value: Any) -> str:
    """An answer value as a student would type it: rows split by ';', entries by spaces."""
    value = _plain(value)
    if isinstance(value, (list, tuple)):
        rows = [_written(entry) for entry in value]
        nested = any(isinstance(entry, (list, tuple)) for entry in value)
        return "; ".join(rows) if nested else " ".join(rows)
    if hasattr(value, "tolist"):
        return _written(value.tolist())
    return str(value)


def check(
    topic: str,
    answers: Mapping[str, Any] | Sequence[str],
    *,
    example: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    decimals: int | None = None,
    **inputs: Any,
):
    """``check("softmax", {"softmax": [0.09, 0.245, 0.665]}, x="1 2 3")``: a Report of verdicts,
    at ``decimals`` (default 2) or the explicit tolerances ``rtol``/``atol``.

    ``answers`` maps answer ids to values (numbers, lists, NumPy arrays or strings such as
    ``"0.09 0.245 0.665"``), or is a list of ``"id=value"`` strings as ``derive check`` takes.
    """
    from derive import budget
    from derive import check as grading

    if isinstance(answers, Mapping):
        answers = [f"{name}={_written(value)}" for name, value in answers.items()]
    chosen, answers = registry.get(topic), list(answers)
    return budget.within(
        budget.describe({**inputs, "answer": " ".join(answers)}),
        lambda: grading.check(
            chosen, inputs, answers, example=example, rtol=rtol, atol=atol, decimals=decimals
        ),
    )
