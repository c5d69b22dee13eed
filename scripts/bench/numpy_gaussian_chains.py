#!/usr/bin/env python3
"""Peer figure for BENCHMARKS.md: one generation of 256 Gaussian
self-consuming chains in NumPy, vectorised over chains (draw 100 points in
16 dimensions from each chain's Gaussian through its Cholesky factor, then
refit the unbiased mean and covariance), best of several runs.

Usage: python3 scripts/bench/numpy_gaussian_chains.py [CHAINS] [N] [D]
"""

import sys
import time

import numpy as np


def generation(rng, means, covariances, n):
    factors = np.linalg.cholesky(covariances)
    noise = rng.standard_normal((means.shape[0], n, means.shape[1]))
    samples = means[:, None, :] + noise @ factors.transpose(0, 2, 1)
    new_means = samples.mean(axis=1)
    centred = samples - new_means[:, None, :]
    new_covariances = centred.transpose(0, 2, 1) @ centred / (n - 1)
    return new_means, new_covariances


def main():
    chains = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    d = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    rng = np.random.default_rng(0)
    means = np.zeros((chains, d))
    covariances = np.broadcast_to(np.eye(d), (chains, d, d)).copy()
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        generation(rng, means, covariances, n)
        best = min(best, time.perf_counter() - start)
    print(f"numpy, {chains} chains, n={n}, d={d}: {best * 1e3:.2f} ms per generation")


if __name__ == "__main__":
    main()
