"""Wall time of `derive softmax --example basic` as PDF, HTML and Typst against Markdown, alternated.

Prints the median of each and its ratio to Markdown measured in the same run: what the in-process
Typst compile (and the MathML printer) add to a command a user runs. Files go to a temporary folder.
Usage: RUNS=11 python benchmarks/bench_pdf.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("RUNS", "11"))
FORMATS = ("markdown", "typst", "html", "pdf")


def _run(fmt: str, folder: Path) -> float:
    target = folder / f"softmax.{fmt}"
    argv = [
        sys.executable,
        "-m",
        "derive",
        "softmax",
        "--example",
        "basic",
        "-f",
        fmt,
        "-o",
        str(target),
        "--force",
    ]
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for fmt in FORMATS:
            _run(fmt, folder)
        timings = {fmt: [] for fmt in FORMATS}
        for _ in range(RUNS):
            for fmt in FORMATS:
                timings[fmt].append(_run(fmt, folder))
    base = statistics.median(timings["markdown"])
    for fmt in FORMATS:
        median = statistics.median(timings[fmt])
        print(
            f"derive softmax --example basic -f {fmt:8} median {median * 1000:7.1f} ms  ratio {median / base:.2f}"
        )


if __name__ == "__main__":
    main()
