"""Sampler benchmark: deeplin's batched HMC against NumPyro's NUTS and BlackJAX on the same deep posterior.

Every sampler sees the same teacher, data and prior (deeplin.deep_equivalence.teacher), runs back to back in
one process at the same thread count pinned to the same cores, and is scored the same way: bulk ESS (ArviZ) of the posterior mean of
the test predictions, median over test points, per second and per 1000 chain-gradient evaluations. Compile
(JIT) time is timed apart from warm-up and sampling.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import math
import os
import time

import numpy as np

from .bench_common import PROBLEMS as PROBLEMS  # the CLI and tests read them here
from .bench_common import BenchProblem, BenchResult, initial_positions, score
from .teacher import PointData

log = logging.getLogger("deeplin")


def run_deeplin(
    problem: BenchProblem,
    data: PointData,
    chains: int,
    warmup: int,
    samples: int,
    leapfrog_steps: int,
    dtype: str,
    device: str,
    seed: int,
    rao_blackwell: bool = False,
) -> list[BenchResult]:
    """deeplin's batched HMC with the analytic gradient; chains start from the prior.

    The kept draws' test predictions are computed by a hook, outside the sampler's own clock; their time
    is added to the sampling time, as BlackJAX computes them inside its timed scan. With `rao_blackwell`
    a second result scores the same run's Rao–Blackwellised means (deeplin.deep_equivalence.rao_blackwell)
    by their equivalent ESS; its time is the sampler's plus what the pipeline's kept draw of a linear
    readout costs (predictions and conditional means together, `predictions_and_conditional_means`) in
    place of the plain predictions. Its errors and R-hat are the plain draws'.
    """
    import torch

    from ..hmc import HMCConfig, on_draw, sample
    from .deep_model import DeepPosterior
    from .rao_blackwell import equivalent_ess, predictions_and_conditional_means

    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    widths = [problem.width] * (problem.depth + 1)
    posterior = DeepPosterior(
        data.x_train, data.y_train, widths, "tanh", "linear", problem.noise, device, torch_dtype
    )
    init = torch.from_numpy(initial_positions(chains, posterior.dim, seed, dtype))
    x_test = torch.as_tensor(data.x_test, dtype=torch_dtype, device=device)
    config = HMCConfig(warmup=warmup, samples=samples, leapfrog_steps=leapfrog_steps, progress=False)
    draws = torch.empty((config.kept, chains, x_test.shape[0]), dtype=torch_dtype, device=device)
    conditional = torch.empty_like(draws) if rao_blackwell else None
    seconds = {"plain": 0.0, "plain_cpu": 0.0, "rao_blackwell": 0.0, "rao_blackwell_cpu": 0.0}

    def record(index: int, position) -> None:
        start, start_cpu = time.perf_counter(), time.process_time()
        draws[index] = posterior.predict(position, x_test)
        middle, middle_cpu = time.perf_counter(), time.process_time()
        if conditional is not None:  # the pipeline's kept draw: both rows from one product
            conditional[index] = predictions_and_conditional_means(posterior, position, x_test)[:, 1]
        seconds["plain"] += middle - start
        seconds["plain_cpu"] += middle_cpu - start_cpu
        seconds["rao_blackwell"] += time.perf_counter() - middle
        seconds["rao_blackwell_cpu"] += time.process_time() - middle_cpu

    def clock(state) -> None:  # CPU time from the end of warm-up (hooks included)
        if state.iteration == warmup:
            seconds["cpu_start"] = time.process_time()

    seconds["cpu_start"] = time.process_time()
    result = sample(posterior.potential_and_grad, init.to(device), config, seed, [clock, on_draw(record)])
    sampling_cpu = time.process_time() - seconds["cpu_start"]
    by_chain = draws.permute(1, 0, 2).double().cpu().numpy()
    warmup_grads = int(result.n_gradients_warmup) * chains
    plain = BenchResult(
        sampler=f"deeplin HMC ({dtype}, {leapfrog_steps} leapfrog steps)",
        chains=chains,
        compile_seconds=0.0,  # eager PyTorch on CPU: nothing is compiled
        warmup_seconds=float(result.seconds_warmup),
        sampling_seconds=float(result.seconds_sampling) + seconds["plain"],
        sampling_cpu_seconds=sampling_cpu - seconds["rao_blackwell_cpu"],
        warmup_gradients=warmup_grads,
        sampling_gradients=int(result.n_gradients) * chains - warmup_grads,
        **score(by_chain, data),
    )
    if conditional is None:
        return [plain]
    rb_by_chain = conditional.permute(1, 0, 2).double().cpu().numpy()
    scored = score(rb_by_chain, data)
    metrics = dict(plain.metrics, ess_bulk_median=float(np.median(equivalent_ess(by_chain, rb_by_chain))))
    rb = dataclasses.replace(
        plain,
        sampler=f"deeplin HMC + Rao-Blackwell ({dtype}, {leapfrog_steps})",
        sampling_seconds=plain.sampling_seconds - seconds["plain"] + seconds["rao_blackwell"],
        sampling_cpu_seconds=sampling_cpu - seconds["plain_cpu"],
        metrics=metrics,
        peer="deeplin-rb",
        mean=scored["mean"],
        mcse=scored["mcse"],
    )
    return [plain, rb]


def _numpyro_model(x, y, widths, noise):
    """The same posterior in NumPyro: N(0, 1) weights, X_l = tanh(W_l X_{l−1})/√d_l, y ~ N(aᵀX_L, Δ)."""
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    layer = x
    for index in range(1, len(widths)):
        shape = (widths[index], widths[index - 1])
        w = numpyro.sample(f"W{index}", dist.Normal(0.0, 1.0).expand(shape).to_event(2))
        layer = jnp.tanh(layer @ w.T) / math.sqrt(widths[index])
    a = numpyro.sample("a", dist.Normal(0.0, 1.0).expand((widths[-1],)).to_event(1))
    numpyro.sample("y", dist.Normal(layer @ a, math.sqrt(noise)), obs=y)


def _numpyro_predictions(samples: dict, x_test: np.ndarray, depth: int) -> np.ndarray:
    """(chains, draws, n_test) clean predictions aᵀX_L(x_test) from NumPyro's grouped samples."""
    layer = np.broadcast_to(x_test, samples["a"].shape[:2] + x_test.shape)
    for index in range(1, depth + 1):
        w = np.asarray(samples[f"W{index}"], dtype=np.float64)
        layer = np.tanh(np.einsum("cgnd,cged->cgne", layer, w)) / math.sqrt(w.shape[-2])
    return np.einsum("cgne,cge->cgn", layer, np.asarray(samples["a"], dtype=np.float64))


def run_numpyro(
    problem: BenchProblem, data: PointData, chains: int, warmup: int, samples: int, dtype: str, seed: int
) -> BenchResult:
    """NumPyro NUTS with default settings, one chain after another (each a fresh MCMC on JAX's jit cache).

    A first, discarded chain pays for tracing and XLA compilation: compile time = its wall time minus the
    mean of the timed chains. Warm-up and sampling are timed apart (`MCMC.warmup`, then `MCMC.run`).
    """
    import jax

    jax.config.update("jax_enable_x64", dtype == "float64")
    from numpyro.infer import MCMC, NUTS

    widths = [problem.width] * (problem.depth + 1)
    cast = np.float64 if dtype == "float64" else np.float32
    args = (data.x_train.astype(cast), data.y_train.astype(cast), widths, problem.noise)

    def one_chain(key) -> tuple[float, float, int, int, dict, float]:
        mcmc = MCMC(
            NUTS(_numpyro_model), num_warmup=warmup, num_samples=samples, num_chains=1, progress_bar=False
        )
        start = time.perf_counter()
        mcmc.warmup(key, *args, collect_warmup=True, extra_fields=("num_steps",))
        jax.block_until_ready(mcmc.post_warmup_state)
        warm_steps = int(np.sum(mcmc.get_extra_fields()["num_steps"]))
        middle, middle_cpu = time.perf_counter(), time.process_time()
        mcmc.run(mcmc.post_warmup_state.rng_key, *args, extra_fields=("num_steps",))
        draws = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        cpu = time.process_time() - middle_cpu
        steps = int(np.sum(mcmc.get_extra_fields()["num_steps"]))
        return middle - start, time.perf_counter() - middle, warm_steps, steps, draws, cpu

    first = one_chain(jax.random.PRNGKey(seed + 10_000))  # includes tracing and compilation; discarded
    runs = [one_chain(jax.random.PRNGKey(seed + chain)) for chain in range(chains)]
    grouped = {name: np.concatenate([np.asarray(run[4][name]) for run in runs]) for name in runs[0][4]}
    predictions = _numpyro_predictions(grouped, data.x_test, problem.depth)
    warm, sampling = sum(run[0] for run in runs), sum(run[1] for run in runs)
    return BenchResult(
        sampler=f"NumPyro NUTS ({dtype})",
        chains=chains,
        compile_seconds=max(first[0] + first[1] - (warm + sampling) / chains, 0.0),
        warmup_seconds=warm,
        sampling_seconds=sampling,
        sampling_cpu_seconds=sum(run[5] for run in runs),
        warmup_gradients=sum(run[2] for run in runs),
        sampling_gradients=sum(run[3] for run in runs),
        **score(predictions, data),
        peer="numpyro",
    )


# What run_numpyro imports, and the distribution each comes from (jaxlib is jax's compiled half).
NUMPYRO_PEERS = {"jax": "jax", "jaxlib": "jaxlib", "numpyro": "numpyro", "numpyro.infer": "numpyro"}


def _missing(peers: dict[str, str], comparison: str, skip_option: str) -> str | None:
    for module, package in peers.items():
        try:
            importlib.import_module(module)
        except (ImportError, RuntimeError) as exc:  # jax raises RuntimeError for a mismatched jaxlib
            why = " ".join(f"{type(exc).__name__}: {exc}".split())
            return (
                f"the {comparison} comparison needs the package {package!r}, which does not import ({why}); "
                f"install it with `pip install -e '.[bench]'` in the deeplin checkout, or pass {skip_option}"
            )
    return None


def missing_numpyro() -> str | None:
    """Why the NumPyro half of the benchmark cannot run here (a peer does not import), or None if it can.

    Checked before anything is timed, so that a missing extra costs seconds, not half a benchmark. Call it
    after limit_threads: importing jax reads the XLA flags.
    """
    return _missing(NUMPYRO_PEERS, "NumPyro", "--skip-numpyro")


def missing_blackjax() -> str | None:
    """Why the BlackJAX comparison cannot run here, or None if it can (as `missing_numpyro`)."""
    from .bench_blackjax import BLACKJAX_PEERS

    return _missing(BLACKJAX_PEERS, "BlackJAX", "--skip-blackjax")


def limit_threads(threads: int) -> list[int]:
    """The same intra-op thread count and the same cores for every sampler; returns the cores.

    XLA reads its flags at import (call this first), and its runtime starts helper threads besides the
    intra-op pool; pinning the process (os.sched_setaffinity, inherited by every thread started later) to
    the first `threads` of the cores it may use keeps all of them, for every sampler, on those cores.
    """
    allowed = sorted(os.sched_getaffinity(0))
    cores = allowed[:threads]
    os.sched_setaffinity(0, cores)
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
        f" intra_op_parallelism_threads={threads}"
    ).strip()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    import torch

    torch.set_num_threads(threads)
    return cores


RATIOS = (
    ("ess_per_s", "ESS/s"),
    ("ess_per_cpu_s", "ESS per CPU-second"),
    ("ess_per_s_total", "ESS/s incl. warm-up"),
    ("ess_per_1000_grad", "ESS per 1000 gradients"),
    ("grad_per_s", "gradients/s"),
)


def format_results(problem: BenchProblem, results: list[BenchResult]) -> str:
    """A table per problem, then the `ratio` lines of each deeplin row over each peer, and over the best
    BlackJAX variant by ESS/s (sampling time)."""
    dim = problem.width * problem.width * problem.depth + problem.width
    lines = [
        (
            f"problem {problem.name}: L={problem.depth}, d0=d_l={problem.width}, n={problem.n}, "
            f"noise={problem.noise}, seed={problem.seed}, {dim} parameters, {problem.test_size} test points"
        )
    ]
    columns = [
        "chains",
        "compile_s",
        "warmup_s",
        "sampling_s",
        "grad_per_s",
        "ess_bulk",
        "ess_per_s",
        "ess_per_s_total",
        "cpu_per_wall",
        "ess_per_cpu_s",
        "ess_per_1000_grad",
        "rhat_max",
        "error",
        "error_nishimori",
    ]
    lines.append(f"{'sampler':44s}" + "".join(f"{c:>18s}" for c in columns))
    for result in results:
        row = result.row()
        lines.append(f"{result.sampler:44s}" + "".join(f"{row[c]:18.4g}" for c in columns))
    ours = [r for r in results if r.peer.startswith("deeplin")]
    peers = [r for r in results if not r.peer.startswith("deeplin")]
    for own in ours:
        for peer in peers:
            for key, label in RATIOS if own is ours[0] else RATIOS[:2] + RATIOS[3:4]:
                lines.append(f"ratio {label} {own.peer}/{peer.peer}: {own.row()[key] / peer.row()[key]:.2f}x")
    blackjax = [r for r in peers if r.peer.startswith("blackjax")]
    if blackjax:
        best = max(blackjax, key=lambda r: r.row()["ess_per_s"])
        for own in ours:
            ratio = own.row()["ess_per_s"] / best.row()["ess_per_s"]
            lines.append(f"ratio ESS/s {own.peer}/best BlackJAX ({best.peer}): {ratio:.2f}x")
    return "\n".join(lines)


# Dense peak FLOP/s (no tensor cores) of cards this project runs on, from NVIDIA's data sheets (SXM parts).
PEAK_TFLOPS = {"H100": {"float32": 67.0, "float64": 34.0}, "H200": {"float32": 67.0, "float64": 34.0}}


def throughput(
    width: int = 400,
    n: int = 800,
    depth: int = 2,
    chains: int = 64,
    dtype: str = "float32",
    device: str = "cpu",
    steps: int = 50,
    seed: int = 0,
) -> dict:
    """Chain-gradients per second of the static (on CUDA: graph-captured) leapfrog on a d = width network.

    FLOP per chain-gradient = 2(3L − 1)·n·d² (L forward products, L weight gradients and L − 1
    back-propagated products, 2 FLOP per multiply-add); the roofline fraction uses `PEAK_TFLOPS`.
    """
    import torch

    from ..hmc import StaticLeapfrog
    from .deep_model import DeepPosterior

    torch_dtype = {"float64": torch.float64, "float32": torch.float32}[dtype]
    generator = np.random.default_rng(seed)
    x = generator.standard_normal((n, width)) / math.sqrt(width)
    posterior = DeepPosterior(
        x, generator.standard_normal(n), [width] * (depth + 1), "tanh", "linear", 0.1, device, torch_dtype
    )
    theta = torch.randn(
        chains, posterior.dim, dtype=torch_dtype, generator=torch.Generator().manual_seed(seed)
    )
    theta = theta.to(device)
    momentum, inv_mass = torch.randn_like(theta), torch.ones_like(theta)
    step = torch.full((chains,), 1e-3, dtype=torch_dtype, device=device)
    _, grad = posterior.potential_and_grad(theta)
    integrator = StaticLeapfrog(posterior.potential_and_grad, theta)  # captures on CUDA
    integrator(theta, momentum, grad, step, inv_mass, 2)  # warm-up (and capture)
    synchronize = torch.cuda.synchronize if theta.device.type == "cuda" else (lambda: None)
    synchronize()
    start = time.perf_counter()
    integrator(theta, momentum, grad, step, inv_mass, steps)
    synchronize()
    seconds = time.perf_counter() - start
    rate = chains * steps / seconds
    flop = 2.0 * (3 * depth - 1) * n * width**2
    name = torch.cuda.get_device_name(theta.device) if theta.device.type == "cuda" else "CPU"
    peak = next((p[dtype] for key, p in PEAK_TFLOPS.items() if key in name), None)
    return {
        "device": name,
        "dtype": dtype,
        "chains": chains,
        "captured": integrator.graph is not None,
        "chain_gradients_per_s": rate,
        "tflops": rate * flop / 1e12,
        "roofline_fraction": rate * flop / (peak * 1e12) if peak else None,
    }
