"""Topics register themselves by living in ``derive/topics``; nothing else lists them."""

from __future__ import annotations

import pkgutil
from importlib import import_module

from derive import topics as _package
from derive.errors import InputError


def names() -> list[str]:
    """Topic names, found without importing the topic modules (keeps start-up fast)."""
    found = pkgutil.iter_modules(_package.__path__)
    return sorted(m.name.replace("_", "-") for m in found if not m.name.startswith("_"))


def get(name: str):
    if name not in names():
        raise InputError("TOPIC", f"unknown topic {name!r}; try one of: {', '.join(names())}")
    return import_module(f"derive.topics.{name.replace('-', '_')}").TOPIC


def all_topics():
    return [get(name) for name in names()]
