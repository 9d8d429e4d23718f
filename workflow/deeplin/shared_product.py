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
`torch.mm`. On an Intel CPU MKL runs its AVX-512 code and was the faster one: on a 2-core Sapphire Rapids
VM (one thread) 97 against 73 GFLOP/s for the sampler's product, the bench's gradient 351 against 476 µs
(docs/benchmark.md), so there oneDNN is not used. The choice is made from the CPU's vendor, never from a
timing, so a machine always takes the same kernels; the two kernels round differently, so which one ran is
part of what makes a run's numbers.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

import torch


@functools.cache
def onednn_available() -> bool:
    """Whether this PyTorch build has oneDNN and its float32 linear operator."""
    try:
        return bool(torch.backends.mkldnn.is_available()) and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    except (AttributeError, RuntimeError):  # a build without the mkldnn operators
        return False


@functools.cache
def cpu_vendor() -> str:
    """The CPU's vendor string ("GenuineIntel", "AuthenticAMD", …) from /proc/cpuinfo; "" where unknown."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("vendor_id"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return ""


def mkl_runs_its_best_code() -> bool:
    """Whether this is an Intel CPU, where MKL (torch.mm on a CPU) selects its fastest kernels; MKL picks
    its AVX2 code on other x86 vendors whatever they support (measured in docs/benchmark.md)."""
    return cpu_vendor() == "GenuineIntel"


def onednn_pays() -> bool:
    """Whether oneDNN is the float32 CPU kernel to use: available, on an x86 CPU not made by Intel (on
    ARM and on Intel torch.mm's BLAS is the one measured, and kept)."""
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    return onednn_available() and x86 and bool(cpu_vendor()) and not mkl_runs_its_best_code()


# Below about a million multiply-adds oneDNN's fixed cost per call (≈ 12 µs on that VM) outweighs its faster
# kernel: measured equal at (256, 32) × (32, 128), 1.33× faster at 2.0 M, 0.69× at 0.5 M (docs/benchmark.md).
MIN_MULTIPLY_ADDS = 2**21


def uses_onednn(rows: int, shared: torch.Tensor, operand: torch.Tensor) -> bool:
    """Whether `shared_product` takes oneDNN for `rows` stacked rows times `shared` (N, K), the stacked
    operand like `operand`: a CPU where oneDNN pays (`onednn_pays`), float32, no autograd graph, at least
    `MIN_MULTIPLY_ADDS`."""
    return (
        onednn_pays()
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
