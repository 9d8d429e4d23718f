"""The deep student's posterior as a potential over flat, chain-batched parameters (docs/deep_equivalence.md,
'Sampler design').

θ = (W_1, …, W_L, a) flattened per chain into a (C, D) tensor; U(θ) = −Σ_μ log P_out(Y_μ | aᵀX_μ⁽ᴸ⁾(W))
+ ½‖θ‖² with the N(0, I) prior and the same normalisation as the teacher (deeplin.deep_equivalence.teacher; docs/deep_equivalence.md,
'Deep teacher and Bayes-optimal student').
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from ..activations import get_activation, get_readout


def _tanh_in_place(z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(tanh z, 1 − tanh² z), overwriting z with tanh z: two passes over the (C, d, n) block."""
    value = z.tanh_()
    return value, torch.addcmul(value.new_ones(()), value, value, value=-1.0)


# Activations with a faster (value, slope) pair that may overwrite its argument; others use the registry's.
_IN_PLACE_PAIRS = {"tanh": _tanh_in_place}


class DeepPosterior:
    """Potential and predictions of a depth-L network for C chains at once."""

    def __init__(
        self,
        x_train: np.ndarray,
        y_train: np.ndarray,
        widths: Sequence[int],
        activation: str,
        readout: str,
        noise: float,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float64,
    ) -> None:
        self.widths = [int(w) for w in widths]  # d0, d1, …, dL
        self.phi = get_activation(activation).torch_fn
        self.phi_with_derivative = get_activation(activation).torch_with_derivative
        self._pair = _IN_PLACE_PAIRS.get(activation, self.phi_with_derivative)
        self.readout = get_readout(readout)
        if noise <= 0:
            raise ValueError(f"the deep posterior needs noise > 0, got {noise}")
        self.noise = float(noise)
        self.device, self.dtype = torch.device(device), dtype
        self.x_train = torch.as_tensor(x_train, dtype=dtype, device=self.device)
        self.y_train = torch.as_tensor(y_train, dtype=dtype, device=self.device)
        self.x_train_t = self.x_train.T.contiguous()  # (d0, n): the analytic gradient's layout
        self.shapes = [(self.widths[i + 1], self.widths[i]) for i in range(len(self.widths) - 1)]
        self.shapes.append((self.widths[-1],))
        self.sizes = [math.prod(s) for s in self.shapes]
        self.dim = sum(self.sizes)
        self._scales = [1.0 / math.sqrt(shape[0]) for shape in self.shapes[:-1]]

    def unflatten(self, theta: torch.Tensor) -> list[torch.Tensor]:
        """Views (C, d_l, d_{l−1}) for each W_l and (C, d_L) for a."""
        parts = torch.split(theta, self.sizes, dim=-1)
        return [p.reshape(theta.shape[0], *s) for p, s in zip(parts, self.shapes, strict=True)]

    def flatten(self, weights: Sequence[np.ndarray], readout_weights: np.ndarray) -> torch.Tensor:
        """Teacher arrays → one flat θ of shape (D,) (used to start chains at the teacher)."""
        flat = np.concatenate([np.ravel(w) for w in weights] + [np.ravel(readout_weights)])
        return torch.as_tensor(flat, dtype=self.dtype, device=self.device)

    def features(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """X⁽ᴸ⁾ for every chain and input: (C, n, d_L), with X⁽ˡ⁾ = φ(W X⁽ˡ⁻¹⁾)/√d_l as in the teacher."""
        layer = x.unsqueeze(0)  # (1, n, d0), broadcast over chains
        for w, scale in zip(self.unflatten(theta)[:-1], self._scales, strict=True):
            layer = self.phi(torch.matmul(layer, w.transpose(1, 2))) * scale
        return layer

    def pre_readout(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """h = aᵀX⁽ᴸ⁾ for every chain and input: (C, n)."""
        a = self.unflatten(theta)[-1]
        return torch.matmul(self.features(theta, x), a.unsqueeze(-1)).squeeze(-1)

    def potential(self, theta: torch.Tensor) -> torch.Tensor:
        """U(θ) per chain: negative log likelihood plus ½‖θ‖² (docs/deep_equivalence.md, 'Sampler design')."""
        h = self.pre_readout(theta, self.x_train)
        if self.readout.likelihood == "probit":
            # P(y | h) = Φ(y h / √Δ) for Y = sign(h + √Δ Z) (noise inside the sign)
            nll = -torch.special.log_ndtr(self.y_train * h / math.sqrt(self.noise)).sum(-1)
        else:
            # Y = f(h) + √Δ Z: −log N(y; f(h), Δ) up to a constant
            nll = (self.y_train - self.readout.torch_fn(h)).square().sum(-1) / (2.0 * self.noise)
        return nll + 0.5 * theta.square().sum(-1)

    def potential_and_grad(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """U(θ) and ∇U(θ) per chain by a hand-written backward pass (no autograd graph per leapfrog step).

        Chain rule through the teacher's network, in the transposed layout Zᵀ_l = W_l Xᵀ_{l−1} (C, d_l, n),
        with T_l = φ(Z_l), X_l = s_l T_l, s_l = 1/√d_l, h = X_L a:
        ∂U/∂a = s_L T_Lᵀ g_h, ∂U/∂Zᵀ_L = s_L diag(a) (g_h ⊙ φ′(Z_L)) (the diagonal applied to the smaller
        d_L × d_{L−1} products, not to the d_L × n one), ∂U/∂W_l = (∂U/∂Zᵀ_l) X_{l−1},
        ∂U/∂Zᵀ_{l−1} = s_{l−1} (W_lᵀ ∂U/∂Zᵀ_l) ⊙ φ′(Z_{l−1}), plus θ from the N(0, I) prior. The inputs are
        shared by all chains, so the first layer's weight gradient is one GEMM over C·d_1 rows. Equal to
        autograd of `potential` (tests).
        """
        chains = theta.shape[0]
        *weights, a = self.unflatten(theta)
        depth = len(weights)
        values, slopes = [], []  # T_l = φ(Z_l), φ′(Z_l): (C, d_l, n)
        for index in range(depth):
            if index:
                z = torch.bmm(weights[index], values[-1]).mul_(self._scales[index - 1])
            else:  # the inputs broadcast over chains (a batched product without copying W_1)
                z = torch.bmm(weights[0], self.x_train_t.expand(chains, -1, -1))
            value, slope = self._pair(z)
            values.append(value)
            slopes.append(slope)
        scale = self._scales[-1]
        h = torch.bmm(a.unsqueeze(1), values[-1]).squeeze(1).mul_(scale)  # (C, n)
        nll, grad_h = self._likelihood_and_slope(h)
        grad = theta.clone()  # the prior's term; the likelihood's is added block by block
        *grad_weights, grad_a = self.unflatten(grad)
        grad_a.add_(torch.bmm(values[-1], grad_h.unsqueeze(-1)).squeeze(-1), alpha=scale)
        row = (a * scale).unsqueeze(-1)  # s_L a: (C, d_L, 1)
        # g_h ⊙ φ′(Z_L), without diag(s_L a); broadcast for activations whose slope is a constant
        local = torch.broadcast_to(slopes[-1] * grad_h.unsqueeze(1), values[-1].shape)
        for index in range(depth - 1, -1, -1):
            below = self.x_train if index == 0 else values[index - 1].transpose(1, 2)
            alpha = 1.0 if index == 0 else self._scales[index - 1]
            if index == 0:
                product = torch.mm(local.reshape(-1, local.shape[-1]), below).view_as(grad_weights[0])
            else:
                product = torch.bmm(local, below).mul_(alpha)
            if row is not None:
                product.mul_(row)
            grad_weights[index].add_(product)
            if index:
                w = weights[index] if row is None else weights[index] * row
                local = torch.bmm(w.transpose(1, 2), local).mul_(self._scales[index - 1])
                local.mul_(slopes[index - 1])
                row = None
        return nll + 0.5 * torch.linalg.vecdot(theta, theta), grad

    def _likelihood_and_slope(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """−Σ_μ log P_out(Y_μ | h_μ) per chain and its derivative in h (the readouts' likelihoods)."""
        if self.readout.likelihood == "probit":
            # −log Φ(t), t = y h/√Δ; d/dh = −(y/√Δ) N(t)/Φ(t). With Φ(t) = ½ e^{−t²/2} erfcx(−t/√2) the
            # inverse Mills ratio is √(2/π)/erfcx(−t/√2): no cancellation at large |t|, also in float32.
            root = math.sqrt(self.noise)
            t = self.y_train * h / root
            mills = math.sqrt(2.0 / math.pi) / torch.special.erfcx(-t / math.sqrt(2.0))
            return -torch.special.log_ndtr(t).sum(-1), -(self.y_train / root) * mills
        # (y − f(h))²/(2Δ); d/dh = (f(h) − y) f′(h)/Δ
        if self.readout.name == "linear":  # f′ = 1: two fewer passes
            residual = h - self.y_train
            nll = torch.linalg.vecdot(residual, residual).mul_(0.5 / self.noise)
            return nll, residual.mul_(1.0 / self.noise)
        value, slope = self.readout.torch_with_derivative(h)
        residual = value - self.y_train
        return residual.square().sum(-1) / (2.0 * self.noise), residual * slope / self.noise

    def predict(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Clean-output draws f(h) per chain and input, (C, n); sign(h) for the sign readout."""
        return self.readout.torch_fn(self.pre_readout(theta, x))
