"""Reading a file or folder a user names: one rule for every path option and argument.

Only a regular file is read: a FIFO would block forever and a device never ends. The file is
opened without blocking and checked on the open descriptor, so what is read is what was checked,
and it is read under a size cap, so memory stays bounded. Whatever goes wrong, from a name too
long for the file system to a read that fails half way (``/proc/self/mem``), is one InputError
naming the option, with the path shortened to a line (messages are escaped where they are shown).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from derive.errors import InputError

SHOWN_WIDTH = 80


def shown(path: str | os.PathLike) -> str:
    """The path as a message quotes it: a long one keeps its start and its end (the file's name)."""
    text = os.fspath(path)
    if len(text) <= SHOWN_WIDTH:
        return text
    half = SHOWN_WIDTH // 2 - 1
    return f"{text[:half]}…{text[-half:]}"


def _size(limit: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if limit >= scale and limit % scale == 0:
            return f"{limit // scale} {unit}"
    return f"{limit} bytes"


def _refusal(path: str | os.PathLike, option: str, error: OSError | ValueError) -> InputError:
    """The one-line error for a path the operating system refused (or could not even encode)."""
    if isinstance(error, ValueError):  # an embedded NUL: no file can be named so
        return InputError(option, f"{shown(path)} is not a possible file name ({error})")
    if error.errno == errno.ENOENT:
        return InputError(option, f"{shown(path)} does not exist")
    return InputError(option, f"cannot read {shown(path)}: {error.strerror or error}")


def status(path: str | os.PathLike, option: str) -> os.stat_result | None:
    """What is at ``path`` (symbolic links followed), or None if nothing is (a dangling link
    included); any other failure (a name too long, a file used as a folder) is an InputError."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise _refusal(path, option, error) from None


def exists(path: str | os.PathLike, option: str) -> bool:
    """Whether something is at ``path``: ``Path.exists`` with every failure but 'nothing there'
    an InputError (``Path.exists`` raises on a name too long, for one)."""
    return status(path, option) is not None


def folder(path: str | os.PathLike, option: str) -> Path:
    """``path`` if it is a folder that can be listed, else an InputError."""
    found = status(path, option)
    if found is None:
        raise InputError(option, f"{shown(path)} does not exist")
    if not stat.S_ISDIR(found.st_mode):
        raise InputError(option, f"{shown(path)} is not a folder")
    try:
        with os.scandir(path):
            pass
    except OSError as error:
        raise _refusal(path, option, error) from None
    return Path(path)


@contextlib.contextmanager
def open_regular(path: str | os.PathLike, option: str, limit: int):
    """A binary file object for a regular file of at most ``limit`` bytes; an error while it is
    read (EIO, a file on a vanished mount) is the same one-line InputError as one on opening."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError) as error:
        raise _refusal(path, option, error) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(option, f"{shown(path)} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(
                option, f"{shown(path)} is not a file (a device, FIFO or socket; only regular files are read)"
            )
        if info.st_size > limit:
            raise InputError(option, f"{shown(path)} is larger than {_size(limit)} ({info.st_size} bytes)")
        os.set_blocking(fd, True)
        file = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        try:
            yield file
        except OSError as error:
            raise _refusal(path, option, error) from None


def read_bytes(path: str | os.PathLike, option: str, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes."""
    chunks, total = [], 0
    with open_regular(path, option, limit) as file:
        want = os.fstat(file.fileno()).st_size + 1  # read(n) allocates n bytes: ask for what is there
        while total <= limit:
            chunk = file.read(min(want, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 16  # it grew while being read, or its size said 0 (/proc)
    if total > limit:
        raise InputError(option, f"{shown(path)} is larger than {_size(limit)}")
    return b"".join(chunks)


def read_text(path: str | os.PathLike, option: str, limit: int, encoding: str = "utf-8") -> str:
    """A text file (``utf-8-sig`` drops a byte-order mark, as spreadsheets write one)."""
    try:
        return read_bytes(path, option, limit).decode(encoding)
    except UnicodeDecodeError:
        raise InputError(option, f"{shown(path)} is not UTF-8 text") from None
