"""deeplin.hmc.integrators: the leapfrog's reversibility and order, the static (CUDA-graph) leapfrog, the choice."""

from __future__ import annotations

import pytest
import torch
from deeplin.hmc import StaticLeapfrog, autograd_potential_and_grad, leapfrog, make_integrator
from hmc_targets import anharmonic_potential, anharmonic_potential_and_grad


def test_leapfrog_is_reversible_and_pure():
    """L steps forward, negate p, L steps back: the start is recovered to 1e-10; inputs are untouched."""
    gen = torch.Generator().manual_seed(0)
    c, d = 6, 5
    pg = autograd_potential_and_grad(anharmonic_potential)
    theta0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    p0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    inv_mass = 0.5 + torch.rand(c, d, generator=gen, dtype=torch.float64)
    step = torch.linspace(0.01, 0.08, c, dtype=torch.float64)
    _, g0 = pg(theta0)
    copies = [t.clone() for t in (theta0, p0, g0, step, inv_mass)]
    theta1, p1, _, g1 = leapfrog(theta0, p0, g0, step, inv_mass, 50, pg)
    for before, after in zip(copies, (theta0, p0, g0, step, inv_mass), strict=True):
        assert torch.equal(before, after)
    assert (theta1 - theta0).abs().max() > 0.1  # it did move
    theta2, p2, _, _ = leapfrog(theta1, -p1, g1, step, inv_mass, 50, pg)
    assert (theta2 - theta0).abs().max() < 1e-10
    assert (p2 + p0).abs().max() < 1e-10


def test_leapfrog_energy_error_is_second_order():
    """Over a fixed trajectory time, halving the step divides the max energy error by ≈ 4."""
    gen = torch.Generator().manual_seed(1)
    c, d = 64, 5
    pg = autograd_potential_and_grad(anharmonic_potential)
    theta0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    p0 = torch.randn(c, d, generator=gen, dtype=torch.float64)
    inv_mass = torch.ones(c, d, dtype=torch.float64)
    u0, g0 = pg(theta0)
    h0 = u0 + 0.5 * (p0**2).sum(-1)
    errors = []
    for n in (16, 32, 64):  # trajectory time 1.6
        step = torch.full((c,), 1.6 / n, dtype=torch.float64)
        _, p, u, _ = leapfrog(theta0, p0, g0, step, inv_mass, n, pg)
        errors.append(float((u + 0.5 * (p**2).sum(-1) - h0).abs().max()))
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    assert all(3.3 < r < 4.8 for r in ratios), (errors, ratios)


def test_autograd_wrapper_matches_the_analytic_gradient_and_is_not_capturable():
    theta = torch.randn(4, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    wrapped = autograd_potential_and_grad(anharmonic_potential)
    for a, b in zip(wrapped(theta), anharmonic_potential_and_grad(theta), strict=True):
        assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    assert wrapped.capturable is False
    with pytest.raises(ValueError, match=r"must return shape \(4,\)"):
        autograd_potential_and_grad(lambda x: x.sum())(theta)


def _phase_space(c: int = 4, d: int = 7):
    gen = torch.Generator().manual_seed(1)
    theta = torch.randn(c, d, dtype=torch.float64, generator=gen)
    momentum = torch.randn(c, d, dtype=torch.float64, generator=gen)
    inv_mass = 0.5 + torch.rand(c, d, dtype=torch.float64, generator=gen)
    step = torch.linspace(0.02, 0.05, c, dtype=torch.float64)
    return theta, momentum, step, inv_mass


def test_static_leapfrog_equals_leapfrog_and_reuses_its_buffers() -> None:
    theta, momentum, step, inv_mass = _phase_space()
    _, grad = anharmonic_potential_and_grad(theta)
    integrator = StaticLeapfrog(anharmonic_potential_and_grad, theta, capture=False)
    for n_steps in (1, 7):
        expected = leapfrog(theta, momentum, grad, step, inv_mass, n_steps, anharmonic_potential_and_grad)
        got = integrator(theta, momentum, grad, step, inv_mass, n_steps)
        for a, b in zip(expected, got, strict=True):
            assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    buffer = integrator.theta.data_ptr()
    integrator(theta, momentum, grad, step, inv_mass, 3)
    assert integrator.theta.data_ptr() == buffer  # static: what a captured graph needs


def test_make_integrator_picks_by_device_and_gradient() -> None:
    theta = torch.zeros(2, 3, dtype=torch.float64)
    assert not isinstance(
        make_integrator("auto", anharmonic_potential_and_grad, theta), StaticLeapfrog
    )  # CPU
    static = make_integrator("static", anharmonic_potential_and_grad, theta)
    assert isinstance(static, StaticLeapfrog) and not static.capture
    with pytest.raises(ValueError, match="CUDA"):
        make_integrator("graph", anharmonic_potential_and_grad, theta)
    with pytest.raises(ValueError, match="trajectory must be auto, eager, static or graph, not 'jit'"):
        make_integrator("jit", anharmonic_potential_and_grad, theta)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here: the capture is not exercised")
def test_cuda_graph_leapfrog_equals_the_static_one_on_gpu() -> None:
    theta, momentum, step, inv_mass = (t.cuda() for t in _phase_space())
    _, grad = anharmonic_potential_and_grad(theta)
    assert isinstance(make_integrator("auto", anharmonic_potential_and_grad, theta), StaticLeapfrog)
    autograd = autograd_potential_and_grad(anharmonic_potential)
    assert not isinstance(make_integrator("auto", autograd, theta), StaticLeapfrog)
    graph = StaticLeapfrog(anharmonic_potential_and_grad, theta, capture=True)
    static = StaticLeapfrog(anharmonic_potential_and_grad, theta, capture=False)
    for n_steps in (1, 9):
        for a, b in zip(
            graph(theta, momentum, grad, step, inv_mass, n_steps),
            static(theta, momentum, grad, step, inv_mass, n_steps),
            strict=True,
        ):
            assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    assert graph.graph is not None


def test_leapfrog_inner_steps_skip_the_potential_with_identical_numbers():
    """A function marked inner_steps gets need_potential=False and one reused out buffer on every step but
    the last; the trajectory is bitwise that of the plain calls, and the returned ∇U is no such buffer."""
    calls: list[tuple[bool, int | None]] = []

    def marked(theta: torch.Tensor, need_potential: bool = True, out: torch.Tensor | None = None):
        calls.append((need_potential, None if out is None else out.data_ptr()))
        potential, grad = anharmonic_potential_and_grad(theta)
        if out is not None:
            grad = out.copy_(grad)
        return (potential if need_potential else None), grad

    marked.inner_steps = True
    gen = torch.Generator().manual_seed(4)
    theta0, p0 = (torch.randn(3, 6, generator=gen, dtype=torch.float64) for _ in range(2))
    step, inv_mass = torch.full((3,), 0.05, dtype=torch.float64), torch.ones(3, 6, dtype=torch.float64)
    _, g0 = anharmonic_potential_and_grad(theta0)
    plain = leapfrog(theta0, p0, g0, step, inv_mass, 7, anharmonic_potential_and_grad)
    fast = leapfrog(theta0, p0, g0, step, inv_mass, 7, marked)
    for a, b in zip(plain, fast, strict=True):
        assert torch.equal(a, b)
    assert [need for need, _ in calls] == [False] * 6 + [True]
    assert len({ptr for _, ptr in calls[:-1]}) == 1 and calls[-1][1] is None
    assert fast[3].data_ptr() != calls[0][1]
