"""Quiz files a course site imports, made from a worksheet folder: Moodle XML, GIFT and a QTI 1.2 zip.

``quiz.py`` reads the folder's manifest into questions (values, tolerances, misconception answers);
each format is one module with ``render(quiz) -> bytes``.
"""

from __future__ import annotations

from importlib import import_module

FORMATS = ("moodle", "gift", "qti")


def export(folder, to: str) -> bytes:
    """The quiz file for a worksheet folder in format ``to`` (one of ``FORMATS``)."""
    from derive.export import quiz

    return import_module(f"{__name__}.{to}").render(quiz.load(folder))
