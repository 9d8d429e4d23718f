"""The deep student's posterior as a potential over flat, chain-batched parameters (docs/deep_equivalence.md,
'Sampler design').

θ = (W_1, …, W_L, a) flattened per chain into a (C, D) tensor; U(θ) = −Σ_μ log P_out(Y_μ | aᵀX_μ⁽ᴸ⁾(W))
+ ½‖θ‖² with the N(0, I) prior and the same normalisation as the teacher (deeplin.deep_equivalence.teacher; docs/deep_equivalence.md,
'Deep teacher and Bayes-optimal student').
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..activations import get_activation, get_readout
from ..shared_product import cpu_vendor, shared_product, uses_onednn


def logistic_tanh_pays(device: torch.device) -> bool:
    """Whether the tanh network's gradient and predictions form tanh from the logistic function
    (`logistic_tanh_`): on a CPU not made by Intel, where torch's tanh cost 2–3× its logistic function (an
    AMD EPYC VM); on an Intel CPU (a Sapphire Rapids VM) torch's tanh was the faster, 33 against 47 µs for
    80 k floats, and on CUDA it is one kernel against two (docs/benchmark.md). Chosen by vendor, never by
    a timing, so a machine always computes the same numbers."""
    return device.type == "cpu" and cpu_vendor() != "GenuineIntel"


def logistic_tanh_(z: torch.Tensor) -> torch.Tensor:
    """tanh(z) in place, as 2σ(2z) − 1: on an AMD CPU torch's tanh costs 2–3× its logistic function
    (`logistic_tanh_pays`), and at the sampler's shapes it was almost half of a gradient. Exact in real
    arithmetic; in floating point the absolute error is a few units of the dtype's epsilon (≤ 2e-7 in float32,
    against 3e-8 for torch's tanh), far below the posterior's scales. The potential and the gradient of a
    leapfrog step both use it, so the sampler stays exact for the potential it evaluates."""
    return tanh_of_half_(z.mul_(2.0))


def tanh_of_half_(z: torch.Tensor) -> torch.Tensor:
    """tanh(z/2) in place, as 2σ(z) − 1 (`logistic_tanh_` of z/2): the gradient's forward has its matrix
    product write 2·W X directly. The affine step is one kernel, −1 + 2σ (a 0-dim −1 broadcast)."""
    return torch.add(_minus_one(z.dtype, z.device), z.sigmoid_(), alpha=2.0, out=z)


@functools.cache
def _minus_one(dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """A 0-dim −1 per dtype and device (made once: a fresh one costs a few µs per call)."""
    return torch.full((), -1.0, dtype=dtype, device=device)


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
        self._tanh = activation == "tanh"  # φ′ = 1 − φ²: the gradient forms the slope from the value
        self._logistic = self._tanh and logistic_tanh_pays(torch.device(device))  # tanh as 2σ(2z) − 1
        self._buffers: dict[tuple, torch.Tensor] = {}  # the CPU gradient's scratch (see `_buffer`)
        self._kept_views: dict[str, tuple[torch.Tensor, list[torch.Tensor]]] = {}  # see `_parts`
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
        self._offsets = [sum(self.sizes[:i]) for i in range(len(self.sizes))]
        self._y_scaled = -self.y_train / math.sqrt(2.0 * self.noise)  # −y/√(2Δ), for `_likelihood`
        self._expanded = self.x_train_t.expand(0, -1, -1)
        self._x_train_doubled = 2.0 * self.x_train  # (n, d0): the tanh forward's product writes 2Z

    def unflatten(self, theta: torch.Tensor) -> list[torch.Tensor]:
        """Views (C, d_l, d_{l−1}) for each W_l and (C, d_L) for a."""
        parts = torch.split(theta, self.sizes, dim=-1)
        return [p.reshape(theta.shape[0], *s) for p, s in zip(parts, self.shapes, strict=True)]

    def flatten(self, weights: Sequence[np.ndarray], readout_weights: np.ndarray) -> torch.Tensor:
        """Teacher arrays → one flat θ of shape (D,) (used to start chains at the teacher)."""
        flat = np.concatenate([np.ravel(w) for w in weights] + [np.ravel(readout_weights)])
        return torch.as_tensor(flat, dtype=self.dtype, device=self.device)

    def features(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """X⁽ᴸ⁾ for every chain and input: (C, n, d_L), with X⁽ˡ⁾ = φ(W X⁽ˡ⁻¹⁾)/√d_l as in the teacher (a
        transposed view of `last_layer`'s (C, d_L, n) values)."""
        return (self.last_layer(theta, x) * self._scales[-1]).transpose(1, 2)

    def pre_readout(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """h = aᵀX⁽ᴸ⁾ = s_L aᵀT_L for every chain and input: (C, n)."""
        a = self.unflatten(theta)[-1]
        return torch.bmm(a.unsqueeze(1), self.last_layer(theta, x)).squeeze(1) * self._scales[-1]

    @property
    def last_scale(self) -> float:
        """s_L = 1/√d_L, the readout's normalisation: h = s_L aᵀT_L (`last_layer`)."""
        return self._scales[-1]

    def last_layer(self, theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """T_L for every chain and input, (C, d_L, n), in the gradient's transposed layout
        T_l = φ(s_{l−1} W_l T_{l−1}), T_0 = Xᵀ, s_0 = 1: the first layer one product of the chains' stacked
        W_1 with the shared inputs (deeplin.shared_product), the others batched products over the chains."""
        chains, layer = theta.shape[0], x
        in_place = self._tanh and not theta.requires_grad  # the draws' predictions: tanh as the gradient's
        tanh_ = logistic_tanh_ if self._logistic else torch.Tensor.tanh_
        for index, w in enumerate(self.unflatten(theta)[:-1]):
            scale = self._scales[index - 1] if index else 1.0
            if index:
                product = torch.bmm(w, layer)
            else:  # the inputs are shared by the chains: one product of the stacked W_1 with them
                stacked = w.reshape(chains * w.shape[1], w.shape[2])
                product = shared_product(stacked, x).view(chains, -1, len(x))
            if in_place:
                layer = tanh_(product if scale == 1.0 else product.mul_(scale))
            else:
                layer = self.phi(product if scale == 1.0 else product * scale)
        return layer

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

    def potential_and_grad(
        self, theta: torch.Tensor, need_potential: bool = True, out: torch.Tensor | None = None
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        """U(θ) (None unless `need_potential`) and ∇U(θ) per chain by a hand-written backward pass (no autograd graph per leapfrog step).

        Chain rule through the teacher's network, in the transposed layout Zᵀ_l = W_l Xᵀ_{l−1} (C, d_l, n),
        with T_l = φ(Z_l), X_l = s_l T_l, s_l = 1/√d_l, h = X_L a and ∂U/∂h = c·r (`_likelihood`):
        ∂U/∂a = s_L c T_Lᵀ r, ∂U/∂Zᵀ_L = s_L c diag(a) (r ⊙ φ′(Z_L)) (the diagonal and the scalars applied
        to the smaller d_L × d_{L−1} products, not to the d_L × n one), ∂U/∂W_l = (∂U/∂Zᵀ_l) X_{l−1},
        ∂U/∂Zᵀ_{l−1} = s_{l−1} (W_lᵀ ∂U/∂Zᵀ_l) ⊙ φ′(Z_{l−1}), plus θ from the N(0, I) prior. The inputs are
        shared by all chains, so the first layer's weight gradient is one GEMM over C·d_1 rows, and so is
        its forward product where oneDNN takes it (deeplin.shared_product: float32 on a non-Intel x86 CPU,
        large enough products; otherwise a batched product over the broadcast inputs). For tanh (formed
        natively or by the logistic function, `logistic_tanh_pays`), φ′ = 1 − T² is formed from T in the backward pass: r − T_L² ⊙ r over T_L's buffer once T_Lᵀ r is
        done, and M − T_l ⊙ (T_l ⊙ M) below. Equal to autograd of `potential` (tests).

        On the CPU the (C, d_l, n) temporaries live in buffers kept between calls (`_buffer`): at L = 1 a
        call runs about 15 kernels and allocates only its two results. θ must not require grad (the
        kernels write into `out=` buffers, which autograd refuses); the sampler calls it under no_grad.
        A leapfrog trajectory needs U only at its end and the inner steps' ∇U only until the next one: its
        inner steps pass ``need_potential=False`` (skipping two reductions) and one reused `out` buffer
        (`inner_steps`, deeplin.hmc.integrators).
        """
        chains, n = theta.shape[0], self.x_train.shape[0]
        *weights, a, a_column = self._parts("theta", theta)
        grad = torch.empty_like(theta) if out is None else out
        *grad_weights, grad_a = (
            self._views(grad, columns=False) if out is None else self._parts("grad", grad)[:-1]
        )
        depth, tanh, logistic = len(weights), self._tanh, self._logistic
        onednn = uses_onednn(chains * self.widths[1], self.x_train, theta)  # the first layer's two products
        values, slopes = [], []  # T_l = φ(Z_l) and φ′(Z_l) (None for tanh: formed from T_l): (C, d_l, n)
        for index in range(depth):
            z = self._buffer(f"z{index}", (chains, self.widths[index + 1], n), theta)
            double = 2.0 if logistic else 1.0  # for tanh by σ the products write 2Z (tanh_of_half_)
            if index:
                torch.bmm(weights[index], values[-1], out=z).mul_(double * self._scales[index - 1])
            elif onednn:  # one product of the stacked W_1 with the shared inputs
                stacked = weights[0].reshape(chains * self.widths[1], self.widths[0])
                z = shared_product(stacked, self._x_train_doubled if logistic else self.x_train).view(z.shape)
            elif logistic:  # the inputs broadcast over chains (a batched product without copying W_1)
                torch.baddbmm(z, weights[0], self._inputs(chains), beta=0.0, alpha=2.0, out=z)
            else:
                torch.bmm(weights[0], self._inputs(chains), out=z)
            if tanh:
                value, slope = (tanh_of_half_(z) if logistic else z.tanh_()), None
            else:
                value, slope = self.phi_with_derivative(z)
            values.append(value)
            slopes.append(slope)
        h = self._buffer("h", (chains, 1, n), theta)  # aᵀT_L, without s_L (folded into the likelihood)
        nll, r, c = self._likelihood(torch.bmm(a.unsqueeze(1), values[-1], out=h).view(chains, n))
        r = r.view(chains, 1, n)
        factor = self._scales[-1] * c  # ∂U/∂h = c r, and h = s_L aᵀT_L
        if (
            tanh
        ):  # rᵀT_Lᵀ by a batched product; then r ⊙ (1 − T_L²) = r − T_L² ⊙ r over T_L (not needed after)
            readout = torch.bmm(
                r, values[-1].transpose(1, 2), out=self._buffer("readout", (chains, 1, a.shape[1]), theta)
            )
            torch.add(a, readout.view(a.shape), alpha=factor, out=grad_a)
            local = values[-1].mul_(values[-1])  # (square_ dispatches to a slower pow_)
            torch.addcmul(r, local, r, value=-1.0, out=local)
        else:  # broadcast for activations whose slope is a constant
            torch.add(a, torch.bmm(values[-1], r.transpose(1, 2)).squeeze(-1), alpha=factor, out=grad_a)
            local = torch.broadcast_to(slopes[-1] * r, values[-1].shape).contiguous()
        for index in range(depth - 1, -1, -1):
            rows, cols = self.shapes[index]
            product = self._buffer(f"product{index}", (chains, rows, cols), theta)
            if index == 0 and onednn:  # as the forward: one shared product
                product = shared_product(local.reshape(chains * rows, n), self.x_train_t).view(product.shape)
            elif index == 0:  # one GEMM over the C·d_1 rows: the inputs are shared
                torch.mm(local.view(chains * rows, n), self.x_train, out=product.view(chains * rows, cols))
            else:
                torch.bmm(local, values[index - 1].transpose(1, 2), out=product)
            if index == depth - 1:  # the last layer: diag(s_L c a) and, below the first, s_{l−1}
                scale = factor * (self._scales[index - 1] if index else 1.0)
                torch.addcmul(weights[index], product, a_column, value=scale, out=grad_weights[index])
            else:
                scale = self._scales[index - 1] if index else 1.0
                torch.add(weights[index], product, alpha=scale, out=grad_weights[index])
            if index:  # ∂U/∂Zᵀ_{l−1} up to the scalars folded above: Wᵀ G (diag(a) G for the last layer)
                w = weights[index] * a_column if index == depth - 1 else weights[index]
                below = self._buffer(f"below{index}", values[index - 1].shape, theta)
                torch.bmm(w.transpose(1, 2), local, out=below)
                below.mul_(
                    factor * self._scales[index - 1] if index == depth - 1 else self._scales[index - 1]
                )
                if tanh:  # M ⊙ (1 − T²) = M − T ⊙ (T ⊙ M)
                    local = torch.mul(
                        values[index - 1], below, out=self._buffer(f"local{index}", below.shape, theta)
                    )
                    torch.addcmul(below, values[index - 1], local, value=-1.0, out=local)
                else:
                    local = below.mul_(slopes[index - 1])
                factor = 1.0
        if not need_potential:
            return None, grad
        return torch.add(nll(), torch.linalg.vecdot(theta, theta), alpha=0.5), grad

    potential_and_grad.inner_steps = True  # type: ignore[attr-defined]

    def _views(self, flat: torch.Tensor, columns: bool) -> list[torch.Tensor]:
        """`unflatten` by one as_strided view per block (a split and reshapes cost more kernel launches),
        plus a as a column (C, d_L, 1) if `columns`."""
        if flat.stride(-1) != 1:
            parts = self.unflatten(flat)
            return [*parts, parts[-1].unsqueeze(-1)] if columns else parts
        row, base, views = flat.stride(0), flat.storage_offset(), []
        for shape, offset in zip(self.shapes, self._offsets, strict=True):
            strides = (row, shape[1], 1) if len(shape) == 2 else (row, 1)
            views.append(flat.as_strided((flat.shape[0], *shape), strides, base + offset))
        if columns:
            views.append(
                flat.as_strided((flat.shape[0], self.shapes[-1][0], 1), (row, 1, 1), base + self._offsets[-1])
            )
        return views

    def _parts(self, role: str, flat: torch.Tensor) -> list[torch.Tensor]:
        """`_views(flat, columns=True)`, kept for the last tensor of each role ("theta", "grad"): a leapfrog
        trajectory updates one θ in place and may pass one `out` buffer, so their views stay valid (CPU
        only; elsewhere they are rebuilt)."""
        if flat.device.type != "cpu":
            return self._views(flat, columns=True)
        kept = self._kept_views.get(role)
        if kept is not None and kept[0] is flat:
            return kept[1]
        views = self._views(flat, columns=True)
        self._kept_views[role] = (flat, views)
        return views

    def _inputs(self, chains: int) -> torch.Tensor:
        """Xᵀ (d0, n) broadcast to (C, d0, n) without copying."""
        if self._expanded.shape[0] != chains:
            self._expanded = self.x_train_t.expand(chains, -1, -1)
        return self._expanded

    def _buffer(self, name: str, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """A scratch tensor of `shape` like `like`: kept between calls on the CPU, fresh elsewhere.

        Reusing CPU buffers saves the allocator's work and keeps them warm in cache. On CUDA a fresh
        `empty` is what graph capture wants: the graph's private pool fixes the addresses.
        """
        if like.device.type != "cpu":
            return like.new_empty(shape)
        key = (name, shape, like.dtype)
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = like.new_empty(shape)
        return buffer

    def _likelihood(self, raw: torch.Tensor) -> tuple[Callable[[], torch.Tensor], torch.Tensor, float]:
        """(() ↦ −Σ_μ log P_out(Y_μ | h_μ), r, c) per chain at h = s_L·raw, with ∂U/∂h = c·r (the negative
        log likelihood on demand: a trajectory's inner steps do not need it).

        For the linear readout r = (h − y)/√(2Δ), so that the negative log likelihood is r·r and
        c = √(2/Δ): one kernel forms r, and the scalars go into the gradient's later kernels.
        """
        if self.readout.name == "linear":
            r = torch.add(
                self._y_scaled,
                raw,
                alpha=self._scales[-1] / math.sqrt(2.0 * self.noise),
                out=self._buffer("r", raw.shape, raw),
            )
            return lambda: torch.linalg.vecdot(r, r), r, math.sqrt(2.0 / self.noise)
        nll, slope = self._likelihood_and_slope(raw * self._scales[-1])
        return lambda: nll, slope, 1.0

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
