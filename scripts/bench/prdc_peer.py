#!/usr/bin/env python3
"""Peer figures for `cargo bench --bench prdc`: seconds per call of the
prdc package's compute_prdc on the benchmark's points.

The points are those of benches/prdc.rs, in float32 with d = 64:
coordinate c of point i is u(i * 64 + c) for the real set and
0.9 u(2^40 + i * 64 + c) + 0.08 for the fake set, where u(z) is the top 53
bits of SplitMix64's output for z, scaled to [0, 1); n_real = n_fake = n,
and k = 5. prdc builds the full real x
real, fake x fake and real x fake distance matrices with scikit-learn's
pairwise_distances (n_jobs=8) and finds the radii with numpy.argpartition.

Each size runs PRDC_PEER_REPEATS calls (default 3) after one warm-up
call. The script prints the fastest call, the median call, and points
(n_real + n_fake) per second of the fastest call. The fastest call is the
best estimate, because load from other processes on a shared machine only
adds time.

Usage (from the repository root; unset OpenBLAS overrides first):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        /work/venv-metrics/bin/python scripts/bench/prdc_peer.py [N ...]
Default N: 2000 10000.
"""

import contextlib
import importlib.metadata
import io
import os
import statistics
import sys
import time

import numpy as np
import sklearn
from prdc import compute_prdc

DIM = 64
K = 5


def splitmix_uniform(z):
    """SplitMix64's outputs for the uint64 array `z`, as floats in [0, 1)."""
    x = z + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def bench_points(n, first_input, scale, shift):
    inputs = np.arange(n * DIM, dtype=np.uint64) + np.uint64(first_input)
    values = scale * splitmix_uniform(inputs) + shift
    return values.reshape(n, DIM).astype(np.float32)


def time_prdc(n, repeats):
    real = bench_points(n, 0, 1.0, 0.0)
    fake = bench_points(n, 1 << 40, 0.9, 0.08)
    seconds = []
    values = None
    for call in range(repeats + 1):
        started = time.perf_counter()
        # compute_prdc prints the set sizes on every call.
        with contextlib.redirect_stdout(io.StringIO()):
            values = compute_prdc(real_features=real, fake_features=fake, nearest_k=K)
        if call > 0:
            seconds.append(time.perf_counter() - started)
    return values, min(seconds), statistics.median(seconds)


def main():
    sizes = [int(argument) for argument in sys.argv[1:]] or [2000, 10000]
    repeats = int(os.environ.get("PRDC_PEER_REPEATS", "3"))
    print(
        f"prdc {importlib.metadata.version('prdc')}, scikit-learn {sklearn.__version__}, "
        f"NumPy {np.__version__}, {os.cpu_count()} CPUs"
    )
    for n in sizes:
        values, fastest, median = time_prdc(n, repeats)
        rounded = {name: round(float(value), 6) for name, value in values.items()}
        print(
            f"n = {n}, d = {DIM}, k = {K}: {fastest:.3f} s per call (median {median:.3f} s), "
            f"{2 * n / fastest:.4g} points per second; {rounded}"
        )


if __name__ == "__main__":
    main()
