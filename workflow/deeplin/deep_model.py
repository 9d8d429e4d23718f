"""The deep student's posterior as a potential over flat, chain-batched parameters (SPEC §1.5).

θ = (W_1, …, W_L, a) flattened per chain into a (C, D) tensor; U(θ) = −Σ_μ log P_out(Y_μ | aᵀX_μ⁽ᴸ⁾(W))
+ ½‖θ‖² with the Gaussian prior of SPEC §1.1, and the same normalisation as the teacher (deeplin.teacher).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .activations import get_activation, get_readout


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
        self.readout = get_readout(readout)
        if noise <= 0:
            raise ValueError(f"the deep posterior needs noise > 0, got {noise}")
        self.noise = float(noise)
        self.device, self.dtype = torch.device(device), dtype
        self.x_train = torch.as_tensor(x_train, dtype=dtype, device=self.device)
        self.y_train = torch.as_tensor(y_train, dtype=dtype, device=self.device)
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

    def pre_readout(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """h = aᵀX⁽ᴸ⁾ for every chain and input: (C, n), with X⁽ˡ⁾ = φ(W X⁽ˡ⁻¹⁾)/√d_l (SPEC §1.1)."""
        *weights, a = self.unflatten(theta)
        layer = x.unsqueeze(0)  # (1, n, d0), broadcast over chains
        for w, scale in zip(weights, self._scales, strict=True):
            layer = self.phi(torch.matmul(layer, w.transpose(1, 2))) * scale
        return torch.matmul(layer, a.unsqueeze(-1)).squeeze(-1)

    def potential(self, theta: torch.Tensor) -> torch.Tensor:
        """U(θ) per chain: negative log likelihood plus ½‖θ‖² (SPEC §1.5)."""
        h = self.pre_readout(theta, self.x_train)
        if self.readout.likelihood == "probit":
            # P(y | h) = Φ(y h / √Δ) for Y = sign(h + √Δ Z) (SPEC §1.1, noise inside)
            nll = -torch.special.log_ndtr(self.y_train * h / math.sqrt(self.noise)).sum(-1)
        else:
            # Y = f(h) + √Δ Z: −log N(y; f(h), Δ) up to a constant
            nll = (self.y_train - self.readout.torch_fn(h)).square().sum(-1) / (2.0 * self.noise)
        return nll + 0.5 * theta.square().sum(-1)

    def predict(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Clean-output draws f(h) per chain and input, (C, n); sign(h) for the sign readout."""
        return self.readout.torch_fn(self.pre_readout(theta, x))
