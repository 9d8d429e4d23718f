"""Faults: interrupted posterior jobs resume from their checkpoints with identical numbers,
diverging or non-finite runs fail (or retry with a smaller step) without writing a metric."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import deeplin.checkpoint as checkpoint_module
import numpy as np
import pytest
import torch
from deeplin.checkpoint import FORMAT, Checkpoint, load_checkpoint, save_checkpoint
from deeplin.config import validate_slice
from deeplin.deep_equivalence.data import make_data
from deeplin.deep_equivalence.posterior import (
    SamplerFailure,
    deep_posterior,
    retry_target_accept,
    sampling_problem,
)
from snakemake_runs import BIN, VENV_ENV, snakemake, write_config

MODEL = {"activation": "tanh", "depth": 2, "readout": "linear", "noise": 0.1, "width_ratios": [1.0, 1.0]}
SAMPLER = {
    "chains": 4,
    "warmup": 40,
    "samples": 40,
    "max_samples": 10,  # at most samples: a fixed length, unless a test asks for blocks
    "leapfrog_steps": 4,
    "target_accept": 0.8,
    "dtype": "float64",
    "device": "cpu",
}
# Wall-clock fields: the only ones allowed to differ between an interrupted and an uninterrupted run.
TIMING_KEYS = {"seconds", "seconds_warmup", "seconds_sampling"}


def settings(**sampler) -> dict:
    """The posterior step's settings as its rule passes them: validated, the schema's defaults filled in."""
    section = {"sampler": dict(SAMPLER, **sampler), "analysis": {}}
    return validate_slice({"deep_equivalence": section})["deep_equivalence"]


def numbers(path: Path) -> dict:
    """A posterior.json without its wall-clock fields."""
    return {k: v for k, v in json.loads(path.read_text()).items() if k not in TIMING_KEYS}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults") / "data.npz"
    make_data("faults", MODEL, 6, 1.0, 0, 50, str(path))
    return path


def test_sampling_problem_names_non_finite_chains_and_divergence_excess() -> None:
    draws, potential = np.zeros((4, 10, 3)), np.zeros((4, 10))
    assert sampling_problem(draws, potential, 2, 40, 0.05) is None  # 5 % is allowed
    assert "3 of 40 sampling transitions (7.5 %) diverged" in sampling_problem(draws, potential, 3, 40, 0.05)
    draws[2, 5, 1] = np.nan
    potential[3, 0] = np.inf
    assert (
        sampling_problem(draws, potential, 0, 40, 0.05)
        == "non-finite predictions or potentials in chain(s) [2, 3]"
    )
    assert [retry_target_accept(0.8, k) for k in range(3)] == pytest.approx([0.8, 0.9, 0.95])


def test_diverging_run_fails_without_metrics_or_retries_with_smaller_steps(
    data: Path, tmp_path: Path
) -> None:
    # Aiming at 2 % acceptance makes dual averaging choose steps so large that every transition diverges.
    reckless = {"warmup": 60, "samples": 60, "target_accept": 0.02}
    out = tmp_path / "posterior.json"
    with pytest.raises(SamplerFailure, match=r"faults d0=6 alpha=1 seed=0: .*diverged.*divergence_retries"):
        deep_posterior(str(data), settings(**reckless), str(out), str(tmp_path / "summary.npz"))
    assert not out.exists() and not (tmp_path / "summary.npz").exists()
    metrics = deep_posterior(str(data), settings(**reckless, divergence_retries=3), str(out))
    assert metrics["attempts"] >= 2 and metrics["target_accept_used"] == retry_target_accept(
        0.02, metrics["attempts"] - 1
    )
    assert metrics["divergences"] <= 0.05 * 4 * 60


def test_non_finite_data_fails_the_job_with_the_point_and_reason(data: Path, tmp_path: Path) -> None:
    with np.load(data) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["y_train"] = arrays["y_train"].copy()
    arrays["y_train"][0] = np.nan
    broken = tmp_path / "broken.npz"
    np.savez(broken, **arrays)
    out = tmp_path / "posterior.json"
    section = {"sampler": {"chains": 4, "warmup": 10, "samples": 10, "device": "cpu"}, "analysis": {}}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deeplin",
            "deep_equivalence",
            "posterior",
            "--settings",
            json.dumps({"deep_equivalence": section}),
            "--data",
            str(broken),
            "--out",
            str(out),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and not out.exists()
    assert "Traceback" not in result.stderr
    assert (
        "faults d0=6 alpha=1 seed=0: non-finite potential or gradient at the initial position of chains [0, 1, 2, 3]"
        in result.stderr
    )


class _Killed(Exception):
    """Stands in for SIGKILL: raised right after a checkpoint was written."""


# Sampling in blocks: checks after 40, 60, 80 and 100 sampling iterations (warm-up 40), and an ESS target no
# run reaches, so that each run goes through every block to the budget.
BLOCKS = {"max_samples": 100, "block_samples": 20}
UNREACHABLE = {"min_ess": 1e9}


# Killed in the first block, right after the first check's iteration (80, saved before it was checked), and
# in the middle of a later block.
@pytest.mark.parametrize("kill_at", [55, 80, 95])
def test_interrupted_run_resumes_from_its_checkpoint_with_identical_numbers(
    data, tmp_path, monkeypatch, caplog, kill_at
) -> None:
    blocks = settings(**BLOCKS)
    blocks["analysis"].update(UNREACHABLE)
    deep_posterior(str(data), blocks, str(tmp_path / "clean.json"), str(tmp_path / "clean.npz"))
    ckpt = tmp_path / "posterior.checkpoint.pt"
    real_save = checkpoint_module.save_checkpoint

    def save_then_die(path, fingerprint, snapshot: Checkpoint) -> None:
        real_save(path, fingerprint, snapshot)
        if snapshot.state["iteration"] >= kill_at:
            raise _Killed

    monkeypatch.setattr(checkpoint_module, "save_checkpoint", save_then_die)
    with pytest.raises(_Killed):
        deep_posterior(
            str(data), blocks, str(tmp_path / "run.json"), str(tmp_path / "run.npz"), str(ckpt), 1e-9
        )
    assert ckpt.exists() and not (tmp_path / "run.json").exists()
    # sampling iterations 40 .. kill_at - 1 recorded
    assert torch.load(ckpt, weights_only=True)["draws"].shape[0] == kill_at - 40
    monkeypatch.setattr(checkpoint_module, "save_checkpoint", real_save)
    with caplog.at_level(logging.INFO, logger="deeplin.deep_equivalence.posterior"):
        deep_posterior(
            str(data), blocks, str(tmp_path / "run.json"), str(tmp_path / "run.npz"), str(ckpt), 1e-9
        )
    assert "resumed from checkpoint" in caplog.text and f"at iteration {kill_at} " in caplog.text
    clean = json.loads((tmp_path / "clean.json").read_text())
    assert (clean["stopped"], clean["blocks"], clean["samples_per_chain"]) == ("budget", 4, 100)
    assert "budget" in clean["flagged_by"].split(";")
    assert not ckpt.exists()  # never survives a successful finish
    assert numbers(tmp_path / "run.json") == numbers(tmp_path / "clean.json")
    with np.load(tmp_path / "run.npz") as run, np.load(tmp_path / "clean.npz") as clean:
        assert all(np.array_equal(run[k], clean[k]) for k in clean.files)


def test_a_checkpoint_of_other_settings_is_ignored(data: Path, tmp_path: Path, caplog) -> None:
    ckpt = tmp_path / "posterior.checkpoint.pt"
    save_checkpoint(ckpt, "another-run", Checkpoint(attempt=0, state={}, draws=torch.zeros(0)))
    with caplog.at_level(logging.WARNING, logger="deeplin.checkpoint"):
        assert load_checkpoint(ckpt, "this-run") is None
    assert "belongs to other data or sampler settings" in caplog.text
    ckpt.write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING, logger="deeplin.checkpoint"):
        assert load_checkpoint(ckpt, "this-run") is None
    assert "unreadable" in caplog.text
    save_checkpoint(ckpt, "this-run", Checkpoint(attempt=0, state={}, draws=torch.zeros(0)))
    record = torch.load(ckpt, weights_only=True)
    torch.save(dict(record, format=FORMAT - 1), ckpt)  # a checkpoint of an older sampler state layout
    with caplog.at_level(logging.WARNING, logger="deeplin.checkpoint"):
        assert load_checkpoint(ckpt, "this-run") is None
    assert f"has format {FORMAT - 1}, not {FORMAT}" in caplog.text
    metrics = deep_posterior(str(data), settings(), str(tmp_path / "run.json"), None, str(ckpt), 1e-9)
    clean = deep_posterior(str(data), settings(), str(tmp_path / "clean.json"))
    assert metrics["error_raw"] == clean["error_raw"] and not ckpt.exists()


KILL_STUDY = {
    "deep_equivalence": {
        "models": {"tanh-L1": {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}},
        "theory": {"alpha_min": 0.5, "alpha_max": 2.0, "alpha_num": 2},
        "simulation": {"models": ["tanh-L1"], "widths": [24], "alphas": [2.0], "seeds": 1, "test_size": 50},
        # ~3 s of sampling, a checkpoint every 0.2 s
        "sampler": {
            "chains": 4,
            "warmup": 200,
            "samples": 300,
            "max_samples": 800,
            "block_samples": 250,  # checks after 300, 550 and 800 sampling iterations
            "leapfrog_steps": 8,
            "checkpoint_seconds": 0.2,
        },
        "analysis": {"min_ess": 1e9},  # never reached: the run goes through every block to the budget
    }
}
POINT = "results/default/deep_equivalence/sims/tanh-L1/d24/alpha2.0/seed0"


def _snakemake_in_background(repo: Path, workdir: Path, **popen) -> subprocess.Popen:
    """The point's posterior job through Snakemake (two cores), not waited for."""
    command = [
        str(BIN / "snakemake"),
        f"{POINT}/posterior.json",
        "-s",
        str(repo / "Snakefile"),
        "-d",
        str(workdir),
        "--cores",
        "2",
        "--configfile",
        str(workdir / "study.yaml"),
    ]
    return subprocess.Popen(
        command,
        env=VENV_ENV,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


@pytest.mark.slow
@pytest.mark.workflow
def test_sigkill_in_the_middle_of_sampling_then_restart_gives_the_uninterrupted_results(
    repo, tmp_path
) -> None:
    runs = {name: tmp_path / name for name in ("clean", "killed")}
    for workdir in runs.values():
        workdir.mkdir()
        write_config(workdir / "study.yaml", KILL_STUDY)
    clean = _snakemake_in_background(repo, runs["clean"])
    # Its own session, so that one killpg reaches Snakemake and every job it started, as a crash would.
    killed = _snakemake_in_background(repo, runs["killed"], start_new_session=True)
    ckpt = runs["killed"] / POINT / "posterior.checkpoint.pt"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and killed.poll() is None:
        if _checkpoint_iteration(ckpt) > KILL_STUDY["deep_equivalence"]["sampler"]["warmup"] + 350:
            break
        time.sleep(0.1)
    assert killed.poll() is None, f"the run ended before it could be killed:\n{killed.stderr.read()[-3000:]}"
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert clean.wait(timeout=300) == 0, clean.stderr.read()[-3000:]
    assert not (runs["killed"] / POINT / "posterior.json").exists()
    time.sleep(0.5)  # let the killed job's process disappear
    assert not _processes_using(runs["killed"]), "a job outlived the killed Snakemake"

    # What a user does after a crash: unlock, rerun (the profile's rerun-incomplete redoes the killed job).
    for extra in ("--unlock", "--rerun-incomplete"):
        snakemake(
            repo,
            runs["killed"],
            f"{POINT}/posterior.json",
            "--configfile",
            str(runs["killed"] / "study.yaml"),
            extra,
        )
    log = (runs["killed"] / POINT / "posterior.log").read_text()
    assert "resumed from checkpoint" in log, log[-2000:]  # in the second block (after warm-up + 350)
    assert "sampling stopped after 800 iterations per chain and 3 block check(s)" in log, log[-2000:]
    assert not ckpt.exists()
    assert numbers(runs["killed"] / POINT / "posterior.json") == numbers(
        runs["clean"] / POINT / "posterior.json"
    )
    with (
        np.load(runs["killed"] / POINT / "posterior_summary.npz") as a,
        np.load(runs["clean"] / POINT / "posterior_summary.npz") as b,
    ):
        assert a.files == b.files and all(np.array_equal(a[k], b[k]) for k in b.files)


def _checkpoint_iteration(path: Path) -> int:
    """The iteration a checkpoint was saved at; -1 while there is none (or it is being replaced)."""
    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["state"]["iteration"])
    except Exception:  # noqa: BLE001 (absent, or mid-rename: try again)
        return -1


def _processes_using(workdir: Path) -> list[int]:
    """PIDs whose command line mentions ``workdir`` (jobs left behind by a killed run)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(workdir).encode() in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
    return found
