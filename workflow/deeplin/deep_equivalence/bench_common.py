"""What every sampler in `deeplin deep_equivalence bench` shares: the problems, the initial positions and the
scored result (bulk ESS of the test-prediction posterior mean, median over test points; docs/benchmark.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .layers import layer_coefficients
from .teacher import PointData, make_point


@dataclass(frozen=True)
class BenchProblem:
    """One benchmark posterior: depth-L tanh network, linear readout, d0 = d_1 = … = d_L, n samples."""

    name: str
    depth: int
    width: int
    n: int
    noise: float = 0.1
    seed: int = 0
    test_size: int = 128

    def data(self) -> PointData:
        model = {
            "activation": "tanh",
            "depth": self.depth,
            "readout": "linear",
            "noise": self.noise,
            "width_ratios": [1.0] * self.depth,
        }
        coefficients = layer_coefficients("tanh", self.depth)
        return make_point(
            "bench",
            model,
            self.width,
            self.n / self.width,
            self.seed,
            self.test_size,
            coefficients.eta0,
            coefficients.gamma0,
        )


PROBLEMS = {
    "small": BenchProblem("small", depth=1, width=50, n=100),  # L = 1, d0 = d1 = 50, n = 100
    "large": BenchProblem("large", depth=2, width=200, n=400),  # L = 2, d0 = 200, n = 400
}


@dataclass
class BenchResult:
    """What one sampler achieved on one problem."""

    sampler: str
    chains: int
    compile_seconds: float
    warmup_seconds: float
    sampling_seconds: float
    warmup_gradients: int  # chain-gradient evaluations, all chains together
    sampling_gradients: int
    metrics: dict = field(default_factory=dict)
    peer: str = "deeplin"  # the name in the `ratio` lines
    sampling_cpu_seconds: float = math.nan  # process CPU time of sampling: robust to a shared machine
    mean: np.ndarray | None = None  # (n_test,) posterior mean of the clean test predictions
    mcse: np.ndarray | None = None  # (n_test,) its Monte Carlo standard error, sd / √(ESS of the mean)

    @property
    def ess(self) -> float:
        return self.metrics["ess_bulk_median"]

    def row(self) -> dict[str, float]:
        """The printed figures: rates, ESS and efficiency."""
        return {
            "chains": self.chains,
            "compile_s": self.compile_seconds,
            "warmup_s": self.warmup_seconds,
            "sampling_s": self.sampling_seconds,
            "grad_per_s": self.sampling_gradients / self.sampling_seconds,
            "ess_bulk": self.ess,
            "ess_per_s": self.ess / self.sampling_seconds,
            "ess_per_s_total": self.ess / (self.warmup_seconds + self.sampling_seconds),
            "cpu_per_wall": self.sampling_cpu_seconds / self.sampling_seconds,
            "ess_per_cpu_s": self.ess / self.sampling_cpu_seconds,
            "ess_per_1000_grad": 1000.0 * self.ess / self.sampling_gradients,
            "rhat_max": self.metrics["rhat_max"],
            "error": self.metrics["error_corrected"],
            "error_nishimori": self.metrics["error_nishimori"],
        }


def initial_positions(chains: int, dim: int, seed: int, dtype: str) -> np.ndarray:
    """(chains, dim) N(0, 1) starting points, from the prior, the same for every sampler of a run."""
    import torch

    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    return torch.randn(chains, dim, generator=torch.Generator().manual_seed(seed), dtype=torch_dtype).numpy()


def score(by_chain: np.ndarray, data: PointData) -> dict:
    """The scoring every sampler shares, from (chains, draws, n_test) clean test predictions.

    `metrics`: the pooled error, R-hat and bulk-ESS summary (median over test points); `mean` and `mcse`:
    per test point, the posterior mean and its Monte Carlo standard error sd/√ESS_mean (the ESS of the
    mean, Vehtari et al. 2021, Bayesian Analysis 16(2), §3.2), so two samplers' means can be compared.
    """
    from .posterior_metrics import _diagnostics, pooled_metrics

    by_chain = np.asarray(by_chain, dtype=np.float64)
    _, _, ess = _diagnostics(by_chain, with_rhat=False)
    flat = by_chain.reshape(-1, by_chain.shape[-1])
    return {
        "metrics": pooled_metrics(by_chain, data.clean_test, data.y_test, sign=False),
        "mean": flat.mean(axis=0),
        "mcse": flat.std(axis=0, ddof=1) / np.sqrt(np.asarray(ess, dtype=np.float64)),
    }


def mean_chi2(first: BenchResult, second: BenchResult) -> float:
    """mean_i (m₁ − m₂)² / (mcse₁² + mcse₂²) over test points: ≈ 1 when both sample one posterior."""
    return float(np.mean((first.mean - second.mean) ** 2 / (first.mcse**2 + second.mcse**2)))
