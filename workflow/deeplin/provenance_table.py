"""One table of where every result came from: the provenance record each result file carries.

Each file keeps it by the one convention of deeplin.io (a JSON key or an npz entry named "provenance"). The
table is what the report shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .io import read_provenance

COLUMNS = ["file", "deeplin_version", "git_commit", "config_hash", "device"]


def provenance_table(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per result file: package version, git commit, config-section hash and device."""
    rows = []
    for path in paths:
        record = read_provenance(path)
        rows.append({"file": str(path), **{key: record.get(key) for key in COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=COLUMNS)
