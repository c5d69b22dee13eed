#!/usr/bin/env python3
"""Peer figures for BENCHMARKS.md: the recurrent NTK in the all-pairs,
per-time-step NumPy formulation of the original RNTK code (equal-length
univariate sequences, N x N matrices advanced one time step at a time), and
scikit-learn's KernelPCA on the resulting Gram matrix.

Prints sequence pairs x steps per second for the RNTK (N^2 T / seconds, the
unit of `cargo bench --bench mask`) and seconds per KernelPCA fit.

Usage: python3 scripts/bench/numpy_rntk.py [N] [T] [LAYERS]
"""

import sys
import time

import numpy as np


def relu_duals(s11, s22, s12):
    scale = np.sqrt(np.outer(s11, s22))
    correlation = np.clip(s12 / scale, -1.0, 1.0)
    theta = np.arccos(correlation)
    value = scale * (np.sin(theta) + (np.pi - theta) * np.cos(theta)) / (2 * np.pi)
    derivative = (np.pi - theta) / (2 * np.pi)
    return value, derivative


def rntk(x, layers, sw2=2.0, su2=1.0, sb2=0.01, sh2=0.0, sv2=1.0):
    n, steps = x.shape
    value = [np.eye(n) * sh2 for _ in range(layers)]
    tangent = [np.zeros((n, n)) for _ in range(layers)]
    for t in range(steps):
        below_value = np.outer(x[:, t], x[:, t])
        below_tangent = np.zeros((n, n))
        for layer in range(layers):
            covariance = sw2 * value[layer] + su2 * below_value + sb2
            ntk = covariance + sw2 * tangent[layer] + su2 * below_tangent
            diagonal = np.diag(covariance).copy()
            v, d = relu_duals(diagonal, diagonal, covariance)
            tangent[layer] = d * ntk
            value[layer] = v
            below_value, below_tangent = v, tangent[layer]
    return sv2 * value[-1], sv2 * (value[-1] + tangent[-1])


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    layers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, steps))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        _, ntk = rntk(x, layers)
        best = min(best, time.perf_counter() - start)
    print(f"numpy all-pairs RNTK, N={n}, T={steps}, L={layers}: {best * 1e3:.1f} ms, {n * n * steps / best:.3e} pair-steps/s")

    from sklearn.decomposition import KernelPCA

    for solver in ["dense", "arpack", "randomized"]:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            KernelPCA(n_components=2, kernel="precomputed", eigen_solver=solver, random_state=0).fit(ntk)
            best = min(best, time.perf_counter() - start)
        print(f"scikit-learn KernelPCA ({solver}), N={n}, 2 components: {best * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
