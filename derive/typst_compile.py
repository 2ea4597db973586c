"""Compile Typst source to PDF safely, offline and byte-for-byte reproducibly.

``compile_pdf(source, files)`` is the one entry point (the renderers and worksheets use it):

- a fresh ``typst.compile`` call each time: a ``typst.Compiler`` object is never reused,
  because one that has failed once is not to be trusted again;
- a private temporary root holding only ``main.typ`` and the ``files`` we were given; names
  are plain file names, nothing is followed through a symlink (they escape Typst's sandbox);
- no packages: ``import "@..."`` is refused and Typst's package folders point at an empty
  directory, so nothing is downloaded or read from a user's cache;
- only the fonts embedded in the typst wheel (Libertinus Serif, New Computer Modern (Math),
  DejaVu Sans Mono); system fonts are ignored so output is the same on every machine;
- no date: the document date is set to ``none`` and the creation timestamp pinned, so two runs
  give identical bytes.

``typst`` is imported here, lazily, on the first compile.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from derive.errors import DeriveError

_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PACKAGE_IMPORT = re.compile(r'\b(?:import|include)\s*"@')
_PREAMBLE = "#set document(date: none)\n"
_TIMESTAMP = 0  # 1970-01-01, used only if a document asks for the date; ours set it to none


class TypstCompileError(DeriveError):
    """Typst rejected the source (or it asked for something we refuse): one line for the CLI."""


def compile_pdf(source: str, files: Mapping[str, bytes] | None = None) -> bytes:
    """The PDF for ``source``; ``files`` (plain name -> bytes) are the images it may read."""
    if _PACKAGE_IMPORT.search(source):
        raise TypstCompileError('typst: packages (import "@...") are not allowed')
    if "main.typ" in (files or {}):
        raise TypstCompileError("typst: main.typ is the source itself")
    with tempfile.TemporaryDirectory(prefix="derive-typst-") as temporary:
        root = Path(temporary).resolve() / "root"
        empty = Path(temporary).resolve() / "packages"
        root.mkdir(mode=0o700)
        empty.mkdir(mode=0o700)
        for name, data in {**(files or {}), "main.typ": (_PREAMBLE + source).encode("utf-8")}.items():
            _write_new(root, name, data)
        _refuse_links(root)
        return _run_typst(root / "main.typ", root, empty)


def _write_new(root: Path, name: str, data: bytes) -> None:
    """Create ``root/name`` afresh; never through a link, never outside ``root``."""
    if not _PLAIN_NAME.match(name):
        raise TypstCompileError(f"typst: refusing file name {name!r}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(root / name, flags, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _refuse_links(root: Path) -> None:
    for entry in root.iterdir():
        if not stat.S_ISREG(entry.lstat().st_mode):
            raise TypstCompileError(f"typst: {entry.name} is not a regular file")


def _run_typst(main: Path, root: Path, empty: Path) -> bytes:
    import typst

    try:
        return typst.compile(
            str(main),
            root=str(root),
            font_paths=[],
            ignore_system_fonts=True,
            format="pdf",
            timestamp=_TIMESTAMP,
            package_path=str(empty),
            package_cache_path=str(empty),
        )
    except typst.TypstError as error:
        raise TypstCompileError(f"typst: {_one_line(error)}") from None


def _one_line(error) -> str:
    message = getattr(error, "message", "") or str(error)
    return " ".join(message.split())


__all__ = ["compile_pdf", "TypstCompileError"]
