"""The worksheet folder: every file made in memory first, then put in place in one rename.

A folder that exists and is not empty is refused without --force; with --force it is replaced
only if it is a worksheet folder (it has a manifest.json), so a mistyped --out cannot wipe
unrelated files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from derive.errors import InputError, OutputError
from derive.worksheet import answers, layout, manifest, pages
from derive.worksheet.classroom import Sheet
from derive.worksheet.spec import Spec


def check_target(out: Path, force: bool) -> None:
    """Refuse a target we may not write, before any work is done."""
    if out.exists() and not out.is_dir():
        raise InputError("--out", f"{out} exists and is not a folder")
    if not out.parent.is_dir():
        raise InputError("--out", f"folder {out.parent} does not exist")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise InputError("--out", f"{out} is not empty; pass --force to replace it")
        if not (out / "manifest.json").is_file():
            raise InputError(
                "--out", f"{out} is not a worksheet folder (no manifest.json); choose another --out"
            )


def files(spec: Spec, sheets: tuple[Sheet, ...]) -> dict[str, bytes]:
    """Relative path -> content: the PDFs, the answer files and the manifest.

    Two Typst compiles, the class's keys (the longer) and sheets, run in threads (Typst releases
    the GIL) while the answer files and the manifest are made and the first PDF is cut into each
    student's (derive.worksheet.pages); the bytes are those of doing it all one step after another."""
    from concurrent.futures import ThreadPoolExecutor

    from derive.typst_compile import compile_pdf

    with ThreadPoolExecutor(max_workers=2) as pool:
        compiling = {
            "keys": pool.submit(
                compile_pdf, layout.document("key", [layout.key_context(spec, s) for s in sheets])
            ),
            "sheets": pool.submit(
                compile_pdf, layout.document("sheet", [layout.sheet_context(spec, s) for s in sheets])
            ),
        }
        made = {f"answers/{s.student.id}.toml": answers.render(spec, s).encode("utf-8") for s in sheets}
        made["manifest.json"] = manifest.render(spec, sheets).encode("utf-8")
        for kind in ("sheets", "keys"):
            made[f"{kind}.pdf"] = whole = compiling[kind].result()
            for sheet, part in zip(sheets, pages.split(whole, len(sheets))):
                made[f"{kind}/{sheet.student.id}.pdf"] = part
    return made


def write(out: Path, made: dict[str, bytes], force: bool) -> None:
    """Write into a fresh sibling folder, then rename it into place (the old one goes only after)."""
    check_target(out, force)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        for relative, data in made.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            os.chmod(path, 0o644)
        os.chmod(staging, 0o755)
        old = None
        if out.is_dir() and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / out.name)
        elif out.is_dir():
            out.rmdir()
        os.replace(staging, out)
        if old is not None:
            shutil.rmtree(old)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"--out: could not write {out}: {error.strerror or error}") from None
