"""One table of where every result came from: the provenance record each result file carries.

JSON results keep it under "provenance" (results/tables/provenance.json is one), npz files in their JSON "meta" (data) or "provenance" entry
(posterior summaries). The table is what the report shows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["file", "deeplin_version", "git_commit", "config_hash", "device"]


def read_provenance(path: str | Path) -> dict:
    """The provenance record stored in one result file (KeyError naming the file when there is none)."""
    path = Path(path)
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        record = data.get("provenance") or (data if "deeplin_version" in data else None)  # tables/provenance.json
    elif path.suffix == ".npz":
        with np.load(path) as archive:
            if "provenance" in archive.files:
                record = json.loads(str(archive["provenance"]))
            else:
                record = json.loads(str(archive["meta"])).get("provenance") if "meta" in archive.files else None
    else:
        raise ValueError(f"{path}: no provenance reader for {path.suffix or 'files without a suffix'}")
    if not record:
        raise KeyError(f"{path} records no provenance")
    return record


def provenance_table(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per result file: package version, git commit, config-section hash and device."""
    rows = []
    for path in paths:
        record = read_provenance(path)
        rows.append({"file": str(path), **{key: record.get(key) for key in COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=COLUMNS)
