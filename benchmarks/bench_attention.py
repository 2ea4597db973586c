"""Exact attention at 2, 4, 8 and 16 tokens × 8 dims (small integer entries), JSON and terminal.

Each size is timed as a subprocess, alternating with `derive softmax --x "1 2 3"` (the start-up
reference measured in the same run); the time beyond start-up is the median difference. Wall time
and the child's CPU time (user + system, steadier on a shared machine) are both printed. The issue
aims for at most 1 s beyond start-up at 8 tokens (JSON).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

RUNS = int(os.environ.get("RUNS", "5"))
SIZES = tuple(int(n) for n in os.environ.get("SIZES", "2 4 8 16").split())
DIMS = 8
PYTHON = sys.executable
REFERENCE = [PYTHON, "-m", "derive", "softmax", "--x", "1 2 3"]


def _matrix(rng, rows: int, cols: int) -> str:
    return "; ".join(" ".join(str(int(e)) for e in rng.integers(-2, 3, cols)) for _ in range(rows))


def command(tokens: int, fmt: str) -> list[str]:
    rng = np.random.default_rng(tokens)
    x = _matrix(rng, tokens, DIMS)
    weights = [_matrix(rng, DIMS, DIMS) for _ in range(3)]
    args = ["--x", x, "--wq", weights[0], "--wk", weights[1], "--wv", weights[2], "-f", fmt]
    return [PYTHON, "-m", "derive", "attention", *args]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _seconds(argv) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    env = {**os.environ, "COLUMNS": "80"}
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    _seconds(REFERENCE)
    reference: list[tuple[float, float]] = []
    print(
        f"{'tokens':>6}  {'format':8}  {'wall':>7}  {'beyond':>7}  {'ratio':>5}  {'CPU':>7}  {'beyond':>7}  {'ratio':>5}"
    )
    for tokens in SIZES:
        for fmt in ("json", "terminal"):
            argv, times = command(tokens, fmt), []
            for _ in range(RUNS):
                reference.append(_seconds(REFERENCE))
                times.append(_seconds(argv))
            cells = []
            for k in (0, 1):
                base = statistics.median(r[k] for r in reference)
                median = statistics.median(t[k] for t in times)
                cells.append(f"{median:6.2f}s  {median - base:6.2f}s  {median / base:5.2f}")
            print(f"{tokens:>6}  {fmt:8}  " + "  ".join(cells))
    wall, cpu = (statistics.median(r[k] for r in reference) for k in (0, 1))
    print(f"start-up reference (derive softmax --x '1 2 3'): median wall {wall:.2f}s, CPU {cpu:.2f}s")


if __name__ == "__main__":
    main()
