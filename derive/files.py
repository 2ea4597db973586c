"""Reading a file a user names (a spec, a roster, answers, a corpus, word vectors).

Only a regular file is read: a FIFO would block forever and a device never ends. The file is
opened without blocking and checked on the open descriptor, so what is read is what was checked.
Errors are ``OSError`` like ``Path.read_text``'s, so each caller keeps its own one-line message.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


def read_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """The file's bytes (at most ``limit`` + 1 of them, so a caller can tell it is too large)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", os.fspath(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb") as file:
            fd = None
            return file.read() if limit is None else file.read(limit + 1)
    finally:
        if fd is not None:
            os.close(fd)


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """``Path.read_text`` for a regular file only (UnicodeDecodeError as it raises it)."""
    return read_bytes(path).decode(encoding)
