"""Build a Derivation from raw option values: the one path shared by the CLI, Python and the checker."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from derive import registry
from derive.errors import InputError
from derive.model import Derivation, Givens, Topic, run


def parse_options(topic: Topic, raw: Mapping[str, Any], example: str | None = None) -> dict[str, Any]:
    """Validate every option; an example supplies defaults that explicit options override."""
    if example is not None:
        if example not in topic.examples:
            choices = ", ".join(topic.examples) or "none"
            raise InputError(
                "--example", f"unknown example {example!r} for {topic.name} (choose from: {choices})"
            )
        raw = {**topic.examples[example], **{k: v for k, v in raw.items() if v is not None}}
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


def prepare(topic: Topic, raw: Mapping[str, Any], example: str | None = None) -> Givens:
    return topic.prepare(parse_options(topic, raw, example))


def derive(topic: str, example: str | None = None, **options: Any) -> Derivation:
    """``derive("softmax", x=[1, 2, 3])``: the worked solution as a frozen Derivation."""
    chosen = registry.get(topic)
    return run(chosen, prepare(chosen, options, example))
