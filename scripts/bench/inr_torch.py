"""Training steps per second of a SIREN in PyTorch, the peer of `cargo bench --bench inr`.

The network matches maso's benchmark: 2 -> 256 -> 256 -> 256 -> 256 -> 3 with
sine activations (omega_0 = 30), SIREN's initialisation, mean squared error
and Adam (lr 1e-3), full batch over 65,536 coordinates. A step is forward,
backward and update, as in maso.

    python scripts/bench/inr_torch.py [--device cpu|cuda] [--steps 20]
"""

import argparse
import math
import time

import torch


class Sine(torch.nn.Module):
    def __init__(self, fan_in, fan_out, omega, first):
        super().__init__()
        self.omega = omega
        self.linear = torch.nn.Linear(fan_in, fan_out)
        bound = 1.0 / fan_in if first else math.sqrt(6.0 / fan_in) / omega
        torch.nn.init.uniform_(self.linear.weight, -bound, bound)

    def forward(self, x):
        return torch.sin(self.omega * self.linear(x))


def siren(width=256, hidden=3, omega=30.0, channels=3):
    layers = [Sine(2, width, omega, True)]
    layers += [Sine(width, width, omega, False) for _ in range(hidden)]
    last = torch.nn.Linear(width, channels)
    bound = math.sqrt(6.0 / width) / omega
    torch.nn.init.uniform_(last.weight, -bound, bound)
    return torch.nn.Sequential(*layers, last)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    device = torch.device(args.device)
    side = 256
    axis = (2 * torch.arange(side, dtype=torch.float32) + 1) / side - 1
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    coordinates = torch.stack([x.flatten(), y.flatten()], dim=1).to(device)
    targets = torch.stack(
        [0.5 + 0.5 * torch.sin(3 * coordinates[:, 0]) * coordinates[:, 1],
         torch.full_like(coordinates[:, 0], 0.5),
         0.5 - 0.2 * coordinates[:, 1]], dim=1)
    model = siren().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = torch.mean((model(coordinates) - targets) ** 2)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / args.steps
    print(f"torch {torch.__version__} on {device} ({torch.get_num_threads()} threads): "
          f"{seconds * 1e3:.1f} ms per step, {1 / seconds:.2f} steps/s")


if __name__ == "__main__":
    main()
