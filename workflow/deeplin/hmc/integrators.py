"""Leapfrog integrators for H(θ, p) = U(θ) + ½ pᵀM⁻¹p with a per-chain step size and diagonal M⁻¹.

Velocity Verlet (Neal 2011, "MCMC using Hamiltonian dynamics", eqs. 5.18–5.20) with the half momentum
kicks of consecutive steps merged, batched over chains: positions and momenta are (C, D) tensors.
`leapfrog` runs eagerly; `StaticLeapfrog` runs the same step over preallocated buffers so that on CUDA it
is captured once as a graph and replayed. `make_integrator` picks one; every integrator has the signature
``(position, momentum, grad, step_size, inv_mass, n_steps) -> (θ, p, U, ∇U)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

PotentialFn = Callable[[Tensor], Tensor]
PotentialAndGradFn = Callable[[Tensor], tuple[Tensor, Tensor]]
Integrator = Callable[[Tensor, Tensor, Tensor, Tensor, Tensor, int], tuple[Tensor, Tensor, Tensor, Tensor]]

TRAJECTORIES = ("auto", "eager", "static", "graph")


def autograd_potential_and_grad(potential_fn: PotentialFn) -> PotentialAndGradFn:
    """Wrap U(θ) into θ ↦ (U, ∇U) by autograd of ΣU; chains are independent, so ∂ΣU/∂θ_c = ∇U_c.

    The wrapper is marked ``capturable = False``: autograd is not guaranteed to be CUDA-graph safe, so
    `make_integrator("auto", ...)` integrates it eagerly.
    """

    def potential_and_grad(theta: Tensor) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            x = theta.detach().requires_grad_(True)
            u = potential_fn(x)
            if u.shape != theta.shape[:1]:
                raise ValueError(f"potential_fn must return shape ({theta.shape[0]},), got {tuple(u.shape)}")
            if not u.requires_grad:  # U does not depend on θ
                return u.detach(), torch.zeros_like(theta)
            (g,) = torch.autograd.grad(u.sum(), x, allow_unused=True)
        return u.detach(), (torch.zeros_like(theta) if g is None else g)

    potential_and_grad.capturable = False  # type: ignore[attr-defined]
    return potential_and_grad


def leapfrog(
    position: Tensor,
    momentum: Tensor,
    grad: Tensor,
    step_size: Tensor,
    inv_mass: Tensor,
    n_steps: int,
    potential_and_grad_fn: PotentialAndGradFn,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """n_steps leapfrog steps for every chain from (θ, p) with ∇U(θ) = grad; returns (θ, p, U, ∇U) at the end.

    The inputs are not modified. `potential_and_grad_fn` must not keep a reference to its argument, which
    is updated in place between calls. A function marked ``inner_steps = True`` (the deep posterior's
    analytic gradient) is called on every step but the last with ``need_potential=False, out=buffer``: only
    the end point's U enters the Metropolis test, and an inner step's ∇U is needed only until the next
    step, so they skip U's reductions and write into one buffer (the same numbers, bit for bit).
    """
    if n_steps < 1:
        raise ValueError("n_steps must be >= 1")
    eps = step_size.unsqueeze(-1)  # (C, 1)
    half_eps = 0.5 * eps
    drift = eps * inv_mass  # dθ = ε M⁻¹ p
    theta = position.clone()
    p = momentum - half_eps * grad
    inner = {}
    if getattr(potential_and_grad_fn, "inner_steps", False) and n_steps > 1:
        inner = {"need_potential": False, "out": torch.empty_like(position)}
    with torch.no_grad():
        for _ in range(n_steps - 1):
            theta.addcmul_(drift, p)
            _, grad = potential_and_grad_fn(theta, **inner)
            p.addcmul_(eps, grad, value=-1.0)
        theta.addcmul_(drift, p)
        potential, grad = potential_and_grad_fn(theta)
        p.addcmul_(half_eps, grad, value=-1.0)
    return theta, p, potential, grad


class StaticLeapfrog:
    """The leapfrog integrator over preallocated buffers, optionally replayed from a captured CUDA graph.

    Same dynamics as `leapfrog` (equal to rounding: the last half kick is a full kick then half undone).
    One step, θ += ε M⁻¹ p; (U, ∇U) = f(θ); p −= ε ∇U, reads and writes only this object's tensors, so on
    CUDA it is captured once as a graph and a trajectory is n graph replays with no host synchronisation
    and one launch per step; on CPU (or with capture=False) the very same step runs eagerly.
    `potential_and_grad_fn` must be capturable (no host syncs, no data-dependent shapes): deeplin's
    analytic deep-posterior gradient is; autograd is not guaranteed to be.
    """

    def __init__(self, potential_and_grad_fn: PotentialAndGradFn, like: Tensor, capture: bool | None = None):
        """Buffers shaped like `like` (C, D); capture defaults to True on CUDA devices."""
        self.fn = potential_and_grad_fn
        self.theta, self.p, self.grad = (torch.zeros_like(like) for _ in range(3))
        self.drift = torch.zeros_like(like)
        self.eps = torch.zeros_like(like[:, :1])
        self.potential = torch.zeros_like(like[:, 0])
        self.capture = like.device.type == "cuda" if capture is None else capture
        self.graph = None

    def _step(self) -> None:
        self.theta.addcmul_(self.drift, self.p)
        potential, grad = self.fn(self.theta)
        self.potential.copy_(potential)
        self.grad.copy_(grad)
        self.p.addcmul_(self.eps, self.grad, value=-1.0)

    def _capture_graph(self) -> None:
        """Record one step (after side-stream warm-up runs, as CUDA graph capture requires)."""
        saved = [t.clone() for t in (self.theta, self.p, self.grad, self.potential)]
        side = torch.cuda.Stream(device=self.theta.device)
        side.wait_stream(torch.cuda.current_stream(self.theta.device))
        with torch.cuda.stream(side):
            for _ in range(3):
                self._step()
        torch.cuda.current_stream(self.theta.device).wait_stream(side)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self._step()
        for buffer, value in zip((self.theta, self.p, self.grad, self.potential), saved, strict=True):
            buffer.copy_(value)

    def __call__(
        self,
        position: Tensor,
        momentum: Tensor,
        grad: Tensor,
        step_size: Tensor,
        inv_mass: Tensor,
        n_steps: int,
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """n_steps leapfrog steps from (position, momentum) with gradient `grad`; returns (θ, p, U, ∇U)."""
        if n_steps < 1:
            raise ValueError("n_steps must be >= 1")
        self.eps.copy_(step_size.unsqueeze(-1))
        torch.mul(self.eps, inv_mass, out=self.drift)
        self.theta.copy_(position)
        self.p.copy_(momentum).addcmul_(self.eps, grad, value=-0.5)
        if self.capture and self.graph is None:
            self._capture_graph()
        for _ in range(n_steps):
            if self.graph is not None:
                self.graph.replay()
            else:
                self._step()
        self.p.addcmul_(self.eps, self.grad, value=0.5)  # the last kick is a half kick
        return self.theta.clone(), self.p.clone(), self.potential.clone(), self.grad.clone()


def make_integrator(trajectory: str, potential_and_grad_fn: PotentialAndGradFn, like: Tensor) -> Integrator:
    """The integrator for chains shaped like `like` (C, D).

    `trajectory`: "eager" (`leapfrog`), "static" (`StaticLeapfrog` without capture), "graph" (captured
    CUDA graph; CUDA only) or "auto" = "graph" on CUDA unless the function is marked ``capturable = False``
    (as `autograd_potential_and_grad` marks its wrapper), else "eager".
    """
    if trajectory == "auto":
        capturable = getattr(potential_and_grad_fn, "capturable", True)
        trajectory = "graph" if like.device.type == "cuda" and capturable else "eager"
    if trajectory == "eager":

        def eager(
            position: Tensor,
            momentum: Tensor,
            grad: Tensor,
            step_size: Tensor,
            inv_mass: Tensor,
            n_steps: int,
        ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
            return leapfrog(position, momentum, grad, step_size, inv_mass, n_steps, potential_and_grad_fn)

        return eager
    if trajectory == "static":
        return StaticLeapfrog(potential_and_grad_fn, like, capture=False)
    if trajectory == "graph":
        if like.device.type != "cuda":
            raise ValueError("trajectory='graph' captures CUDA graphs and needs a CUDA device")
        return StaticLeapfrog(potential_and_grad_fn, like, capture=True)
    choices = f"{', '.join(TRAJECTORIES[:-1])} or {TRAJECTORIES[-1]}"
    raise ValueError(f"trajectory must be {choices}, not {trajectory!r}")
