"""Grouped posterior jobs (sampler.points_per_job, docs/sampler.md): the seeds of one cell sampled in one chain
tensor write every point's posterior.json and summary exactly as a job of its own does (on a CPU, bit for bit),
also when one point converges before the other, when a point is retried, and when the job is killed and resumed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import deeplin.checkpoint as checkpoint_module
import numpy as np
import pytest
import torch
from deeplin.deep_equivalence import posterior as posterior_module
from deeplin.deep_equivalence import posterior_group as group_module
from deeplin.deep_equivalence.data import make_data
from deeplin.deep_equivalence.posterior import deep_posterior
from deeplin.deep_equivalence.posterior_group import deep_posterior_group
from test_posterior import TANH_L2, settings

# Blocks of 40 after 40 sampling iterations, at most 120 (the first test decides the criterion itself, so
# that the second point of the group leaves it first on every machine).
SAMPLER = {"warmup": 40, "samples": 40, "max_samples": 120, "block_samples": 40}
ANALYSIS = {"min_ess": 100, "min_rhat_fraction": 0.6}
TIMING_KEYS = {"seconds", "seconds_warmup", "seconds_sampling", "provenance"}
SEEDS = (2, 6)


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> list[str]:
    folder = tmp_path_factory.mktemp("group")
    paths = []
    for seed in SEEDS:
        path = folder / f"seed{seed}.npz"
        make_data("tiny", TANH_L2, 8, 1.0, seed, 50, str(path))
        paths.append(str(path))
    return paths


def numbers(path: Path | str) -> dict:
    """A posterior.json without its wall-clock fields (and the provenance's timestamp)."""
    record = json.loads(Path(path).read_text())
    same = {k: v for k, v in record.items() if k not in TIMING_KEYS}
    same["config_hash"] = record["provenance"]["config_hash"]
    return same


def summaries_equal(a: Path | str, b: Path | str) -> bool:
    with np.load(a) as x, np.load(b) as y:
        return all(np.array_equal(x[k], y[k]) for k in ("posterior_mean", "posterior_variance"))


def _alone(data: list[str], folder: Path, config: dict) -> list[tuple[Path, Path]]:
    outs = []
    for k, path in enumerate(data):
        out = (folder / f"alone{k}.json", folder / f"alone{k}.npz")
        deep_posterior(path, config, str(out[0]), str(out[1]))
        outs.append(out)
    return outs


def _grouped(
    data: list[str], folder: Path, config: dict, checkpoint: Path | None = None
) -> list[tuple[Path, Path]]:
    outs = [(folder / f"group{k}.json", folder / f"group{k}.npz") for k in range(len(data))]
    deep_posterior_group(
        data,
        config,
        [str(m) for m, _ in outs],
        [str(s) for _, s in outs],
        str(checkpoint) if checkpoint else None,
        1e-9,
    )
    return outs


def _decided(monkeypatch, module) -> None:
    """The criterion's decision made independent of the machine's rounding (which moves a marginal R-hat
    across its threshold): seed 6 stops at its second check (80 iterations), seed 2 never (the budget, 120).
    The real criterion still runs (its log line and its work), so each side evaluates it alike."""
    real = module.converged

    def decided(point, thresholds, draws, state):
        real(point, thresholds, draws, state)
        return point.meta["seed"] == 6 and state.iteration - state.plan.warmup >= 80

    monkeypatch.setattr(module, "converged", decided)


def test_a_grouped_job_writes_every_points_files_as_its_own_job_would(
    data, tmp_path, caplog, monkeypatch
) -> None:
    config = settings(SAMPLER, ANALYSIS)
    _decided(monkeypatch, posterior_module)
    alone = _alone(data, tmp_path, config)
    _decided(monkeypatch, group_module)
    with caplog.at_level(logging.INFO, logger="deeplin.deep_equivalence.posterior"):
        grouped = _grouped(data, tmp_path, config)
    records = [numbers(m) for m, _ in alone]
    assert [(r["stopped"], r["samples_per_chain"], r["blocks"]) for r in records] == [
        ("budget", 120, 3),
        ("converged", 80, 2),
    ]
    for (a_metrics, a_summary), (g_metrics, g_summary) in zip(alone, grouped, strict=True):
        assert numbers(g_metrics) == numbers(a_metrics)
        assert summaries_equal(g_summary, a_summary)
    # one line per point saying how many blocks and why it stopped
    for seed, record in zip(SEEDS, records, strict=True):
        line = (
            f"seed={seed}: sampling stopped after {record['samples_per_chain']} iterations per chain and "
            f"{record['blocks']} block check(s): "
        )
        assert caplog.text.count(line) == 1, line
    # power: the comparison tells points apart (another point's record differs in its estimates)
    assert numbers(grouped[0][0])["error_raw"] != numbers(alone[1][0])["error_raw"]


class _Killed(Exception):
    """Stands in for SIGKILL: raised right after a checkpoint was written."""


def _iteration(snapshot: checkpoint_module.Checkpoint) -> int:
    return max(int(entry["state"]["iteration"]) for entry in snapshot.state["points"].values())


def test_a_point_that_fails_is_retried_as_its_own_job_retries_it(data, tmp_path, monkeypatch) -> None:
    """Seed 6's first attempt is declared failed: it alone runs attempt 2 (in either case the second check of
    a finished attempt is seed 6's first: the separate jobs run in seed order, the group checks in seed order)."""
    config = settings({**SAMPLER, "divergence_retries": 1}, ANALYSIS)
    real = posterior_module.sampling_problem

    def fail_second_check(seen: list):
        def problem(by_chain, potential, divergences, transitions, max_fraction):
            seen.append(1)
            if len(seen) == 2:
                return "declared failed by the test"
            return real(by_chain, potential, divergences, transitions, max_fraction)

        return problem

    monkeypatch.setattr(posterior_module, "sampling_problem", fail_second_check([]))
    alone = _alone(data, tmp_path, config)
    monkeypatch.setattr(group_module, "sampling_problem", fail_second_check([]))
    grouped = _grouped(data, tmp_path, config)
    assert [numbers(m)["attempts"] for m, _ in alone] == [1, 2]
    for (a_metrics, a_summary), (g_metrics, g_summary) in zip(alone, grouped, strict=True):
        assert numbers(g_metrics) == numbers(a_metrics)
        assert summaries_equal(g_summary, a_summary)

    # killed in the retry (seed 2 finished by attempt 1, in the checkpoint), then resumed: the same files
    ckpt = tmp_path / "group.checkpoint.pt"
    real_save = checkpoint_module.save_checkpoint

    def save_then_die(path, fingerprint, snapshot) -> None:
        real_save(path, fingerprint, snapshot)
        if snapshot.attempt == 1 and _iteration(snapshot) >= 60:
            raise _Killed

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", save_then_die)
    monkeypatch.setattr(group_module, "sampling_problem", fail_second_check([]))
    (tmp_path / "killed").mkdir()
    with pytest.raises(_Killed):
        _grouped(data, tmp_path / "killed", config, ckpt)
    saved = torch.load(ckpt, weights_only=True)
    assert saved["attempt"] == 1 and [saved["state"]["points"][k]["attempt"] for k in (0, 1)] == [0, 1]
    monkeypatch.setattr(checkpoint_module, "save_checkpoint", real_save)
    resumed = _grouped(data, tmp_path / "killed", config, ckpt)
    for (a_metrics, a_summary), (r_metrics, r_summary) in zip(alone, resumed, strict=True):
        assert numbers(r_metrics) == numbers(a_metrics)
        assert summaries_equal(r_summary, a_summary)


# Killed in warm-up, and after seed 6 has left the group (at iteration 40 + 80) while seed 2 goes on.
@pytest.mark.parametrize("kill_at", [30, 130])
def test_a_killed_group_resumes_from_its_checkpoint_bit_identically(
    data, tmp_path, monkeypatch, caplog, kill_at
) -> None:
    config = settings(SAMPLER, ANALYSIS)
    (tmp_path / "clean").mkdir()
    clean = _grouped(data, tmp_path / "clean", config)
    ckpt = tmp_path / "group.checkpoint.pt"
    real_save = checkpoint_module.save_checkpoint

    def save_then_die(path, fingerprint, snapshot) -> None:
        real_save(path, fingerprint, snapshot)
        if _iteration(snapshot) >= kill_at:
            raise _Killed

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        _grouped(data, tmp_path, config, ckpt)
    assert ckpt.exists() and not (tmp_path / "group0.json").exists()
    saved = torch.load(ckpt, weights_only=True)["state"]["points"]
    if kill_at > 120:
        assert saved[1]["state"]["stopped"] == "converged" and saved[0]["state"]["stopped"] == ""
    monkeypatch.setattr(checkpoint_module, "save_checkpoint", real_save)
    with caplog.at_level(logging.INFO, logger="deeplin.deep_equivalence.posterior"):
        resumed = _grouped(data, tmp_path, config, ckpt)
    assert f"resumed from checkpoint {ckpt} at iteration {kill_at} " in caplog.text
    assert not ckpt.exists()  # never survives a successful finish
    for (c_metrics, c_summary), (r_metrics, r_summary) in zip(clean, resumed, strict=True):
        assert numbers(r_metrics) == numbers(c_metrics)
        assert summaries_equal(r_summary, c_summary)


def test_a_group_holds_the_seeds_of_one_cell(data, tmp_path) -> None:
    other = tmp_path / "wide.npz"
    make_data("tiny", TANH_L2, 10, 1.0, 0, 50, str(other))
    with pytest.raises(ValueError, match="one \\(model, d0, alpha\\) cell"):
        deep_posterior_group([data[0], str(other)], settings(SAMPLER, ANALYSIS), ["a.json", "b.json"])
    with pytest.raises(ValueError, match="names a point twice"):
        deep_posterior_group([data[0], data[0]], settings(SAMPLER, ANALYSIS), ["a.json", "b.json"])


def test_the_rungs_of_a_mutual_information_point_group_as_seeds_do(data, tmp_path, caplog) -> None:
    """Two rungs of one point (same seed, inputs and shapes; their noise rescaled) in one chain tensor: each
    rung's files equal those of its own job, and the group's log names each rung by its folder's label."""
    from deeplin.deep_equivalence.groups import member_tag, point_files, take_point
    from deeplin.deep_equivalence.mi_ladder import write_rung

    rungs = []
    for snr in (0.5, 10.0):
        path = tmp_path / f"snr{snr!r}.npz"
        write_rung(data[0], snr, str(path))
        rungs.append(str(path))
    config = settings({**SAMPLER, "max_samples": 40}, ANALYSIS)  # a fixed length: the test is the grouping
    alone = _alone(rungs, tmp_path, config)
    group_dir = tmp_path / "rungs0-1"
    outs = [point_files(group_dir, f"snr{snr!r}") for snr in (0.5, 10.0)]
    for metrics, _ in outs:
        metrics.parent.mkdir(parents=True)
    with caplog.at_level(logging.INFO, logger="deeplin.deep_equivalence.posterior"):
        deep_posterior_group(rungs, config, [str(m) for m, _ in outs], [str(s) for _, s in outs])
    group_log = tmp_path / "rungs0-1.log"
    group_log.write_text(caplog.text)
    for k, snr in enumerate((0.5, 10.0)):
        member = f"snr{snr!r}"
        assert member_tag(member) in caplog.text
        taken = tmp_path / f"taken{k}.json", tmp_path / f"taken{k}.npz", tmp_path / f"taken{k}.log"
        take_point(str(group_dir), str(group_log), member, *map(str, taken))
        assert numbers(taken[0]) == numbers(alone[k][0])
        assert summaries_equal(taken[1], alone[k][1])
        mine = taken[2].read_text()
        assert member_tag(member) in mine and member_tag(f"snr{(0.5, 10.0)[1 - k]!r}") not in mine
    # power: the two rungs' posteriors differ (the noise 1/s is not the same)
    assert numbers(alone[0][0])["error_raw"] != numbers(alone[1][0])["error_raw"]


def test_a_posterior_jobs_memory_request_follows_its_store_of_draws() -> None:
    """posterior_mem_mb: 500 MB + per point 100 MB + three float64 copies of its draws at the budget
    (⌈4000/2⌉ kept × 8 chains × 1000 predictions = 16 million values = 122 MB each)."""
    from deeplin.deep_equivalence.groups import posterior_mem_mb

    sampler = {"samples": 400, "max_samples": 4000, "thin": 2, "chains": 8}
    one = 100 + 3 * 2000 * 8 * 1000 * 8 / 2**20
    assert posterior_mem_mb(sampler, 1000) == int(np.ceil(500 + one))
    assert posterior_mem_mb(sampler, 1000, 10) == int(np.ceil(500 + 10 * one))
    # a fixed length below the first check: the budget is the first check
    assert posterior_mem_mb({**sampler, "max_samples": 10}, 1000) == int(
        np.ceil(500 + 100 + 3 * 200 * 64e3 / 2**20)
    )
    # power: the request grows with the predictions stored, by three float64 copies of the extra draws
    extra = posterior_mem_mb(sampler, 10_000) - posterior_mem_mb(sampler, 1000)
    assert abs(extra - 3 * 2000 * 8 * 9000 * 8 / 2**20) <= 1
