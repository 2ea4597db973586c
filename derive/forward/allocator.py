"""Keep freed activations in the process, so a forward pass does not pay a page fault per 4 KiB.

glibc's malloc hands every freed block above its trim threshold (128 KiB to a few MiB, adjusted as
it goes) back to the kernel, and the next activation of that size is mapped afresh: one minor page
fault per 4 KiB page. A MiniLM forward pass at 128 tokens allocates about 45 MB of activations
and took 11,000 faults, a third of its time at one thread on a virtual machine. Raising the two
thresholds once keeps up to MAX_KEPT bytes of freed heap for reuse. Other C libraries (musl, macOS)
have no mallopt and are left alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
MAX_KEPT = 64 << 20  # freed heap kept for reuse
MMAP_THRESHOLD = 32 << 20  # blocks above this still come from mmap (glibc's own dynamic maximum)


@functools.cache
def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds once per process; False where there is no glibc."""
    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, MAX_KEPT))
