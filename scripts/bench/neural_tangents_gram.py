#!/usr/bin/env python3
"""Peer figures for BENCHMARKS.md: neural-tangents computing the infinite-width
NNGP and NTK Gram matrices of a fully connected ReLU network.

For each depth L and input dimension d it times the jitted

    kernel_fn(x1, x2, ("nngp", "ntk"))

of stax.serial(*[Dense(512, W_std=sqrt(2), b_std=0.1), Relu()] * L,
Dense(1, W_std=sqrt(2), b_std=0.1)) in NTK parameterization (where the
kernel does not depend on the width 512), on standard normal inputs x1 (n1 x d) and x2 (n2 x d). After one warm-up call (compile),
it reports the best of several calls, each ended by block_until_ready, as
Gram entries per second (n1 * n2 / seconds). Both Gram matrices count once.

jax chooses float32 or float64 once per process (jax_enable_x64), so the
script runs one child process per dtype.

Usage:
    python3 scripts/bench/neural_tangents_gram.py [--n1 1000] [--n2 1000]
        [--depths 1 5 10] [--dimensions 784 32] [--dtypes float32 float64]
        [--repeats 5]
Requires neural-tangents 0.6.5 with jax 0.4.23 (see
scripts/fixtures/make_ntk_fixtures.py for the install line).
"""

import argparse
import os
import platform
import subprocess
import sys
import time

# neural-tangents imports TensorFlow. This drops part of TensorFlow's import
# logging, but the lines it writes before absl starts logging still appear.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

DTYPES = ["float32", "float64"]


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n1", type=int, default=1000, help="rows of x1 (default 1000)")
    parser.add_argument("--n2", type=int, default=1000, help="rows of x2 (default 1000)")
    parser.add_argument("--depths", type=int, nargs="+", default=[1, 5, 10],
                        help="numbers of hidden layers (default 1 5 10)")
    parser.add_argument("--dimensions", type=int, nargs="+", default=[784, 32],
                        help="input dimensions d (default 784 32)")
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=DTYPES,
                        help="floating-point types, one child process each (default both)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="number of timed calls after the warm-up, of which the fastest counts (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs (default 0)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_child(arguments, dtype):
    """Run this script for one dtype in a fresh process and return its exit status."""
    command = [
        sys.executable, __file__, "--child", "--dtypes", dtype,
        "--n1", str(arguments.n1), "--n2", str(arguments.n2),
        "--depths", *map(str, arguments.depths),
        "--dimensions", *map(str, arguments.dimensions),
        "--repeats", str(arguments.repeats), "--seed", str(arguments.seed),
    ]
    return subprocess.run(command, check=False).returncode


def best_seconds(function, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def benchmark(arguments, dtype):
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")

    import jax.numpy as jnp
    import neural_tangents
    import numpy as np
    from neural_tangents import stax

    print(f"{dtype}: neural-tangents {neural_tangents.__version__}, jax {jax.__version__}, "
          f"numpy {np.__version__}, devices {jax.devices()}")
    sys.stdout.flush()

    rng = np.random.default_rng(arguments.seed)
    for dimension in arguments.dimensions:
        x1 = jnp.asarray(rng.standard_normal((arguments.n1, dimension)), dtype=dtype)
        x2 = jnp.asarray(rng.standard_normal((arguments.n2, dimension)), dtype=dtype)
        for depth in arguments.depths:
            hidden = [stax.Dense(512, W_std=2**0.5, b_std=0.1), stax.Relu()]
            _, _, kernel_fn = stax.serial(*(hidden * depth), stax.Dense(1, W_std=2**0.5, b_std=0.1))
            compiled = jax.jit(kernel_fn, static_argnames="get")

            def compute():
                return jax.block_until_ready(compiled(x1, x2, get=("nngp", "ntk")))

            kernels = compute()
            assert kernels.ntk.dtype == jnp.dtype(dtype), kernels.ntk.dtype
            seconds = best_seconds(compute, arguments.repeats)
            rate = arguments.n1 * arguments.n2 / seconds
            print(f"relu ntk-param {dtype} d = {dimension:4d} L = {depth:2d}: "
                  f"{seconds * 1e3:9.2f} ms  {rate:.3e} Gram entries/s")
            sys.stdout.flush()


def main():
    arguments = parse_arguments()
    if not arguments.child:
        print(f"machine: {platform.platform()}, {cpu_model()}, {os.cpu_count()} logical CPUs")
        print(f"n1 = {arguments.n1}, n2 = {arguments.n2}, best of {arguments.repeats} "
              f"after one warm-up call")
        sys.stdout.flush()
    if len(arguments.dtypes) == 1:
        benchmark(arguments, arguments.dtypes[0])
        return
    failed = [dtype for dtype in arguments.dtypes if run_child(arguments, dtype) != 0]
    if failed:
        sys.exit(f"benchmark failed for {', '.join(failed)}")


if __name__ == "__main__":
    main()
