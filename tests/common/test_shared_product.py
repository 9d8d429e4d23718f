"""deeplin.shared_product: oneDNN where it pays, torch.mm otherwise, and the same product either way."""

from __future__ import annotations

import platform

import numpy as np
import pytest
import torch
from deeplin import shared_product as sp
from deeplin.deep_equivalence import deep_model
from deeplin.deep_equivalence.deep_model import DeepPosterior

needs_onednn = pytest.mark.skipif(not sp.onednn_available(), reason="this PyTorch build has no oneDNN linear")
on_x86 = pytest.mark.skipif(
    platform.machine().lower() not in ("x86_64", "amd64"), reason="oneDNN is taken on x86 CPUs only"
)


@pytest.fixture
def amd_cpu(monkeypatch):
    """Run as on an AMD CPU, where oneDNN is taken for large float32 products (whatever this CPU is)."""
    monkeypatch.setattr(sp, "cpu_vendor", lambda: "AuthenticAMD")
    monkeypatch.setattr(deep_model, "cpu_vendor", lambda: "AuthenticAMD")


def test_the_cpu_vendor_is_read_and_decides_the_kernel(monkeypatch) -> None:
    """oneDNN only on a non-Intel x86 CPU with the operator; MKL (torch.mm) on Intel and where unknown."""
    assert isinstance(sp.cpu_vendor(), str)
    stacked, shared = _operands(800, 50, 100)
    for vendor, expected in (("GenuineIntel", False), ("", False), ("AuthenticAMD", True)):
        monkeypatch.setattr(sp, "cpu_vendor", lambda vendor=vendor: vendor)
        x86 = platform.machine().lower() in ("x86_64", "amd64")
        assert sp.uses_onednn(800, shared, stacked) == (expected and x86 and sp.onednn_available()), vendor
        assert sp.mkl_runs_its_best_code() == (vendor == "GenuineIntel")


def _operands(rows: int, inner: int, columns: int, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(rows + inner + columns)
    stacked = torch.randn(rows, inner, generator=generator, dtype=torch.float64).to(dtype)
    shared = torch.randn(columns, inner, generator=generator, dtype=torch.float64).to(dtype)
    return stacked, shared


def _within_rounding(result: torch.Tensor, stacked: torch.Tensor, shared: torch.Tensor) -> torch.Tensor:
    """|fl(A Bᵀ) − A Bᵀ| against the classical bound K·u·|A||B|ᵀ (Higham 2002, eq. 3.13), per entry."""
    exact = stacked.double() @ shared.double().T
    bound = (
        stacked.shape[1] * torch.finfo(result.dtype).eps * (stacked.double().abs() @ shared.double().abs().T)
    )
    return (result.double() - exact).abs() <= bound


@needs_onednn
@on_x86
def test_a_large_float32_product_takes_onednn_and_is_the_product(amd_cpu) -> None:
    stacked, shared = _operands(800, 50, 100)  # the sampler's first layer at C = 16, d0 = d1 = 50, n = 100
    assert sp.uses_onednn(800, shared, stacked)
    result = sp.shared_product(stacked, shared)
    assert result.shape == (800, 100) and result.is_contiguous() and result.dtype == torch.float32
    assert _within_rounding(result, stacked, shared).all()
    # power: the bound is tight enough to see one operand's entry changed by 1e-3 of its size
    wrong = shared.clone()
    wrong[0, 0] += 1e-3 * float(shared.abs().max())
    assert not _within_rounding(sp.shared_product(stacked, wrong), stacked, shared).all()


@on_x86
def test_small_float64_and_autograd_products_take_torch_mm_bit_for_bit(amd_cpu) -> None:
    small = _operands(64, 8, 32)  # 16 k multiply-adds: oneDNN's fixed cost would dominate
    double = _operands(800, 50, 100, torch.float64)  # oneDNN has no float64 matmul
    for stacked, shared in (small, double):
        assert not sp.uses_onednn(stacked.shape[0], shared, stacked)
        assert torch.equal(sp.shared_product(stacked, shared), torch.mm(stacked, shared.T))
    stacked, shared = _operands(800, 50, 100)
    stacked.requires_grad_(True)
    assert not sp.uses_onednn(800, shared, stacked)  # autograd needs torch.mm's derivative
    sp.shared_product(stacked, shared).sum().backward()
    assert torch.allclose(stacked.grad, shared.sum(0).expand(800, -1))
    with torch.no_grad():
        assert sp.uses_onednn(800, shared, stacked) == sp.onednn_available()


@needs_onednn
@on_x86
@pytest.mark.parametrize("depth", [1, 2])
def test_the_float32_gradient_with_onednn_matches_the_float64_one(depth: int, amd_cpu, monkeypatch) -> None:
    """At the bench's `small` shapes the first layer's two products go through oneDNN; the gradient agrees
    with float64 to float32 rounding, and with the torch.mm path to the same rounding."""
    rng = np.random.default_rng(depth)
    x, y = rng.standard_normal((100, 50)) / np.sqrt(50), rng.standard_normal(100)
    widths = [50] * (depth + 1)
    single = DeepPosterior(x, y, widths, "tanh", "linear", noise=0.1, dtype=torch.float32)
    double = DeepPosterior(x, y, widths, "tanh", "linear", noise=0.1, dtype=torch.float64)
    theta = torch.randn(16, single.dim, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    assert sp.uses_onednn(16 * 50, single.x_train, theta.float())
    with torch.no_grad():
        potential, grad = single.potential_and_grad(theta.float())
        reference_potential, reference = double.potential_and_grad(theta)
        scale = float(reference.abs().max())
        assert torch.allclose(potential.double(), reference_potential, rtol=1e-5)
        assert torch.allclose(grad.double(), reference, rtol=1e-4, atol=1e-5 * scale)
        monkeypatch.setattr(deep_model, "uses_onednn", lambda *args: False)
        other = single.potential_and_grad(theta.float())[1]
        assert torch.allclose(other.double(), grad.double(), rtol=1e-4, atol=1e-5 * scale)
        predictions = single.predict(theta.float(), single.x_train)
        monkeypatch.setattr(sp, "uses_onednn", lambda *args: False)
        assert torch.allclose(
            single.predict(theta.float(), single.x_train), predictions, rtol=1e-4, atol=1e-5
        )
