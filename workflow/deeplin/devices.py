"""Device selection for the torch steps of every result: 'auto', 'cpu' or 'cuda', with the fallback logged."""

from __future__ import annotations

import logging
import os

log = logging.getLogger("deeplin.devices")


def resolve_device(requested: str, setting: str = "sampler.device"):
    """'auto' → CUDA when available else CPU (logged); 'cuda' without a GPU is an error that names ``setting``."""
    import torch  # slow to import: only the steps that compute with torch pay for it

    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        log.info(
            "%s = auto: no CUDA device visible (CUDA_VISIBLE_DEVICES=%s), computing on the CPU",
            setting,
            os.environ.get("CUDA_VISIBLE_DEVICES", "unset"),
        )
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"{setting} = 'cuda' but torch sees no CUDA device (use 'auto' or 'cpu')")
    return torch.device(requested)


def cuda_visible() -> bool | None:
    """Whether torch sees a CUDA device here; None when this process cannot tell.

    Cannot tell: no torch in Snakemake's environment, or a CPU-only torch on a host whose NVIDIA driver lists
    GPUs (the jobs' own environment, e.g. envs/deeplin-cuda.yaml with --sdm conda, may see them).
    """
    from pathlib import Path

    try:
        import torch  # slow to import: only when a device setting asks for CUDA
    except ImportError:
        return None
    if torch.cuda.is_available():
        return True
    gpus = Path("/proc/driver/nvidia/gpus")
    if torch.version.cuda is None and gpus.is_dir() and any(gpus.iterdir()):
        return None
    return False
