"""The worksheet folder: every file made in memory first, then put in place in one rename.

A folder that exists and is not empty is refused without --force; with --force it is replaced
only if it is a worksheet folder (it has a manifest.json), so a mistyped --out cannot wipe
unrelated files.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
from pathlib import Path

from derive.errors import InputError, OutputError
from derive.files import shown
from derive.output import check_name, check_writable
from derive.worksheet import answers, classroom, layout, manifest, pages, parts
from derive.worksheet.spec import Spec, Student


def check_target(out: Path, force: bool) -> None:
    """Refuse a target we may not write, before any work is done."""
    check_name(out, "--out")
    try:
        _check_folder(out, force)
    except OSError as error:  # a name too long for the file system, say
        raise InputError("--out", f"{shown(out)}: {error.strerror or error}") from None


def _check_folder(out: Path, force: bool) -> None:
    if os.path.lexists(out) and not out.is_dir():  # a dangling link too: it would fail at the end
        raise InputError("--out", f"{shown(out)} exists and is not a folder")
    if not out.parent.is_dir():
        raise InputError("--out", f"folder {shown(out.parent)} does not exist")
    check_writable(out.parent, "--out")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise InputError("--out", f"{shown(out)} is not empty; pass --force to replace it")
        if not (out / "manifest.json").is_file():
            raise InputError(
                "--out", f"{shown(out)} is not a worksheet folder (no manifest.json); choose another --out"
            )


def files(spec: Spec, students: tuple[Student, ...], duplex: bool = False) -> dict[str, bytes]:
    """Relative path -> content: the PDFs, the answer files and the manifest; with ``duplex`` the
    class PDFs are padded to start every student on a new sheet of paper (derive.worksheet.pages).

    The problems' parts come from derive.worksheet.parts (a worker per problem where cores
    allow). Two Typst compiles, the class's keys (the longer) and sheets, run in threads (Typst
    releases the GIL) while the answer files and the manifest are made and the first PDF is cut
    into each student's (derive.worksheet.pages); the bytes are those of doing it all in turn."""
    with _without_collections():
        return _made(spec, students, duplex)


@contextlib.contextmanager
def _without_collections():
    """No cyclic garbage collection while a worksheet is made: it allocates millions of short-lived
    objects (SymPy's, the layout's) and few cycles, and Python's collections of young objects, every
    700 allocations, cost this process about a tenth of its time (the workers inherit the setting)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _made(spec: Spec, students: tuple[Student, ...], duplex: bool) -> dict[str, bytes]:
    from concurrent.futures import ThreadPoolExecutor

    from derive.typst_compile import compile_pdf

    rows = list(zip(*parts.columns(spec, students, meanwhile=_load_the_rest))) or [() for _ in students]
    people = [(student, classroom.sheet_id(spec, student), row) for student, row in zip(students, rows)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        keys = [layout.key_page(spec, s, ident, [p.key for p in row]) for s, ident, row in people]
        compiling = {"keys": pool.submit(compile_pdf, layout.document("key", keys))}
        sheets = [layout.sheet_page(spec, s, ident, [p.sheet for p in row]) for s, ident, row in people]
        compiling["sheets"] = pool.submit(compile_pdf, layout.document("sheet", sheets))
        made = {
            f"answers/{s.id}.toml": answers.assembled(spec, s, ident, [p.answers for p in row]).encode(
                "utf-8"
            )
            for s, ident, row in people
        }
        entries = [(s, ident, [p.manifest for p in row]) for s, ident, row in people]
        made["manifest.json"] = manifest.text(manifest.assembled(spec, entries)).encode("utf-8")
        for kind in ("sheets", "keys"):
            whole = compiling[kind].result()
            made[f"{kind}.pdf"] = pages.for_duplex(whole, len(students)) if duplex else whole
            for student, part in zip(students, pages.split(whole, len(students))):
                made[f"{kind}/{student.id}.pdf"] = part
    return made


def _load_the_rest() -> None:
    """The libraries and templates used after the problems are made, loaded while workers make them."""
    from importlib import import_module

    from derive.render.templates import environment

    for name in ("typst", "pikepdf", "segno"):
        import_module(name)
    for template in ("document.typ.j2", "sheet.typ.j2", "key.typ.j2"):
        environment("worksheet").get_template(template)


def write(out: Path, made: dict[str, bytes], force: bool) -> None:
    """Write into a fresh sibling folder, then rename it into place (the old one goes only after)."""
    check_target(out, force)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name[:40]}.", suffix=".tmp", dir=out.parent))
    except OSError as error:
        raise OutputError(f"--out: could not write {shown(out)}: {error.strerror or error}") from None
    old = None
    try:
        for relative, data in made.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, 0o644)
        os.chmod(staging, 0o755)
        if out.is_dir() and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name[:40]}.", suffix=".old", dir=out.parent))
            os.replace(out, old / out.name)
        elif out.is_dir():
            out.rmdir()
        os.replace(staging, out)
    except BaseException as error:  # Ctrl-C included: no half-written folder, the old one put back
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            if not out.exists() and (old / out.name).exists():
                with contextlib.suppress(OSError):
                    os.replace(old / out.name, out)
            shutil.rmtree(old, ignore_errors=True)
        if isinstance(error, OSError):
            raise OutputError(f"--out: could not write {shown(out)}: {error.strerror or error}") from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
