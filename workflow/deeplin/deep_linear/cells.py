"""One cell (a, N) of the grid on disk: its simulated networks (outputs and conditional covariances) in an
npz with a metadata record and the provenance entry, and the step that writes it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import section_hash
from ..devices import resolve_device
from ..io import PROVENANCE_KEY, atomic_write, provenance, provenance_entry
from ..seeding import derived_seed
from .theory import depth_for

log = logging.getLogger("deeplin.deep_linear.cells")


@dataclass(frozen=True)
class CellSample:
    """One cell's simulated networks: outputs f (networks, D, P), covariances K_L (networks, P, P), depth L."""

    outputs: np.ndarray
    kernels: np.ndarray
    depth: int


def cell_seed(seed: int, a: float, width: int, purpose: str) -> int:
    """The seed of one random stream of one cell (stable across grids: adding a cell changes no other)."""
    return derived_seed("deep_linear", f"seed={int(seed)}", f"a={float(a)!r}", f"N={int(width)}", purpose)


def simulate_cell(settings: Mapping, a: float, width: int, out: str | Path) -> dict:
    """Sample the cell's networks (deeplin.deep_linear.networks) and write them to ``out``; returns the metadata."""
    import torch

    from .networks import simulate_networks

    depth = depth_for(a, width)
    device = resolve_device(settings["device"], "deep_linear.device")
    dtype = {"float64": torch.float64, "float32": torch.float32}[settings["dtype"]]
    where = f"deep_linear a={a:g} N={width} L={depth}"
    start = time.perf_counter()

    def progress(done: int, total: int) -> None:
        log.info("%s: %d of %d networks (%.1f s)", where, done, total, time.perf_counter() - start)

    outputs, kernels = simulate_networks(
        width,
        depth,
        settings["input_dim"],
        settings["outputs"],
        settings["input_overlap"],
        settings["networks"],
        cell_seed(settings["seed"], a, width, "networks"),
        device,
        dtype,
        progress=progress,
    )
    seconds = time.perf_counter() - start
    meta = {
        "a": float(a),
        "width": int(width),
        "depth": depth,
        "settings": dict(settings),
        "seconds": seconds,
    }
    record = provenance(section_hash({"a": float(a), "width": int(width), **settings}), device=str(device))
    with atomic_write(out, "wb") as handle:
        np.savez_compressed(
            handle,
            outputs=outputs,
            kernels=kernels,
            meta=np.array(json.dumps(meta, sort_keys=True)),
            **{PROVENANCE_KEY: provenance_entry(record)},
        )
    log.info("%s: %d networks in %.1f s on %s", where, settings["networks"], seconds, device)
    return meta


def load_cell(path: str | Path) -> tuple[CellSample, dict]:
    """The cell's networks and its metadata record."""
    with np.load(path) as archive:
        meta = json.loads(str(archive["meta"]))
        sample = CellSample(outputs=archive["outputs"], kernels=archive["kernels"], depth=int(meta["depth"]))
    return sample, meta
