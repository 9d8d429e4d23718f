"""Atomic file output and the one provenance convention: a crashed job never leaves a file a later run would
trust, and every result file says what produced it in the same place.

Provenance convention: a JSON result holds the record under its top-level key "provenance"; an npz result
holds it as JSON text in its entry "provenance"; a figure holds it in its PNG text chunks and PDF info
(deeplin.plotting). `read_provenance` reads the first two.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from . import __version__


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file in the target directory, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; results are shared like any other file
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: str | Path, data: Any) -> None:
    """Atomically write pretty, key-sorted JSON (stable bytes for identical data)."""
    with atomic_write(path) as handle:
        json.dump(data, handle, indent=2, sort_keys=True, allow_nan=True)
        handle.write("\n")


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The source tree's commit, with "-dirty" when tracked files differ from it (None outside a git checkout)."""
    here = Path(__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if commit and dirty else (commit or None)


def provenance(config_hash: str, device: str = "cpu") -> dict:
    """What produced a result: package version, git commit, hash of the config section, device."""
    return {
        "deeplin_version": __version__,
        "git_commit": git_commit(),
        "config_hash": config_hash,
        "device": device,
        "python": platform.python_version(),
    }


PROVENANCE_KEY = "provenance"


def provenance_entry(record: dict) -> Any:
    """The npz entry (a 0-d string array of the JSON record) that carries ``record`` in an npz result."""
    import numpy as np

    return np.array(json.dumps(record, sort_keys=True))


def read_provenance(path: str | Path) -> dict:
    """The provenance record stored in one result file (KeyError naming the file when there is none)."""
    path = Path(path)
    if path.suffix == ".json":
        record = json.loads(path.read_text(encoding="utf-8")).get(PROVENANCE_KEY)
    elif path.suffix == ".npz":
        import numpy as np

        with np.load(path) as archive:
            record = json.loads(str(archive[PROVENANCE_KEY])) if PROVENANCE_KEY in archive.files else None
    else:
        raise ValueError(f"{path}: no provenance reader for {path.suffix or 'files without a suffix'}")
    if not record:
        raise KeyError(f"{path} records no provenance")
    return record
