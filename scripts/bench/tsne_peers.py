#!/usr/bin/env python3
"""Peer figures for `cargo bench --bench tsne`: seconds per t-SNE iteration
of scikit-learn and openTSNE on the benchmark's distance matrix.

The points are x[i, k] = sin(0.37 i + 1.9 k) + 3 (i mod 2) in 10
dimensions, as in benches/tsne.rs, and every method gets their float32
Euclidean distances as a precomputed matrix with perplexity 30.

Only the iterations are timed, not the affinity calibration or other
set-up, as in the Rust benchmark. Each method runs 500 iterations, and its
progress is timed in intervals. The figure is the fastest interval divided
by its iterations, with the median interval in brackets. The fastest
interval is the best estimate, because load from other processes on a
shared machine only adds time.

- scikit-learn TSNE(method="exact") and TSNE(method="barnes_hut",
  angle=0.5) with verbose=2, which prints the seconds of every 50
  iterations (one of which also evaluates the KL divergence).
- openTSNE (1.0.4) has no separate exact method. Its documentation says
  that Barnes-Hut with theta=0 makes no approximation, so the repulsive
  forces sum all pairs through the tree; theta=0.5 is the usual setting.
  Both use openTSNE's sparse k-nearest-neighbour affinities
  (3 * perplexity neighbours), so their attractive forces cost less than
  an exact dense P. A callback every 10 iterations records the time (and
  makes openTSNE evaluate the KL divergence in that iteration); one
  thread (n_jobs=1).

Usage (from the repository root; unset OpenBLAS overrides first):
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        /work/venv-tsne/bin/python scripts/bench/tsne_peers.py [N ...]
Default N: 1000.
"""

import contextlib
import io
import os
import re
import sys
import time

import numpy as np
import openTSNE
import sklearn
from scipy.spatial.distance import pdist, squareform
from sklearn.manifold import TSNE

PERPLEXITY = 30.0


def bench_distances(n):
    i = np.arange(n, dtype=np.float64)[:, None]
    k = np.arange(10, dtype=np.float64)[None, :]
    points = np.sin(0.37 * i + 1.9 * k) + 3.0 * (i % 2)
    return squareform(pdist(points)).astype(np.float32)


def per_iteration(intervals):
    """Return the fastest and the median seconds per iteration of a list of
    (iterations, seconds) intervals."""
    rates = sorted(seconds / iterations for iterations, seconds in intervals)
    return rates[0], rates[len(rates) // 2]


def sklearn_per_iteration(distances, method):
    output = io.StringIO()
    tsne = TSNE(
        metric="precomputed",
        method=method,
        init="random",
        perplexity=PERPLEXITY,
        max_iter=500,
        random_state=0,
        verbose=2,
    )
    with contextlib.redirect_stdout(output):
        tsne.fit(distances.copy())
    intervals = [
        (int(iterations), float(seconds))
        for iterations, seconds in re.findall(r"\((\d+) iterations in ([0-9.]+)s\)", output.getvalue())
    ]
    return per_iteration(intervals)


def opentsne_per_iteration(distances, theta):
    affinities = openTSNE.affinity.PerplexityBasedNN(distances, perplexity=PERPLEXITY, metric="precomputed", random_state=0)
    start = openTSNE.initialization.random(distances.shape[0], random_state=0)
    times = []

    def record_time(iteration, error, embedding):
        times.append(time.perf_counter())
        return False

    embedding = openTSNE.TSNEEmbedding(start, affinities, negative_gradient_method="bh", theta=theta, n_jobs=1, random_state=0)
    times.append(time.perf_counter())
    embedding.optimize(n_iter=500, exaggeration=12, momentum=0.5, callbacks=[record_time], callbacks_every_iters=10)
    return per_iteration([(10, later - earlier) for earlier, later in zip(times, times[1:])])


def main():
    sizes = [int(s) for s in sys.argv[1:]] or [1000]
    print(f"scikit-learn {sklearn.__version__}, openTSNE {openTSNE.__version__}, NumPy {np.__version__}, "
          f"{os.cpu_count()} CPUs")
    try:
        import threadpoolctl

        print("thread pools:", [(p["internal_api"], p["num_threads"]) for p in threadpoolctl.threadpool_info()])
    except ImportError:
        pass
    for n in sizes:
        distances = bench_distances(n)
        for name, function in [
            ("scikit-learn exact", lambda: sklearn_per_iteration(distances, "exact")),
            ("scikit-learn barnes_hut (angle 0.5)", lambda: sklearn_per_iteration(distances, "barnes_hut")),
            ("openTSNE bh theta=0 (all pairs)", lambda: opentsne_per_iteration(distances, 0.0)),
            ("openTSNE bh theta=0.5", lambda: opentsne_per_iteration(distances, 0.5)),
        ]:
            fastest, median = function()
            print(f"n = {n:5d}  {name:38s} {fastest * 1e3:9.3f} ms per iteration (median {median * 1e3:.3f})", flush=True)


if __name__ == "__main__":
    main()
