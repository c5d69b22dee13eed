#!/usr/bin/env python3
"""Peer figures for BENCHMARKS.md: the DDPM loops' residual-MLP denoiser in
PyTorch, timed as benches/ddpm.rs times maso's.

The network matches src/generative/ddpm/denoiser.rs: sinusoidal time
embedding (32 frequencies) -> dense -> SiLU -> dense; one-hot label over 11
classes -> dense without bias; cond = SiLU(time + class); h = dense(x);
two residual blocks h += dense2(SiLU(dense1(SiLU(h)) + condition(cond)));
eps = dense(SiLU(h)) + sqrt(1 - alpha_bar_t) x_t, width 256, 784 pixels.

- training: 16 Adam steps of 128 images (timesteps, noise and noising
  included), reported as images per second;
- sampling: one guided pass of 10 strided steps over 128 images (the
  labelled and null-label halves as one batch of 256 rows), reported as
  images per second.
Each figure is the best of 5 runs after a warm-up, on the CPU with the
threads given (default 2, the bench machine's cores).

Usage: python scripts/bench/ddpm_torch.py [THREADS] [DEVICE]
(DEVICE cpu or cuda; on cuda each run ends with torch.cuda.synchronize()).
"""

import math
import sys
import time

import torch
from torch import nn

PIXELS, CLASSES, WIDTH, BLOCKS, FREQUENCIES = 784, 10, 256, 2, 32
BATCH, TRAINING_STEPS, SAMPLING_STEPS, T = 128, 16, 10, 500


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.time1 = nn.Linear(2 * FREQUENCIES, WIDTH)
        self.time2 = nn.Linear(WIDTH, WIDTH)
        self.label = nn.Linear(CLASSES + 1, WIDTH, bias=False)
        self.input = nn.Linear(PIXELS, WIDTH)
        self.blocks = nn.ModuleList(
            nn.ModuleList([nn.Linear(WIDTH, WIDTH) for _ in range(3)])
            for _ in range(BLOCKS)
        )
        self.output = nn.Linear(WIDTH, PIXELS)
        frequencies = torch.exp(
            -math.log(10000.0) * torch.arange(FREQUENCIES) / FREQUENCIES
        )
        self.register_buffer("frequencies", frequencies)

    def forward(self, x, t, one_hot, skip):
        phases = t[:, None].float() * self.frequencies[None, :]
        embedding = torch.cat([torch.cos(phases), torch.sin(phases)], dim=1)
        time_embedding = self.time2(nn.functional.silu(self.time1(embedding)))
        condition = nn.functional.silu(time_embedding + self.label(one_hot))
        h = self.input(x)
        for dense1, conditioning, dense2 in self.blocks:
            u = dense1(nn.functional.silu(h)) + conditioning(condition)
            h = h + dense2(nn.functional.silu(u))
        return self.output(nn.functional.silu(h)) + skip


def alpha_bars(device):
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).float().to(device)


def best_of(function, device, runs=5):
    function()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        function()
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    device = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Denoiser().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    ab = alpha_bars(device)
    images = torch.rand(BATCH, PIXELS, device=device) * 2 - 1
    labels = torch.arange(BATCH, device=device) % (CLASSES + 1)
    one_hot = nn.functional.one_hot(labels, CLASSES + 1).float()

    def training():
        for _ in range(TRAINING_STEPS):
            t = torch.randint(0, T, (BATCH,), device=device)
            noise = torch.randn_like(images)
            a = ab[t][:, None]
            noisy = a.sqrt() * images + (1 - a).sqrt() * noise
            prediction = model(noisy, t, one_hot, (1 - a).sqrt() * noisy)
            loss = nn.functional.mse_loss(prediction, noise)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    stride = T // SAMPLING_STEPS
    timesteps = list(range(0, T, stride))[:SAMPLING_STEPS][::-1]
    sample_labels = torch.arange(BATCH, device=device) % CLASSES
    both = torch.cat([sample_labels, torch.full_like(sample_labels, CLASSES)])
    both_one_hot = nn.functional.one_hot(both, CLASSES + 1).float()
    w = 1.0

    @torch.no_grad()
    def sampling():
        x = torch.randn(BATCH, PIXELS, device=device)
        for index, t in enumerate(timesteps):
            previous = t - stride
            a = ab[t]
            a_prev = ab[previous] if previous >= 0 else torch.tensor(1.0, device=device)
            beta = 1 - a / a_prev
            doubled = torch.cat([x, x])
            tt = torch.full((2 * BATCH,), t, device=device)
            eps = model(doubled, tt, both_one_hot, (1 - a).sqrt() * doubled)
            eps = (1 + w) * eps[:BATCH] - w * eps[BATCH:]
            x0 = ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1)
            mean = (a_prev.sqrt() * beta / (1 - a)) * x0 + (
                (1 - beta).sqrt() * (1 - a_prev) / (1 - a)
            ) * x
            if t > 0:
                sigma = ((1 - a_prev) / (1 - a) * beta).sqrt()
                mean = mean + sigma * torch.randn_like(x)
            x = mean
        return x

    train_seconds = best_of(training, device)
    sample_seconds = best_of(sampling, device)
    print(f"torch {torch.__version__}, device {device}, {threads} threads")
    print(
        f"training: {train_seconds * 1e3 / TRAINING_STEPS:.1f} ms per step of {BATCH} images, "
        f"{BATCH * TRAINING_STEPS / train_seconds:.0f} images/s"
    )
    print(
        f"sampling: {sample_seconds * 1e3:.1f} ms per {SAMPLING_STEPS}-step guided pass of "
        f"{BATCH} images, {BATCH / sample_seconds:.1f} images/s"
    )


if __name__ == "__main__":
    main()
