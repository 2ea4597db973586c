"""The renderer base class: visits blocks the way SymPy printers visit expressions.

A renderer turns a Derivation into one format. ``visit(block)`` first readies the block for
printing (``prepare``, the single place where the shared size policy applies), then calls the
``visit_<Class>`` method of the first class in the block's MRO that has one, and fails loudly
when none does. Settings are declared per class in ``default_settings`` and merged through
the MRO, so a renderer accepts exactly the settings it and its bases declare.

A format registers itself with ``@register`` (see ``derive/render/__init__.py``).
"""

from __future__ import annotations

import dataclasses
import operator
import string
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import sympy as sp

from derive.errors import InputError
from derive.model import Equation, Prose, Rounded, Table, Text
from derive.numbers import Approximate, approx, with_decimals_inside
from derive.render.templates import render_template

EXACT_CHOICES = ("auto", "always", "never")
MAX_PRECISION = 12
MIN_WIDTH = 20

_REGISTERED: dict[str, type[Renderer]] = {}
_FORMATTER = string.Formatter()


class Renderer:
    """Base of every format; subclasses set ``name``, ``extensions`` and ``binary`` and visit blocks."""

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    binary: ClassVar[bool] = False
    template_syntax: ClassVar[tuple[tuple[str, str], ...]] = ()  # Jinja2 delimiter overrides
    default_settings: ClassVar[dict[str, Any]] = {
        "precision": 4,  # decimals shown for every rounded number
        "width": None,  # terminal columns; None means the current terminal's
        "exact": "auto",  # exact forms: auto (the size policy decides), always or never
    }

    def __init__(self, **settings: Any):
        declared = self.declared_settings()
        unknown = sorted(set(settings) - set(declared))
        if unknown:
            raise TypeError(f"{type(self).__name__} takes no setting {unknown[0]!r}")
        self.settings = check_settings({**declared, **settings})

    @classmethod
    def declared_settings(cls) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            merged.update(getattr(klass, "default_settings", {}))
        return merged

    @property
    def precision(self) -> int:
        return self.settings["precision"]

    def render(self, derivation) -> str | bytes:
        """The whole document: ``str`` for text formats, ``bytes`` when ``binary``."""
        raise NotImplementedError(f"{type(self).__name__} must implement render()")

    @property
    def page(self):
        """Where blocks are printed, for the size policy: a document page unless a format says otherwise."""
        from derive.render import policy

        return policy.Page.document(self.settings["exact"], self.precision)

    def prepare(self, block) -> tuple:
        """The one hook where a block is readied before printing: rounded numbers get their
        decimals, then the shared size policy (derive/render/policy.py) may name long sums, turn exact forms too big for the page into
        decimals, or split the block, so one block can become several."""
        from derive.render import policy

        return policy.prepare(with_decimals(block, self.precision), self.page)

    def visit(self, block) -> str | None:
        """The printed block, or None (or "") when this format shows nothing for it."""
        for klass in type(block).__mro__:
            method = getattr(self, f"visit_{klass.__name__}", None)
            if method is not None:
                return method(block)
        raise TypeError(f"{type(self).__name__} cannot render a {type(block).__name__} block")

    def blocks(self, items) -> list[str]:
        """The printed blocks that show something, in order, each readied by ``prepare`` first."""
        ready = (shown for block in items for shown in self.prepare(block))
        return [text for text in (self.visit(block) for block in ready) if text]

    def template(self, name: str, **context) -> str:
        """Lay out printed strings with ``templates/<format name>/<name>``."""
        return render_template(self.name, name, self.template_syntax, **context)


def fill(prose: Prose, literal: Callable[[str], str], inline: Callable[[object], str]) -> str:
    """Escape the trusted literal parts of a paragraph and print each field inline."""
    out = []
    for text, name, _, _ in _FORMATTER.parse(prose.template):
        out.append(literal(text))
        if name is not None:
            out.append(inline(prose.fields[name]))
    return "".join(out)


def with_decimals(block, precision: int):
    """The block with every ``Rounded`` field or cell, and every ``Approximate`` inside a formula,
    replaced by its decimals at ``precision``."""
    if isinstance(block, Prose) and any(_pending(v) for v in block.fields.values()):
        return dataclasses.replace(
            block, fields={k: _decimals(v, precision) for k, v in block.fields.items()}
        )
    if isinstance(block, Table) and any(_pending(c) for row in block.rows for c in row):
        rows = tuple(tuple(_decimals(c, precision) for c in row) for row in block.rows)
        return dataclasses.replace(block, rows=rows)
    if isinstance(block, Equation) and any(_pending(p) for p in block.parts):
        return dataclasses.replace(block, parts=tuple(_decimals(p, precision) for p in block.parts))
    return block


def _pending(value) -> bool:
    if isinstance(value, Rounded):
        return True
    return isinstance(value, (sp.Basic, sp.MatrixBase)) and bool(value.atoms(Approximate))


def _decimals(value, precision: int):
    if isinstance(value, (sp.Basic, sp.MatrixBase)):
        return with_decimals_inside(value, precision)
    if not isinstance(value, Rounded):
        return value
    if value.percent:
        return approx(100 * value.value, max(precision - 2, value.at_least))
    return approx(value.value, max(precision, value.at_least))


def is_math(value) -> bool:
    return isinstance(value, (sp.Basic, sp.MatrixBase))


def is_user_text(value) -> bool:
    return isinstance(value, Text)


def check_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The base settings given (precision, width, exact), checked; NumPy integers become ints."""
    checked = dict(settings)
    if "precision" in checked:
        checked["precision"] = _whole(checked["precision"], "precision", 0, MAX_PRECISION)
    if checked.get("width") is not None:
        checked["width"] = _whole(checked["width"], "width", MIN_WIDTH, None)
    if "exact" in checked and checked["exact"] not in EXACT_CHOICES:
        raise InputError("exact", f"expected one of {', '.join(EXACT_CHOICES)}, got {checked['exact']!r}")
    return checked


def _whole(value: Any, name: str, low: int, high: int | None) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or isinstance(value, bool) or number < low or (high is not None and number > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise InputError(name, f"expected a whole number {bound}, got {value!r}")
    return number


def register(cls: type[Renderer]) -> type[Renderer]:
    """Class decorator: list a renderer under its ``name`` (a name may be registered once)."""
    if not cls.name or not cls.extensions:
        raise TypeError(f"{cls.__name__} must declare a name and its file extensions")
    if cls.name in _REGISTERED and _REGISTERED[cls.name] is not cls:
        raise TypeError(f"format {cls.name!r} is registered twice")
    _REGISTERED[cls.name] = cls
    return cls


def registered() -> dict[str, type[Renderer]]:
    return dict(_REGISTERED)
