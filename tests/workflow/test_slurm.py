"""SLURM end to end: the tiny study through profiles/slurm on a throw-away one-node cluster = a local run.

The cluster (tests/workflow/slurm/cluster.py) has accounting (slurmdbd + MariaDB) and one stand-in GPU, so the test
can ask sacct which jobs SLURM ran, under which account and partition, and that the posterior job was given
the GPU the study requested (deep_equivalence.sampler.gpus, .gpu_model). It needs root on Debian (missing packages are
installed with apt-get) and skips elsewhere, saying why. Timings: run with -rP (or -s) to see them.
"""

from __future__ import annotations

import csv
import json
import re
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from slurm.cluster import GPU_TYPE, LoopbackCluster, Unavailable, ensure_packages
from snakemake_runs import BIN, VENV_ENV, tiny_study

pytestmark = pytest.mark.workflow

PROFILE = "profiles/slurm"
TARGET = "results/default/deep_equivalence/tables/simulations.csv"  # every per-point job and the table
SIMS = "results/default/deep_equivalence/sims"
# The workflow tests' tiny study (tests/deep_equivalence/workflow.yaml), one stand-in GPU per posterior job,
# sampling on CPU.
STUDY = tiny_study()
STUDY["deep_equivalence"]["sampler"].update(gpus=1, gpu_model=GPU_TYPE, device="cpu")
# Jobs per simulation point that must go through SLURM; every other rule is a localrule.
REMOTE_RULES = ("deep_equivalence_data", "deep_equivalence_posterior", "deep_equivalence_twin")
# First status check 1 s after a submission instead of the executor's 40 s (later ones back off by 10 s each):
# fine for a test, too chatty for a real cluster. (Snakemake's --seconds-between-status-checks has no effect
# with this executor, which sets every interval itself.)
FAST_STATUS_CHECKS = ("--slurm-init-seconds-before-status-checks", "1")
# Keys and columns that legitimately differ between two runs: wall-clock durations (posterior.json's seconds,
# seconds_warmup, seconds_sampling; glm_twin.json's seconds; their copies in metrics.json and the deep_/twin_
# columns of simulations.csv). Everything else, provenance included, must be identical.
VOLATILE = re.compile(r"seconds")
RUN_TIMEOUT_S = 300
# Resources the profile may default: the executor's (snakemake-executor-plugin-slurm 2.x) and Snakemake's.
KNOWN_RESOURCES = {
    "slurm_partition",
    "slurm_account",
    "runtime",
    "mem_mb",
    "mem_mb_per_cpu",
    "cpus_per_task",
    "nodes",
    "tasks",
    "constraint",
    "qos",
    "slurm_extra",
    "gres",
    "gpu",
    "gpu_model",
    "tmpdir",
    "disk_mb",
}


# ------------------------------------------------------------------------------------------------- helpers
def load_profile(repo: Path) -> dict:
    """The SLURM profile as Snakemake reads it."""
    return yaml.safe_load((repo / PROFILE / "config.yaml").read_text())


def snakemake_command(repo: Path, workdir: Path, config: Path, *args: str) -> list[str]:
    """The venv's snakemake on the project's Snakefile, in workdir, with a study config."""
    return [
        str(BIN / "snakemake"),
        "-s",
        str(repo / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(config),
        *args,
    ]


def venv_env() -> dict[str, str]:
    """Our environment with the venv's programs (deeplin) first on PATH; sbatch hands it on to the jobs."""
    return dict(VENV_ENV)


@dataclass
class Run:
    """A Snakemake run started in the background, its output going to a log file (no pipe to fill up)."""

    name: str
    log: Path
    process: subprocess.Popen[bytes]

    def finish(self) -> str:
        """Wait for the run (at most RUN_TIMEOUT_S) and return its output; fail with its tail if it failed."""
        try:
            self.process.wait(RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.stop()
        output = self.log.read_text(errors="replace")
        assert self.process.returncode == 0, (
            f"{self.name} failed ({self.process.returncode}):\n{output[-5000:]}"
        )
        return output

    def stop(self) -> None:
        """Stop the run if still running: SIGINT as Ctrl-C (Snakemake cancels its jobs), SIGKILL after 30 s.

        (On SIGTERM Snakemake waits for its running jobs to finish, which may be never.)
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def strip_volatile(value: object) -> object:
    """A JSON value without its wall-clock keys, at any depth."""
    if isinstance(value, dict):
        return {k: strip_volatile(v) for k, v in value.items() if not VOLATILE.search(k)}
    if isinstance(value, list):
        return [strip_volatile(v) for v in value]
    return value


def assert_same_arrays(a: Path, b: Path) -> None:
    """Two .npz files hold the same arrays: names, dtypes and every bit of every value."""
    with np.load(a, allow_pickle=False) as left, np.load(b, allow_pickle=False) as right:
        assert sorted(left.files) == sorted(right.files), a
        for name in left.files:
            assert left[name].dtype == right[name].dtype, f"{a}:{name}"
            assert np.array_equal(left[name], right[name], equal_nan=left[name].dtype.kind in "fc"), (
                f"{a}:{name}"
            )


def assert_same_json(a: Path, b: Path) -> None:
    """Two JSON files agree except for wall-clock keys (compared as text: exact floats, NaN equals NaN)."""
    left, right = (json.dumps(strip_volatile(json.loads(p.read_text())), sort_keys=True) for p in (a, b))
    assert left == right, a


def assert_same_table(a: Path, b: Path) -> None:
    """Two CSV tables have the same rows and columns, and the same text in every non-wall-clock column."""
    left, right = (list(csv.DictReader(p.open())) for p in (a, b))
    assert len(left) == len(right) > 0 and list(left[0]) == list(right[0]), a
    columns = [c for c in left[0] if not VOLATILE.search(c)]
    assert len(columns) < len(left[0]), "expected wall-clock columns in the table; update VOLATILE"
    for row_a, row_b in zip(left, right, strict=True):
        assert {c: row_a[c] for c in columns} == {c: row_b[c] for c in columns}, a


def assert_same_results(slurm: Path, local: Path) -> int:
    """The SLURM run's per-point files and table equal the local run's; return how many files compared."""
    compared = 0
    points = sorted(p.relative_to(local) for p in (local / SIMS).glob("*/*/*/*"))
    assert points and points == sorted(p.relative_to(slurm) for p in (slurm / SIMS).glob("*/*/*/*"))
    for point in points:
        for name in ("data.npz", "posterior_summary.npz"):
            assert_same_arrays(slurm / point / name, local / point / name)
        for name in ("posterior.json", "glm_twin.json", "metrics.json"):
            assert_same_json(slurm / point / name, local / point / name)
        compared += 5
    assert_same_table(slurm / TARGET, local / TARGET)
    return compared + 1


def rule_of(comment: str) -> str:
    """The rule name in the executor's job comment, 'rule_<name>_wildcards_<values>' or 'rule_<name>'."""
    return comment.removeprefix("rule_").split("_wildcards_")[0]


def point_count(study: dict) -> int:
    """How many simulation points the study has."""
    sim = study["deep_equivalence"]["simulation"]
    return len(sim["models"]) * len(sim["widths"]) * len(sim["alphas"]) * sim["seeds"]


def require_executor_plugin() -> None:
    """Skip unless Snakemake's SLURM executor is installed (it comes with the test extras)."""
    reason = "snakemake-executor-plugin-slurm is not installed (pip install -e '.[slurm]')"
    pytest.importorskip("snakemake_executor_plugin_slurm", reason=reason)


# ------------------------------------------------------------------------------------------------- fixtures
@pytest.fixture
def start_run(tmp_path: Path):
    """Start commands in tmp_path/<name> in the background; teardown stops those still running (Ctrl-C...)."""
    runs: list[Run] = []

    def start(name: str, command: list[str]) -> Run:
        (tmp_path / name).mkdir()
        log = tmp_path / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                command, cwd=tmp_path / name, stdout=sink, stderr=subprocess.STDOUT, env=venv_env()
            )
        runs.append(Run(name, log, process))
        return runs[-1]

    yield start
    for run in runs:
        run.stop()


@pytest.fixture(scope="session")
def slurm_cluster(repo: Path):
    """A running one-node cluster with the profile's partition; skips where none can run; always torn down."""
    require_executor_plugin()
    try:
        install_seconds = ensure_packages()
    except Unavailable as reason:
        pytest.skip(f"no SLURM test cluster: {reason}")
    cluster = LoopbackCluster(partition=load_profile(repo)["default-resources"]["slurm_partition"])
    cluster.timings["apt install"] = install_seconds
    try:
        cluster.start()
    except Unavailable as reason:
        cluster.stop()
        pytest.skip(f"no SLURM test cluster: {reason}")
    except BaseException:
        cluster.stop()
        raise
    yield cluster
    cluster.stop()
    print(f"SLURM test cluster teardown: {cluster.timings['teardown']:.1f} s")
    assert not cluster.leftovers(), f"still running after teardown: {cluster.leftovers()}"


# ---------------------------------------------------------------------------------------------------- tests
def test_slurm_profile_is_accepted(repo: Path, tmp_path: Path) -> None:
    """Snakemake parses the profile (it rejects unknown top-level keys); its default resources exist."""
    require_executor_plugin()
    profile = load_profile(repo)
    assert profile["executor"] == "slurm"
    # a misspelt resource name would silently be ignored by the executor, so check them here
    assert set(profile["default-resources"]) <= KNOWN_RESOURCES
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(STUDY))
    command = snakemake_command(repo, tmp_path, config, "--profile", str(repo / PROFILE), "-n", TARGET)
    dry = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, env=venv_env())
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    # the study's GPU request reaches the posterior job's resources (the executor turns it into --gpus)
    assert f"gpu=1, gpu_model={GPU_TYPE}" in dry.stdout


@pytest.mark.slow
def test_tiny_study_on_slurm_equals_local_run(
    repo: Path, tmp_path: Path, slurm_cluster: LoopbackCluster, start_run
) -> None:
    """Every cluster job runs through SLURM (sacct), the GPU request is honoured, results = a local run's."""
    profile = load_profile(repo)
    config = tmp_path / "study.yaml"
    config.write_text(yaml.safe_dump(STUDY))
    started = time.perf_counter()
    # The local reference runs alongside (same machine, one thread per job, so the same bits are expected).
    local = start_run("local", snakemake_command(repo, tmp_path / "local", config, "--cores", "2", TARGET))
    # The profile as a user would run it, with an account (as a user uncomments slurm_account; giving
    # --default-resources replaces the profile's list, so its entries are repeated) and fast status checks.
    defaults = [f"{k}={v}" for k, v in profile["default-resources"].items()]
    slurm_run = snakemake_command(
        repo,
        tmp_path / "slurm",
        config,
        "--profile",
        str(repo / PROFILE),
        *FAST_STATUS_CHECKS,
        "--default-resources",
        *defaults,
        f"slurm_account={slurm_cluster.account}",
        "--",
        TARGET,
    )
    output = start_run("slurm", slurm_run).finish()
    slurm_seconds = time.perf_counter() - started
    local.finish()
    both_seconds = time.perf_counter() - started

    # SLURM ran exactly the non-local jobs, under the given account and the profile's partition, and the
    # posterior jobs got the GPU the study asked for.
    run_id = re.search(r"SLURM run ID: (\S+)", output)
    assert run_id, "the SLURM executor logged no run ID (its sbatch job name)"
    fields = ("JobName", "Comment", "Account", "Partition", "AllocTRES", "State")
    jobs = [job for job in slurm_cluster.sacct(*fields) if job["JobName"] == run_id.group(1)]
    assert Counter(rule_of(job["Comment"]) for job in jobs) == {
        rule: point_count(STUDY) for rule in REMOTE_RULES
    }
    for job in jobs:
        assert job["State"] == "COMPLETED" and job["Account"] == slurm_cluster.account, job
        assert job["Partition"] == profile["default-resources"]["slurm_partition"], job
        gpus = {"gres/gpu=1", f"gres/gpu:{GPU_TYPE}=1"} & set(job["AllocTRES"].split(","))
        assert len(gpus) == (2 if rule_of(job["Comment"]) == "deep_equivalence_posterior" else 0), job

    compared = assert_same_results(tmp_path / "slurm", tmp_path / "local")
    timings = {**slurm_cluster.timings, "SLURM run": slurm_seconds, "both runs": both_seconds}
    print(
        f"{len(jobs)} SLURM jobs, {compared} files equal to the local run; seconds: "
        + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
    )
