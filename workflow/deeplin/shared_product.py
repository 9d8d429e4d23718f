"""The product of many stacked rows with one shared matrix, `stacked @ sharedᵀ`, by the fastest CPU kernel at
hand.

Every chain of a batched posterior multiplies its own first-layer weights with the same inputs, so the chains'
weights stacked row-wise make one (C·d1, d0) × (d0, n) product, and the first layer's weight gradient is one
(C·d1, n) × (n, d0) product. PyTorch's CPU wheel computes float32 `mm` with MKL, which on AMD CPUs runs its
AVX2 code; oneDNN (bundled with the same wheel, reached through `torch.ops.mkldnn._linear_pointwise`, the
kernel PyTorch's own compiler emits for linear layers) selects its kernels by instruction set, not by vendor.
On a 2-core AMD EPYC VM (AVX-512, one thread) it ran the sampler's (800, 50) × (50, 100) product at 141
GFLOP/s against MKL's 84, and a 1024³ product at 204 against 96 (docs/benchmark.md). It is used for float32
tensors on a CPU outside autograd; everything else, and any PyTorch build without the operator, takes
`torch.mm`. The two kernels round differently, so which one ran is part of what makes a run's numbers.
"""

from __future__ import annotations

import functools

import torch


@functools.cache
def onednn_available() -> bool:
    """Whether this PyTorch build has oneDNN and its float32 linear operator."""
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):  # a build without the mkldnn operators
        return False


# Below about a million multiply-adds oneDNN's fixed cost per call (≈ 12 µs on that VM) outweighs its faster
# kernel: measured equal at (256, 32) × (32, 128), 1.33× faster at 2.0 M, 0.69× at 0.5 M (docs/benchmark.md).
MIN_MULTIPLY_ADDS = 2**21


def uses_onednn(rows: int, shared: torch.Tensor, operand: torch.Tensor) -> bool:
    """Whether `shared_product` takes oneDNN for `rows` stacked rows times `shared` (N, K), the stacked
    operand like `operand`: float32 on a CPU, no autograd graph, at least `MIN_MULTIPLY_ADDS`."""
    return (
        onednn_available()
        and rows * shared.shape[0] * shared.shape[1] >= MIN_MULTIPLY_ADDS
        and operand.device.type == "cpu"
        and operand.dtype == torch.float32
        and shared.dtype == torch.float32
        and not (torch.is_grad_enabled() and (operand.requires_grad or shared.requires_grad))
    )


def shared_product(stacked: torch.Tensor, shared: torch.Tensor) -> torch.Tensor:
    """`stacked @ sharedᵀ` for stacked (M, K) and shared (N, K): a new contiguous (M, N) tensor."""
    if uses_onednn(stacked.shape[0], shared, stacked):
        return torch.ops.mkldnn._linear_pointwise(
            stacked.contiguous(), shared.contiguous(), None, "none", [], ""
        )
    return torch.mm(stacked, shared.T)
