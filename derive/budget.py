"""A wall-clock budget on exact work, the guard behind the parser's bound on entries.

The bound keeps every entry small enough for SymPy, but exact forms can still grow from
entries that each pass (sixteen exponentials of 10^1000, say). Past the budget the work is
interrupted and the user gets a one-line InputError naming the inputs, as for any bad input.

A watchdog thread raises ``_Expired`` in the working thread (CPython's asynchronous
exception, delivered between bytecodes), so it works in any thread, never touches signal
handlers, and leaves no pending exception behind once the guarded block has ended.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from derive.errors import InputError

DEFAULT_SECONDS = 20.0  # a 16×16 attention, the largest worked solution, takes ~10 s on a busy machine
VARIABLE = "DERIVE_TIME_LIMIT"

_local = threading.local()
T = TypeVar("T")


class _Expired(BaseException):
    """Raised into the working thread; a BaseException so that no ``except Exception`` eats it."""


def seconds() -> float:
    """The budget: DERIVE_TIME_LIMIT in seconds (0 switches the guard off), else DEFAULT_SECONDS."""
    text = os.environ.get(VARIABLE, "").strip()
    if not text:
        return DEFAULT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86400:
        raise InputError(VARIABLE, f"expected seconds from 0 (no limit) to 86400, got {text[:40]!r}")
    return value


def describe(raw: Mapping[str, Any]) -> str:
    """The inputs as the user gave them, for the error message: ``--x '1e1000 1'``."""
    given = []
    for name, value in raw.items():
        if value is None:
            continue
        text = _written(value)
        text = text if len(text) <= 40 else text[:37] + "..."
        given.append(f"--{name.replace('_', '-')} {text!r}")
    return ", ".join(given) or "the inputs"


def _written(value: Any) -> str:
    """A value as typed: rows split by ';', entries by spaces."""
    if isinstance(value, (list, tuple)):
        nested = any(isinstance(entry, (list, tuple)) for entry in value)
        return ("; " if nested else " ").join(_written(entry) for entry in value)
    return str(value)


class _Alarm:
    """Raises ``_Expired`` in one thread after a delay, unless stopped first."""

    def __init__(self, thread_id: int, delay: float):
        self.thread_id = thread_id
        self.lock = threading.Lock()
        self.running = True
        self.fired = False
        self.timer = threading.Timer(delay, self.fire)
        self.timer.daemon = True

    def _raise(self, exception) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self.thread_id), exception)

    def fire(self) -> None:
        with self.lock:
            if self.running:
                self.fired = True
                self._raise(ctypes.py_object(_Expired))

    def stop(self) -> None:
        """After this returns no _Expired is pending: one already raised is caught by ``guard``."""
        with self.lock:
            self.running = False
            fired = self.fired
        self.timer.cancel()
        if fired:
            self._raise(None)


def within(inputs: str, work: Callable[[], T]) -> T:
    """``work()`` within the budget; past it, InputError naming ``inputs``. Nested calls share one.

    A function rather than a context manager: the alarm is stopped in this frame, so an
    expiry that lands as the work ends is still caught here and never escapes.
    """
    limit = seconds()
    if getattr(_local, "busy", False) or not limit:
        return work()
    alarm = _Alarm(threading.get_ident(), limit)
    _local.busy = True
    try:
        try:
            alarm.timer.start()
            return work()
        finally:
            alarm.stop()
    except _Expired:
        raise InputError(
            inputs,
            f"the exact work took longer than {limit:g} s ({VARIABLE}); smaller entries keep it short",
        ) from None
    finally:
        _local.busy = False
