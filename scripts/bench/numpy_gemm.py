#!/usr/bin/env python3
"""Peer figures for BENCHMARKS.md: NumPy float32 matrix products (A @ B and
A @ B.T) at the sizes of `cargo bench --bench gemm`, in GFLOP/s (2 n^3
operations per product), best of several runs.

Usage: python3 scripts/bench/numpy_gemm.py [SIZE ...]
"""

import sys
import time

import numpy as np


def best_seconds(function, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [128, 256, 512]
    try:
        import threadpoolctl

        print("BLAS:", [(p["internal_api"], p.get("architecture"), p["num_threads"]) for p in threadpoolctl.threadpool_info()])
    except ImportError:
        print("BLAS: (install threadpoolctl to print the BLAS in use)")
    rng = np.random.default_rng(1)
    for size in sizes:
        a = rng.random((size, size), dtype=np.float32)
        b = rng.random((size, size), dtype=np.float32)
        repeats = max(3, int(2e9 / (2 * size**3)))
        for name, function in [("plain", lambda: a @ b), ("gram", lambda: a @ b.T)]:
            seconds = best_seconds(function, repeats)
            print(f"numpy {name:5s} {size:5d}: {seconds * 1e3:9.3f} ms  {2 * size**3 / seconds / 1e9:8.2f} GFLOP/s")


if __name__ == "__main__":
    main()
