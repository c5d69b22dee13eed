#!/usr/bin/env python3
"""Time scikit-image's radon and iradon, the peers of `cargo bench --bench ct`.

For each image side (default 256 and 512) and 180 angles over [0, 180):
- radon: skimage.transform.radon(image, theta, circle=True), the map that
  maso's `Radon::forward` reproduces;
- backprojection: iradon(sinogram, theta, filter_name=None, circle=True),
  unfiltered back-projection with linear interpolation, the nearest
  scikit-image operation to maso's `Radon::adjoint` (which is the exact
  transpose of radon and so interpolates bilinearly instead);
- iradon_ramp: iradon(sinogram, theta, filter_name="ramp", circle=True), the
  peer of `filtered_back_projection` with `FbpFilter::Ramp`.
The image is scikit-image's 400 x 400 phantom resized to the side, in
float64 (scikit-image converts float32 input to float64 anyway). Each figure
is the best of --repeats runs; projections per second = 180 / seconds.

Run from the repository root:
    /work/venv-ct/bin/python scripts/bench/ct_skimage.py [--sizes 256 512] [--repeats 3]
"""

import argparse
import time
import warnings

import numpy as np
import skimage
import skimage.data
import skimage.transform

ANGLES = 180


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    print(f"scikit-image {skimage.__version__}, NumPy {np.__version__}, {ANGLES} angles, best of {args.repeats}")
    theta = np.linspace(0, 180, ANGLES, endpoint=False)
    phantom = skimage.data.shepp_logan_phantom()
    for size in args.sizes:
        image = skimage.transform.resize(phantom, (size, size), anti_aliasing=True)
        with warnings.catch_warnings():
            # resize leaves small non-zero values outside the inscribed circle,
            # which radon(circle=True) warns about but still uses.
            warnings.simplefilter("ignore")
            sinogram = skimage.transform.radon(image, theta=theta, circle=True)
            operations = {
                "radon": lambda: skimage.transform.radon(image, theta=theta, circle=True),
                "backprojection": lambda: skimage.transform.iradon(sinogram, theta=theta, filter_name=None, circle=True),
                "iradon_ramp": lambda: skimage.transform.iradon(sinogram, theta=theta, filter_name="ramp", circle=True),
            }
            for name, function in operations.items():
                seconds = best_time(function, args.repeats)
                print(f"{name:15s} {size:4d}: {seconds * 1e3:9.1f} ms  {ANGLES / seconds:9.1f} projections/s")


if __name__ == "__main__":
    main()
