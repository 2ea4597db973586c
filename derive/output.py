"""Atomic writes that never overwrite without --force, not even when two runs race.

``check_target`` refuses a bad target before anything is computed or written; ``write_atomic``
writes a temporary file beside the target and then either links it into place (``os.link``
fails when the name exists, so the no-clobber test and the write are one atomic step) or,
with ``--force``, renames it over the old file. Only regular files are ever replaced.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

from derive import visible
from derive.errors import InputError, OutputError
from derive.files import shown

_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS}


def check_name(path: str | Path, option: str) -> Path:
    """A name derive may give a new file or folder: no NUL (no file system takes one) and no hidden
    character (derive.visible: a line break, an escape sequence, undecodable bytes), which would
    make a file that is hard to see, type or delete; the folders above it are the user's own."""
    target = Path(path)
    if "\x00" in str(target):
        raise InputError(option, f"{shown(target)} contains a NUL character, which no file name can hold")
    visible.label(target.name, option, "a new file's name")
    return target


def check_target(path: str | Path, force: bool = False, option: str = "--output") -> Path:
    """The target, if writing it can go ahead: its folder exists, and it is new or, with
    ``force``, an existing regular file (never a folder, device, FIFO or socket)."""
    target = check_name(path, option)
    try:
        exists = target.exists()
        if exists and not target.is_file():
            kind = "a folder" if target.is_dir() else "not a regular file"
            raise InputError(option, f"{shown(target)} is {kind}; refusing to replace it")
        if exists and not force:
            raise InputError(option, f"{shown(target)} exists; pass --force to overwrite it")
        if not target.parent.is_dir():
            raise InputError(option, f"folder {shown(target.parent)} does not exist")
        check_writable(target.parent, option)
    except OSError as error:
        raise InputError(option, f"{shown(target)}: {error.strerror or error}") from None
    return target


def check_writable(folder: str | Path, option: str) -> None:
    """Refuse, before any work, a folder this user cannot make files in (root passes this test
    everywhere; a folder that refuses root fails later, at the write, with the same kind of line)."""
    effective = os.access in os.supports_effective_ids  # the ids the write will run with
    if not os.access(folder, os.W_OK | os.X_OK, effective_ids=effective):
        raise InputError(option, f"folder {shown(folder)} is not writable (no new file can be made in it)")


def write_atomic(path: str | Path, data: str | bytes, force: bool = False, option: str = "--output") -> Path:
    """Write ``data`` to ``path`` completely or not at all; an existing file needs ``force``."""
    target = check_target(path, force, option)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".derive-", suffix=".tmp")
    except OSError as error:
        raise OutputError(f"{option}: could not write {shown(target)}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(temporary, 0o644)
        if force:
            check_target(target, force, option)
            os.replace(temporary, target)
        else:
            _link_new(temporary, target, payload, option)
    except OSError as error:
        raise OutputError(f"{option}: could not write {shown(target)}: {error.strerror or error}") from None
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def _link_new(temporary: str, target: Path, payload: bytes, option: str) -> None:
    """Give the finished file its name only if the name is still free, atomically."""
    try:
        os.link(temporary, target)
        return
    except FileExistsError:
        raise InputError(option, f"{shown(target)} exists; pass --force to overwrite it") from None
    except OSError as error:
        if error.errno not in _NO_HARD_LINKS:
            raise
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise InputError(option, f"{shown(target)} exists; pass --force to overwrite it") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
