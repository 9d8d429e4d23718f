"""BlackJAX as a peer of deeplin's sampler in `deeplin deep_equivalence bench`: the same deep posterior.

BlackJAX (Cabezas et al., "BlackJAX: Composable Bayesian inference in JAX", arXiv 2402.10797) is what a
researcher would reach for here: a jitted HMC kernel, vmapped over chains, warmed up by Stan-style window
adaptation (per chain: dual averaging of the step size, Hoffman & Gelman 2014, JMLR 15:1593, §3.2, and a
diagonal inverse mass from expanding windows). Three variants are timed:

- ``hmc``: a fixed number of leapfrog steps (Neal 2011, "MCMC using Hamiltonian dynamics", §5.3.2);
- ``hmc-jitter``: that number jittered per iteration as deeplin does, round(L · U[1 − j, 1 + j]), one draw
  shared by every chain (BlackJAX's dynamic HMC with the same random argument in every chain);
- ``nuts``: the No-U-Turn sampler (Hoffman & Gelman 2014, Alg. 3 with multinomial sampling as in Stan).

The potential is written from the model as in deeplin.deep_equivalence.deep_model: θ = (W_1, …, W_L, a)
flattened row-major, X_l = tanh(W_l X_{l−1})/√d_l, h = aᵀX_L, U(θ) = Σ_μ (y_μ − h_μ)²/(2Δ) + ½‖θ‖², and
its gradient is JAX's autodiff. Warm-up and sampling are each one XLA program, compiled ahead of time so
that compile time is reported apart; predictions on the test inputs are computed inside the sampling scan.
"""

from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the CLI reads VARIANTS from here: nothing heavy at import
    from .bench_common import BenchProblem, BenchResult
    from .teacher import PointData

VARIANTS = ("hmc", "hmc-jitter", "nuts")

# What run_blackjax imports, and the distribution each comes from.
BLACKJAX_PEERS = {"jax": "jax", "jaxlib": "jaxlib", "blackjax": "blackjax"}


def network(widths: list[int]):
    """(θ, x) ↦ h = aᵀX_L(x) for one chain's flat θ, in JAX (the layout of DeepPosterior.unflatten)."""
    import jax.numpy as jnp

    shapes = [(widths[i + 1], widths[i]) for i in range(len(widths) - 1)]
    offsets = np.cumsum([0] + [r * c for r, c in shapes]).tolist()

    def pre_readout(theta, x):
        layer = x
        for (rows, cols), start in zip(shapes, offsets, strict=False):
            w = theta[start : start + rows * cols].reshape(rows, cols)
            layer = jnp.tanh(layer @ w.T) / math.sqrt(rows)
        return layer @ theta[offsets[-1] :]

    return pre_readout


def log_density(x_train, y_train, widths: list[int], noise: float):
    """θ ↦ −U(θ): the Gaussian likelihood of the linear readout plus the N(0, I) prior (up to a constant)."""
    import jax.numpy as jnp

    pre_readout = network(widths)

    def logdensity(theta):
        residual = y_train - pre_readout(theta, x_train)
        return -(jnp.sum(residual**2) / (2.0 * noise) + 0.5 * jnp.sum(theta**2))

    return logdensity


def jittered_hmc(leapfrog_steps: int, jitter: float, seed: int) -> SimpleNamespace:
    """BlackJAX's dynamic HMC whose number of steps is round(L · U[1 − j, 1 + j]), at least 1.

    Every chain starts from the same random argument and advances it the same way, so all chains take the
    same number of steps in an iteration (as in deeplin, where one draw serves the batch). The object has
    the `init` / `build_kernel` pair that BlackJAX's window adaptation expects of an algorithm.
    """
    import blackjax
    import jax
    import jax.numpy as jnp

    def steps(key):
        u = jax.random.uniform(key)
        return jnp.maximum(1, jnp.floor(leapfrog_steps * (1.0 - jitter + 2.0 * jitter * u) + 0.5)).astype(int)

    key = jax.random.PRNGKey(seed)

    def init(position, logdensity_fn):
        return blackjax.mcmc.dynamic_hmc.init(position, logdensity_fn, key)

    def build_kernel(integrator=blackjax.mcmc.integrators.velocity_verlet):
        return blackjax.mcmc.dynamic_hmc.build_kernel(integrator, integration_steps_fn=steps)

    def sampler(logdensity_fn, step_size, inverse_mass_matrix):
        kernel = build_kernel()

        def step(rng_key, state):
            return kernel(rng_key, state, logdensity_fn, step_size, inverse_mass_matrix)

        return SimpleNamespace(step=step)

    return SimpleNamespace(init=init, build_kernel=build_kernel, sampler=sampler)


def run_blackjax(
    problem: BenchProblem,
    data: PointData,
    chains: int,
    warmup: int,
    samples: int,
    leapfrog_steps: int,
    variant: str,
    dtype: str,
    seed: int,
    jitter: float = 0.2,
) -> BenchResult:
    """One BlackJAX variant on the bench posterior: vmapped chains from deeplin's initial positions.

    Compile time is the ahead-of-time lowering and compilation of the warm-up and sampling programs;
    warm-up and sampling are timed apart (each to `block_until_ready`). Gradients are counted per chain
    from BlackJAX's `num_integration_steps` (for NUTS under vmap, the useful ones: a batch waits for its
    longest tree, which costs time but is not counted).
    """
    import blackjax
    import jax
    import jax.numpy as jnp
    from blackjax.adaptation.base import get_filter_adapt_info_fn

    from .bench_common import BenchResult, initial_positions, score

    if variant not in VARIANTS:
        raise ValueError(f"BlackJAX variant must be one of {', '.join(VARIANTS)}, not {variant!r}")
    jax.config.update("jax_enable_x64", dtype == "float64")
    cast = np.float64 if dtype == "float64" else np.float32
    widths = [problem.width] * (problem.depth + 1)
    x_train, y_train = jnp.asarray(data.x_train.astype(cast)), jnp.asarray(data.y_train.astype(cast))
    x_test = jnp.asarray(data.x_test.astype(cast))
    logdensity = log_density(x_train, y_train, widths, problem.noise)
    pre_readout = network(widths)
    init = jnp.asarray(
        initial_positions(chains, problem.depth * problem.width**2 + problem.width, seed, dtype)
    )

    extra: dict = {}
    if variant == "hmc":
        algorithm, extra = blackjax.hmc, {"num_integration_steps": leapfrog_steps}
    elif variant == "hmc-jitter":
        algorithm = jittered_hmc(leapfrog_steps, jitter, seed)
    else:
        algorithm = blackjax.nuts
    adaptation = blackjax.window_adaptation(
        algorithm,
        logdensity,
        target_acceptance_rate=0.8,
        adaptation_info_fn=get_filter_adapt_info_fn(info_keys={"num_integration_steps"}),
        **extra,
    )

    def warm_one(key, position):
        (state, parameters), info = adaptation.run(key, position, warmup)
        return (
            state,
            parameters["step_size"],
            parameters["inverse_mass_matrix"],
            info.info.num_integration_steps,
        )

    def sample_one(key, state, step_size, inverse_mass_matrix):
        if variant == "hmc-jitter":
            kernel = algorithm.sampler(logdensity, step_size, inverse_mass_matrix)
        else:
            kernel = algorithm(logdensity, step_size, inverse_mass_matrix, **extra)

        def one(state, key):
            state, info = kernel.step(key, state)
            return state, (pre_readout(state.position, x_test), info.num_integration_steps)

        return jax.lax.scan(one, state, jax.random.split(key, samples))[1]

    warm_keys, sample_keys = (
        jax.random.split(k, chains) for k in jax.random.split(jax.random.PRNGKey(seed), 2)
    )
    start = time.perf_counter()
    warm_program = jax.jit(jax.vmap(warm_one)).lower(warm_keys, init).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    state, step_size, inverse_mass, warm_steps = jax.block_until_ready(warm_program(warm_keys, init))
    warmup_seconds = time.perf_counter() - start
    start = time.perf_counter()
    sample_program = (
        jax.jit(jax.vmap(sample_one)).lower(sample_keys, state, step_size, inverse_mass).compile()
    )
    compile_seconds += time.perf_counter() - start
    start, start_cpu = time.perf_counter(), time.process_time()
    predictions, steps = jax.block_until_ready(sample_program(sample_keys, state, step_size, inverse_mass))
    sampling_seconds, sampling_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    by_chain = np.asarray(predictions, dtype=np.float64)  # (chains, draws, n_test)
    return BenchResult(
        sampler=f"BlackJAX {variant} ({dtype}" + (")" if variant == "nuts" else f", {leapfrog_steps} steps)"),
        chains=chains,
        compile_seconds=compile_seconds,
        warmup_seconds=warmup_seconds,
        sampling_seconds=sampling_seconds,
        sampling_cpu_seconds=sampling_cpu,
        warmup_gradients=chains + int(np.sum(np.asarray(warm_steps))),  # the initial gradient, then warm-up
        sampling_gradients=int(np.sum(np.asarray(steps))),
        **score(by_chain, data),
        peer=f"blackjax-{variant}",
    )
