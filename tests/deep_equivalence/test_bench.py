"""`deeplin deep_equivalence bench` pieces on a tiny posterior (no timing asserted); the README test runs the
command."""

from __future__ import annotations

import dataclasses
import math
import os
import sys

import numpy as np
import pytest
from deeplin.cli import main
from deeplin.deep_equivalence import bench
from deeplin.deep_equivalence.bench import BenchProblem, _numpyro_predictions, format_results, run_deeplin

TINY = BenchProblem("tiny", depth=2, width=6, n=12, test_size=20)


def test_deeplin_run_counts_gradients_and_scores_draws() -> None:
    (result,) = run_deeplin(
        TINY,
        TINY.data(),
        chains=4,
        warmup=30,
        samples=40,
        leapfrog_steps=5,
        dtype="float64",
        device="cpu",
        seed=1,
    )
    row = result.row()
    # 40 sampling iterations × 4 chains × (5 ± 20 % jittered) leapfrog steps
    assert 4 * 40 * 4 <= result.sampling_gradients <= 4 * 40 * 6
    # 30 warm-up iterations (and the initial gradient) the same way
    assert 4 * (1 + 30 * 4) <= result.warmup_gradients <= 4 * (1 + 30 * 6)
    assert result.warmup_seconds > 0 and result.sampling_seconds > 0 and result.compile_seconds == 0
    assert 0 < row["ess_bulk"] <= 4 * 40 * 3 and math.isfinite(row["error"]) and row["error"] > 0
    assert row["ess_per_1000_grad"] == pytest.approx(1000 * row["ess_bulk"] / result.sampling_gradients)
    peers = [dataclasses.replace(result, peer=name) for name in ("blackjax-hmc", "blackjax-nuts", "numpyro")]
    text = format_results(TINY, [result, *peers])
    assert "ratio ESS/s deeplin/numpyro: 1.00x" in text and "problem tiny: L=2" in text
    assert "ratio gradients/s deeplin/blackjax-nuts: 1.00x" in text
    assert "ratio ESS/s deeplin/best BlackJAX (blackjax-hmc): 1.00x" in text
    assert result.mean.shape == result.mcse.shape == (20,) and np.all(result.mcse > 0)


def test_numpyro_predictions_follow_the_network_convention() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w1, w2, a = rng.standard_normal((5, 4)), rng.standard_normal((2, 5)), rng.standard_normal(2)
    samples = {"W1": w1[None, None], "W2": w2[None, None], "a": a[None, None]}
    expected = np.tanh(np.tanh(x @ w1.T) / math.sqrt(5) @ w2.T) / math.sqrt(2) @ a
    assert np.allclose(_numpyro_predictions(samples, x, depth=2)[0, 0], expected)


def test_throughput_counts_flops_of_the_static_integrator_on_cpu() -> None:
    from deeplin.deep_equivalence.bench import throughput

    figures = throughput(width=8, n=16, depth=2, chains=4, dtype="float64", steps=3)
    assert figures["device"] == "CPU" and not figures["captured"] and figures["roofline_fraction"] is None
    flop = 2 * (3 * 2 - 1) * 16 * 8**2
    assert figures["tflops"] == pytest.approx(figures["chain_gradients_per_s"] * flop / 1e12)


# ---- a missing NumPyro stops `deeplin deep_equivalence bench` before anything runs ----


@pytest.fixture
def no_thread_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """limit_threads would set this test process's thread counts and XLA flags."""
    monkeypatch.setattr(bench, "limit_threads", lambda threads: [0])


def never(*args, **kwargs):
    raise AssertionError("the benchmark started although a peer is missing")


@pytest.mark.usefixtures("no_thread_changes")
@pytest.mark.parametrize(
    ("missing", "peer", "skip", "option"),
    [
        ("jax", "NumPyro", [], "--skip-numpyro"),
        ("numpyro", "NumPyro", [], "--skip-numpyro"),
        ("jax", "BlackJAX", ["--skip-numpyro"], "--skip-blackjax"),
        ("blackjax", "BlackJAX", ["--skip-numpyro"], "--skip-blackjax"),
    ],
)
def test_bench_without_a_peer_fails_before_running(
    monkeypatch, capsys, missing: str, peer: str, skip: list[str], option: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # `import <missing>` now raises ImportError
    monkeypatch.setattr(bench, "run_deeplin", never)
    monkeypatch.setattr(BenchProblem, "data", never)
    with pytest.raises(SystemExit) as exc:
        main(["deep_equivalence", "bench", "--size", "small", *skip])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith(
        f"deeplin deep_equivalence bench: error: the {peer} comparison needs the package {missing!r}"
    )
    assert "pip install -e '.[bench]'" in line and option in line


@pytest.mark.usefixtures("no_thread_changes")
def test_bench_skipping_the_peers_needs_neither(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "numpyro", None)
    monkeypatch.setitem(sys.modules, "blackjax", None)
    monkeypatch.setattr(bench, "missing_numpyro", never)
    monkeypatch.setattr(bench, "missing_blackjax", never)
    monkeypatch.setattr(bench, "PROBLEMS", {"small": TINY})
    argv = [
        "deep_equivalence",
        "bench",
        "--size",
        "small",
        "--skip-numpyro",
        "--skip-blackjax",
        "--chains",
        "2",
        "--warmup",
        "10",
        "--samples",
        "10",
        "--leapfrog-steps",
        "3",
        "--dtype",
        "float64",
    ]
    assert main(argv) == 0
    assert "problem tiny: L=2" in capsys.readouterr().out


def test_limit_threads_pins_the_process_to_as_many_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    before, threads = os.sched_getaffinity(0), torch.get_num_threads()
    for name in ("XLA_FLAGS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(name, "")
    try:
        cores = bench.limit_threads(1)
        assert cores == [min(before)] and os.sched_getaffinity(0) == {min(before)}
        assert "intra_op_parallelism_threads=1" in os.environ["XLA_FLAGS"]
    finally:
        os.sched_setaffinity(0, before)
        torch.set_num_threads(threads)


def test_missing_numpyro_is_none_where_the_bench_extra_is_installed() -> None:
    pytest.importorskip("numpyro", reason="the bench extra (NumPyro) is not installed")
    assert bench.missing_numpyro() is None


def test_deeplin_rao_blackwell_row_estimates_the_same_means() -> None:
    from deeplin.deep_equivalence.bench_common import mean_chi2

    problem = BenchProblem("tiny1", depth=1, width=4, n=8, test_size=16)
    plain, rb = run_deeplin(
        problem, problem.data(), 8, 150, 300, 8, "float64", "cpu", seed=2, rao_blackwell=True
    )
    assert rb.peer == "deeplin-rb" and rb.sampling_gradients == plain.sampling_gradients
    assert rb.sampling_seconds > plain.sampling_seconds and rb.row()["error"] == plain.row()["error"]
    # the same run's two estimates of one posterior mean: their difference is within Monte Carlo error
    assert mean_chi2(plain, rb) < 3.0
    text = format_results(problem, [plain, rb, dataclasses.replace(plain, peer="blackjax-hmc")])
    assert "ratio ESS/s deeplin-rb/best BlackJAX (blackjax-hmc)" in text
