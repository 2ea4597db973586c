"""Renderers: each turns a format-neutral Derivation into one output format.

Dispatch is by name, and an unknown format or block kind fails loudly.
"""

from __future__ import annotations

from importlib import import_module

FORMATS = ("terminal", "markdown", "latex", "json")


def render(derivation, fmt: str, **settings) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return import_module(f"derive.render.{fmt}").render(derivation, **settings)
