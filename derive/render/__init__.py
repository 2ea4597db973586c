"""Renderers, and the one registry of output formats read by the CLI, the API and the tests.

Adding a format touches one module here plus its templates, nothing else:

1. Write ``derive/render/<name>.py`` with a subclass of ``derive.render.base.Renderer`` that sets
   ``name``, ``extensions`` (the ``-o`` suffixes that select it, e.g. ``(".typ",)``) and
   ``binary`` (True when ``render`` returns bytes, as PDF does), declares any extra settings in
   ``default_settings``, implements ``render(derivation)`` and one ``visit_<Block>`` method per
   block class (Prose, Equation, Table, Figure); decorate the class with ``@register``.
2. Put its Jinja2 layouts in ``templates/<name>/`` (lay them out with ``self.template(name, **context)``).

Every public module in this package is imported once when the registry is first read, so the
decorator is all it takes: ``derive -f NAME``, ``-o FILE.EXT``, ``derive.render(d, NAME)`` and
the parametrised tests pick the format up. Keep heavy imports (typst, jinja2) inside functions.

The package is callable, so the public spelling ``derive.render(d, "latex")`` is this ``render``.
"""

from __future__ import annotations

import pkgutil
import sys
import types
from functools import cache
from importlib import import_module
from pathlib import Path

from derive.errors import InputError

DEFAULT = "terminal"


@cache
def _load() -> dict:
    from derive.render import base

    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            import_module(f"{__name__}.{module.name}")
    found = base.registered()
    return {name: found[name] for name in sorted(found, key=lambda n: (n != DEFAULT, n))}


def names() -> tuple[str, ...]:
    """Format names, the default (terminal) first."""
    return tuple(_load())


def get(name: str):
    """The renderer class registered as ``name``."""
    formats = _load()
    if name not in formats:
        raise InputError("format", f"unknown format {name!r}; choose from: {', '.join(formats)}")
    return formats[name]


def named_by(path: str | Path) -> str | None:
    """The format whose extensions include the file's suffix (case-insensitive), if any."""
    suffix = Path(path).suffix.lower()
    return next((name for name, renderer in _load().items() if suffix in renderer.extensions), None)


def for_path(path: str | Path) -> str:
    """The format ``-o path`` asks for; an unknown extension is an error naming the known ones."""
    name = named_by(path)
    if name is None:
        suffix = Path(path).suffix
        known = ", ".join(ext for renderer in _load().values() for ext in renderer.extensions)
        shown = f"the unknown extension {suffix!r}" if suffix else "no extension"
        raise InputError("--output", f"{path} has {shown}; use one of {known}, or pass --format")
    return name


def render(derivation, fmt: str, **settings) -> str | bytes:
    """``render(d, "markdown", precision=3)``: text for text formats, bytes for binary ones.

    Settings given here override those the derivation was made with (``derive(..., precision=3)``).
    """
    from derive import budget

    renderer = get(fmt)(**{**derivation.settings, **settings})
    if renderer.binary:  # its text source is rendered within the budget; compiling is not exact work
        return renderer.render(derivation)
    return budget.within(budget.describe(derivation.params), lambda: renderer.render(derivation))


class _CallablePackage(types.ModuleType):
    """``derive.render`` is this package and also, when called, the function ``render`` above."""

    def __call__(self, derivation, fmt: str, **settings) -> str | bytes:
        return render(derivation, fmt, **settings)


sys.modules[__name__].__class__ = _CallablePackage
