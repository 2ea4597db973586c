"""Wall time of `derive softmax --x "1 2 3"` against `python -c "import sympy"`, measured alternately.

Prints the median of each and their ratio (the issue aims for at most 1.6). The derivation is
measured twice: with stdout piped (plain text) and on a pseudo-terminal (rich styling).
"""

from __future__ import annotations

import os
import pty
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("RUNS", "11"))
PYTHON = sys.executable
REFERENCE = [PYTHON, "-c", "import sympy"]
COMMAND = [PYTHON, "-m", "derive", "softmax", "--x", "1 2 3"]


def _piped(argv) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def _on_terminal(argv) -> float:
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    while True:
        try:
            if not os.read(fd, 65536):
                break
        except OSError:
            break
    os.waitpid(pid, 0)
    return time.perf_counter() - start


def main() -> None:
    for run in (_piped, _on_terminal):
        run(REFERENCE), run(COMMAND)
    timings = {"sympy": [], "piped": [], "terminal": []}
    for _ in range(RUNS):
        timings["sympy"].append(_piped(REFERENCE))
        timings["piped"].append(_piped(COMMAND))
        timings["terminal"].append(_on_terminal(COMMAND))
    base = statistics.median(timings["sympy"])
    print(f"import sympy                      median {base * 1000:7.1f} ms")
    for name in ("piped", "terminal"):
        median = statistics.median(timings[name])
        print(
            f"derive softmax --x '1 2 3' ({name:8}) median {median * 1000:7.1f} ms  ratio {median / base:.2f}"
        )


if __name__ == "__main__":
    main()
