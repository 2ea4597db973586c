"""Atomic writes that never overwrite without --force."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from derive.errors import InputError, OutputError


def write_atomic(path: str | Path, data: str | bytes, force: bool = False, option: str = "--output") -> Path:
    """Write to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    if target.exists() and not force:
        raise InputError(option, f"{target} exists; pass --force to overwrite it")
    if target.is_dir():
        raise InputError(option, f"{target} is a directory")
    directory = target.parent
    if not directory.is_dir():
        raise InputError(option, f"folder {directory} does not exist")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OutputError(f"{option}: could not write {target}: {error.strerror}") from None
    return target
