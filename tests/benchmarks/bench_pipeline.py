"""End-to-end timing: the default study from scratch, then an incremental rerun after adding one α.

Copies the checked-in tree to a temporary directory, runs Snakemake there with the given cores (the
environment's `deeplin` on PATH), and prints wall times and job counts. Run with the project's venv:

    .venv/bin/python tests/benchmarks/bench_pipeline.py --cores 2
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _copy_tree(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in listed:
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)


def _snakemake(workdir: Path, cores: int, *extra: str) -> tuple[float, str]:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}")
    command = [str(BIN / "snakemake"), "--cores", str(cores), *extra]
    start = time.perf_counter()
    result = subprocess.run(command, check=False, cwd=workdir, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"snakemake failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, result.stdout + result.stderr


def _job_count(log: str) -> int:
    """Jobs Snakemake reported as run ('N of M steps (100%) done')."""
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", log)
    return int(done[-1][1]) if done else 0


def _planned(dry_run: str) -> int:
    """The 'total' of a dry run's job-stats table."""
    found = re.search(r"^total\s+(\d+)", dry_run, re.MULTILINE)
    return int(found.group(1)) if found else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--new-alpha", type=float, default=4.0, help="the α added for the incremental rerun")
    parser.add_argument("--config", default="config.yaml", help="the study (default: the default study)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deeplin-e2e-") as tmp:
        workdir = Path(tmp)
        _copy_tree(workdir)
        shutil.copy(Path(args.config).resolve(), workdir / "study0.yaml")
        study = yaml.safe_load((workdir / "study0.yaml").read_text()).get("study", "default")
        report = ["--report", f"results/{study}/report.html", "--report-after-run"]
        full, log = _snakemake(workdir, args.cores, "--configfile", "study0.yaml", *report)
        print(
            f"study from scratch ({args.config}, --cores {args.cores}): {full:.1f} s, {_job_count(log)} jobs"
        )
        config = yaml.safe_load((workdir / "study0.yaml").read_text())
        config["deep_equivalence"]["simulation"]["alphas"].append(args.new_alpha)
        (workdir / "study.yaml").write_text(yaml.safe_dump(config))
        _, dry = _snakemake(workdir, args.cores, "-n", "--configfile", "study.yaml")
        rerun, log = _snakemake(workdir, args.cores, "--configfile", "study.yaml", *report)
        print(
            f"incremental rerun after adding alpha={args.new_alpha:g}: {rerun:.1f} s, {_job_count(log)} jobs "
            f"(the dry run planned {_planned(dry)})"
        )


if __name__ == "__main__":
    main()
