"""Grouped posterior jobs (`sampler.points_per_job` = k > 1): which seeds of a cell share a job, and the
per-point files taken from a group's folder. Standard library only, so that the rules can import it while
Snakemake parses them.

The seeds 0 … S−1 of a cell (model, d0, α) go in chunks of k: seeds0-(k−1), seedsk-(2k−1), …, the last chunk
shorter. A seed no grid names (a file asked for by hand) is a group of its own. Adding a seed changes only the
last chunk, so it reruns that chunk's job (whose numbers do not change: each point samples as it would alone).

The rungs of one mutual-information point (its ladder's s_0 … s_(K−1), which share the point's inputs and
shapes) go in chunks of k the same way: rungs0-(k−1), …; a ladder of another length is another ladder, so
changing `rungs` reruns the point's rung jobs whatever the grouping.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

Cell = tuple[str, str, str]  # model, width, alpha label (the wildcards' strings)


def cell_seed_counts(*grids: Iterable[Mapping]) -> dict[Cell, int]:
    """Per cell, the number of seeds the grids ask for (seeds 0 … S−1; the largest over the grids)."""
    counts: dict[Cell, int] = {}
    for grid in grids:
        for point in grid:
            cell = (str(point["model"]), str(point["width"]), str(point["alpha"]))
            counts[cell] = max(counts.get(cell, 0), int(point["seed"]) + 1)
    return counts


def seed_group(
    counts: Mapping[Cell, int], per_job: int, model: str, width: str, alpha: str, seed: int
) -> tuple[int, int]:
    """The first and last seed of the group that samples ``seed`` of the cell."""
    total = counts.get((str(model), str(width), str(alpha)), 0)
    if seed >= total:
        return seed, seed
    first = seed // per_job * per_job
    return first, min(first + per_job, total) - 1


def group_dir(pattern: str, counts: Mapping[Cell, int], per_job: int, wildcards: Any) -> str:
    """The folder (``pattern`` with {model}, {width}, {alpha}, {first}, {last}) of the group job that samples
    the point of ``wildcards`` (model, width, alpha, seed)."""
    model, width, alpha = wildcards.model, wildcards.width, wildcards.alpha
    first, last = seed_group(counts, per_job, model, width, alpha, int(wildcards.seed))
    return pattern.format(model=model, width=width, alpha=alpha, first=first, last=last)


def group_seeds(first: int | str, last: int | str) -> list[int]:
    """The seeds of group ``seeds{first}-{last}``."""
    return list(range(int(first), int(last) + 1))


def rung_group(labels: Sequence[str], per_job: int, snr: str) -> tuple[int, int]:
    """The first and last ladder index of the group that samples the rung ``snr`` (a label of ``labels``, the
    point's rungs in ladder order)."""
    if snr not in labels:
        raise ValueError(f"rung snr{snr} is not on the point's ladder ({', '.join(labels)})")
    first = labels.index(snr) // per_job * per_job
    return first, min(first + per_job, len(labels)) - 1


def point_files(group_dir: str | Path, member: int | str) -> tuple[Path, Path]:
    """Where a group's job writes one member's metrics and summary: seed ``member`` of a cell (an int), or a
    rung of a point (a folder name, snr<s>)."""
    folder = Path(group_dir) / (f"seed{int(member)}" if isinstance(member, int) else str(member))
    return folder / "posterior.json", folder / "posterior_summary.npz"


def member_tag(member: int | str) -> str:
    """How the group's log lines name a member: the end of its `where` (posterior.load_posterior)."""
    if isinstance(member, int):
        return f" seed={member}:"
    return f" {member.replace('snr', 'snr=', 1)}:"


def take_point(
    group_dir: str, group_log: str, member: int | str, metrics: str, summary: str, log: str
) -> None:
    """Copy one member's outputs from its group's folder to the per-point paths (the files a job of its own
    writes, byte for byte), and its lines of the group's log to the point's log. ``member``: a seed (an int
    or its wildcard string of digits) or a rung folder (snr<s>)."""
    if isinstance(member, str) and member.isdigit():
        member = int(member)
    source_metrics, source_summary = point_files(group_dir, member)
    shutil.copyfile(source_metrics, metrics)
    shutil.copyfile(source_summary, summary)
    tag = member_tag(member)
    lines = Path(group_log).read_text(errors="replace").splitlines() if Path(group_log).exists() else []
    mine = [line for line in lines if tag in line]
    Path(log).write_text(
        f"sampled in the group job of {group_dir} (its log: {group_log})\n" + "".join(f"{x}\n" for x in mine)
    )


def posterior_mem_mb(sampler: Mapping, test_points: int, points: int = 1) -> int:
    """Memory (MB) to ask for a posterior job of ``points`` points with ``test_points`` predictions each: what
    grows with the settings is each point's store of draws, up to the budget (max(samples, max_samples) /
    thin kept draws × chains × test points); counted three times in float64 (the store while it doubles, and
    the float64 copy the metrics read), plus 100 MB per point and 500 MB for the process (Python, torch).
    An upper bound for points that run to their budget: on the default study a job of 10 points peaked at
    717 MB of RSS, which this puts at 8.8 GB (its points stopped after a tenth of their budget)."""
    budget = max(int(sampler["samples"]), int(sampler["max_samples"]))
    draws = -(-budget // int(sampler["thin"])) * int(sampler["chains"]) * int(test_points)
    return math.ceil(500 + points * (100 + 3 * draws * 8 / 2**20))
