"""Direct simulation of deep linear networks with full Gaussian weight matrices, batched over networks in torch
(Bassetti, Ladelli, Rotondo, arXiv 2411.15267; docs/deep_linear.md, 'Model' and 'Simulations and statistics').

h_0 = x, h_l = W_l h_{l−1}/√N_{l−1} (l = 1..L), f = W_{L+1} h_L/√N, all W iid N(0, 1) (σ_w = 1 in every layer,
the readout included). Given the hidden weights the D output rows are iid N(0, K_L) with K_L = H_LᵀH_L/N: the
exact conditional covariance is returned with the outputs, so that statistics of K need no output noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

MEMORY_BYTES = 1 << 30  # one weight tensor of a batch stays below ~1 GB
_BYTES_PER_NUMBER = 8  # sized for float64 (float32 batches use half of it)


def default_batch(width: int, input_dim: int, outputs: int) -> int:
    """Networks per batch such that the largest weight tensor, b·N·max(N, N0, D) numbers of 8 bytes, stays
    below MEMORY_BYTES."""
    per_network = _BYTES_PER_NUMBER * width * max(width, input_dim, outputs)
    return max(1, MEMORY_BYTES // per_network)


def unit_inputs(input_dim: int, rho0: float, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The two fixed inputs as columns (N0, 2): x1 = √N0 e1, x2 = √N0(ρ0 e1 + √(1 − ρ0²) e2), so that
    K_0 = XᵀX/N0 = [[1, ρ0], [ρ0, 1]] up to rounding (docs/deep_linear.md, 'Model')."""
    if input_dim < 2:
        raise ValueError(f"two inputs of overlap ρ0 need input_dim ≥ 2, got {input_dim}")
    if not -1.0 <= rho0 <= 1.0:
        raise ValueError(f"rho0 must lie in [−1, 1], got {rho0}")
    root = math.sqrt(input_dim)
    x = torch.zeros((input_dim, 2), device=device, dtype=dtype)
    x[0, 0] = root
    x[0, 1] = root * rho0
    x[1, 1] = root * math.sqrt(1.0 - rho0 * rho0)
    return x


def simulate_networks(
    width: int,
    depth: int,
    input_dim: int,
    outputs: int,
    rho0: float,
    networks: int,
    seed: int,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float64,
    batch: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs f (networks, D, P) and exact conditional covariances K_L = H_LᵀH_L/N (networks, P, P), P = 2,
    as float64 arrays, for ``networks`` independent draws of all weights.

    One torch.Generator on ``device``, seeded by ``seed``, draws per batch of b networks, in this order:
    W_1 (b, N, N0), W_2 … W_L (b, N, N), then the readout W_{L+1} (b, D, N). The same seed, batch and device
    give the same numbers; the batch defaults to default_batch(width, input_dim, outputs). ``progress(done,
    total)`` is called after each batch.
    """
    if width < 1 or depth < 0 or outputs < 1 or networks < 0:
        raise ValueError(
            f"simulate_networks needs width ≥ 1, depth ≥ 0, outputs ≥ 1, networks ≥ 0; got {width}, {depth}, "
            f"{outputs}, {networks}"
        )
    device = torch.device(device)
    batch = default_batch(width, input_dim, outputs) if batch is None else int(batch)
    if batch < 1:
        raise ValueError(f"batch must be ≥ 1, got {batch}")
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    x = unit_inputs(input_dim, rho0, device, dtype)
    f_all = np.empty((networks, outputs, 2))
    k_all = np.empty((networks, 2, 2))
    done = 0
    while done < networks:
        size = min(batch, networks - done)
        h = x.expand(size, input_dim, 2)
        fan_in = input_dim
        for _ in range(depth):
            weights = torch.randn((size, width, fan_in), generator=generator, device=device, dtype=dtype)
            h = torch.bmm(weights, h) / math.sqrt(fan_in)
            fan_in = width
        readout = torch.randn((size, outputs, fan_in), generator=generator, device=device, dtype=dtype)
        f = torch.bmm(readout, h) / math.sqrt(fan_in)
        k = torch.bmm(h.transpose(1, 2), h) / fan_in
        f_all[done : done + size] = f.to(torch.float64).cpu().numpy()
        k_all[done : done + size] = k.to(torch.float64).cpu().numpy()
        done += size
        if progress is not None:
            progress(done, networks)
    return f_all, k_all
