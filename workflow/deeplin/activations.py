"""Registry of hidden-layer activations φ and output readouts f.

Adding an activation is one entry in ``ACTIVATIONS``; everything else (config validation, the layer
recursion, the CLI choices) reads this dictionary. Closed forms of the two Gaussian moments the layer
recursion needs (docs/deep_equivalence.md, 'Layer recursion') are attached where they exist so that quadrature can
be cross-checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ArrayFn = Callable[[np.ndarray], np.ndarray]
MomentFn = Callable[[float], float]

_SQRT2 = math.sqrt(2.0)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _tanh_pair(x):
    # tanh x = 2σ(2x) − 1 exactly; torch's CPU sigmoid kernel is ~2× faster than its tanh (measured on
    # (16, 50, 100) float32: 144 vs 284 µs), error ≤ 2e-7 (float32) and 4e-16 (float64) absolute.
    t = torch_sigmoid(x * 2.0).mul_(2.0).sub_(1.0)
    return t, 1.0 - t * t


def torch_sigmoid(x):
    """σ(x) as a tensor method (this module does not import torch)."""
    return x.sigmoid()


def _erf_pair(x):
    # d/dx erf(x/√2) = √(2/π) exp(−x²/2)
    return (x / _SQRT2).erf(), _SQRT_2_OVER_PI * (-0.5 * x * x).exp()


@dataclass(frozen=True)
class Activation:
    """A hidden-layer nonlinearity φ with its derivative.

    ``second_moment(v)`` = E φ(√v Z)² and ``mean_derivative(v)`` = E φ′(√v Z), Z ~ N(0,1), are
    closed forms when known (None otherwise). ``odd`` is what the deep Gaussian equivalence needs.
    """

    name: str
    description: str
    fn: ArrayFn
    derivative: ArrayFn
    odd: bool
    second_moment: MomentFn | None = None
    mean_derivative: MomentFn | None = None
    torch_fn: Callable | None = None  # the same φ on torch tensors (tensor methods: no torch import here)
    # (φ(z), φ′(z)) on torch tensors, sharing work where possible: the analytic gradient of the posterior.
    torch_with_derivative: Callable | None = None


def _erf_fn(x: np.ndarray) -> np.ndarray:
    from scipy import special  # here, not at the top: the config check imports this module in every job

    return special.erf(np.asarray(x) / _SQRT2)


def _erf_derivative(x: np.ndarray) -> np.ndarray:
    return math.sqrt(2.0 / math.pi) * np.exp(-np.square(x) / 2.0)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation(
        name="tanh",
        description="hyperbolic tangent",
        fn=np.tanh,
        derivative=lambda x: 1.0 - np.square(np.tanh(x)),
        odd=True,
        torch_fn=lambda x: x.tanh(),
        torch_with_derivative=_tanh_pair,
    ),
    # erf(x/√2): closed forms E φ(√v Z)² = (2/π) arcsin(v/(1+v)), E φ′(√v Z) = √(2/(π(1+v))).
    "erf": Activation(
        name="erf",
        description="erf(x/sqrt(2))",
        fn=_erf_fn,
        derivative=_erf_derivative,
        odd=True,
        second_moment=lambda v: (2.0 / math.pi) * math.asin(v / (1.0 + v)),
        mean_derivative=lambda v: math.sqrt(2.0 / (math.pi * (1.0 + v))),
        torch_fn=lambda x: (x / _SQRT2).erf(),
        torch_with_derivative=_erf_pair,
    ),
    # sin: closed forms E sin²(√v Z) = (1 − e^{−2v})/2, E cos(√v Z) = e^{−v/2}.
    "sin": Activation(
        name="sin",
        description="sine",
        fn=np.sin,
        derivative=np.cos,
        odd=True,
        second_moment=lambda v: 0.5 * (1.0 - math.exp(-2.0 * v)),
        mean_derivative=lambda v: math.exp(-v / 2.0),
        torch_fn=lambda x: x.sin(),
        torch_with_derivative=lambda x: (x.sin(), x.cos()),
    ),
    # identity: E (√v Z)² = v, E 1 = 1 (deep linear network: γ0 = 0, η0 = 1).
    "linear": Activation(
        name="linear",
        description="identity",
        fn=lambda x: np.asarray(x, dtype=float),
        derivative=lambda x: np.ones_like(np.asarray(x, dtype=float)),
        odd=True,
        second_moment=lambda v: v,
        mean_derivative=lambda v: 1.0,
        torch_fn=lambda x: x,
        torch_with_derivative=lambda x: (x, x.new_ones(())),
    ),
    # Known so that validation can explain why it is refused: not odd, E relu(√v Z) ≠ 0
    # (docs/deep_equivalence.md, 'Equivalence theorem').
    "relu": Activation(
        name="relu",
        description="max(x, 0); not odd, rejected for the deep Gaussian equivalence",
        fn=lambda x: np.maximum(x, 0.0),
        derivative=lambda x: (np.asarray(x) > 0).astype(float),
        odd=False,
        second_moment=lambda v: v / 2.0,
        mean_derivative=lambda v: 0.5,
        torch_fn=lambda x: x.relu(),
        torch_with_derivative=lambda x: (x.relu(), (x > 0).to(x.dtype)),
    ),
}


def non_odd_message(name: str) -> str:
    """Why a non-odd activation is refused (shared by config validation and the numerics)."""
    return (
        f"activation '{name}' is not odd: the deep Gaussian equivalence (Camilli et al. 2025, "
        "arXiv 2505.03577) needs zero-mean, odd activations. A non-odd φ such as ReLU has mean terms "
        "E φ(√σ Z) ≠ 0 that the "
        "σ/ρ/ε recursion does not carry (they become random per-neuron biases in the next layer), so the "
        f"equivalent GLM would be wrong. Odd activations available: {', '.join(odd_activation_names())}."
    )


def odd_activation_names() -> list[str]:
    """Names of the activations the equivalence theorem covers."""
    return [name for name, act in ACTIVATIONS.items() if act.odd]


def get_activation(name: str, *, allow_non_odd: bool = False) -> Activation:
    """Look up an activation by name; refuse non-odd ones unless explicitly allowed."""
    try:
        act = ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation '{name}'; known: {', '.join(sorted(ACTIVATIONS))}") from None
    if not act.odd and not allow_non_odd:
        raise ValueError(non_odd_message(name))
    return act


@dataclass(frozen=True)
class Readout:
    """An output function f of the teacher (docs/deep_equivalence.md, 'Deep teacher and Bayes-optimal student').

    ``likelihood`` is 'gaussian' for Y = f(h) + √Δ Z and 'probit' for Y = sign(h + √Δ Z) (noise inside).
    ``invertible`` readouts with Δ = 0 reveal h itself, which the GLM solver uses.
    """

    name: str
    fn: ArrayFn
    likelihood: str
    invertible: bool
    torch_fn: Callable
    torch_with_derivative: Callable | None = None  # (f(h), f′(h)) for the Gaussian likelihood's gradient


READOUTS: dict[str, Readout] = {
    "linear": Readout(
        "linear",
        lambda x: np.asarray(x, dtype=float),
        "gaussian",
        True,
        lambda x: x,
        lambda x: (x, x.new_ones(())),
    ),
    "tanh": Readout("tanh", np.tanh, "gaussian", True, lambda x: x.tanh(), _tanh_pair),
    "sign": Readout("sign", np.sign, "probit", False, lambda x: x.sign()),
}


def get_readout(name: str) -> Readout:
    """Look up a readout by name with a clear error."""
    try:
        return READOUTS[name]
    except KeyError:
        raise ValueError(f"unknown readout '{name}'; known: {', '.join(READOUTS)}") from None
