"""The click type of every option and argument that names a path: ``click.Path``, never empty.

An empty string is no path, but ``Path("")`` is ``.``: ``--figures ""`` wrote the figures into the
current folder and ``--vocab ""`` complained about a folder named ``.``. What the path leads to is
checked where it is used (derive.files for reading, derive.output for writing).
"""

from __future__ import annotations

import click


class PathType(click.Path):
    """``click.Path`` that refuses an empty value with click's one-line usage error."""

    def convert(self, value, param, ctx):
        if isinstance(value, str | bytes) and not value:
            self.fail("expected a path, got an empty string", param, ctx)
        return super().convert(value, param, ctx)


def file() -> PathType:
    return PathType(dir_okay=False)


def folder() -> PathType:
    return PathType(file_okay=False)


def either() -> PathType:
    return PathType()
