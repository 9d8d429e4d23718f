"""Atomic writes and provenance records."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from deeplin import __version__
from deeplin.io import (
    PROVENANCE_KEY,
    atomic_write,
    git_commit,
    provenance,
    provenance_entry,
    read_provenance,
    write_json,
)
from deeplin.provenance_table import provenance_table


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    write_json(target, {"error": 0.1})
    before = target.read_bytes()
    with pytest.raises(RuntimeError), atomic_write(target) as handle:
        handle.write('{"error": 0.')  # half a result, then the job dies
        raise RuntimeError("killed")
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["result.json"]


def test_json_bytes_are_stable_for_equal_data(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"b": 1.0, "a": [1, 2]})
    write_json(tmp_path / "b.json", {"a": [1, 2], "b": 1.0})
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_git_commit_is_head_and_says_when_the_tree_differs(repo: Path) -> None:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        assert git_commit() is None  # not a checkout (e.g. a copied tree)
        return
    assert git_commit() == head + ("-dirty" if status.strip() else "")


def test_provenance_record_and_table_read_json_and_npz(tmp_path: Path) -> None:
    record = provenance("abc123", device="cuda:0")
    assert record["deeplin_version"] == __version__ and record["config_hash"] == "abc123"
    assert record["device"] == "cuda:0" and (
        record["git_commit"] is None or re.match(r"^[0-9a-f]{40}", record["git_commit"])
    )
    # One convention: a JSON result's top-level "provenance" key, an npz result's "provenance" entry.
    write_json(tmp_path / "posterior.json", {"error": 0.1, PROVENANCE_KEY: record})
    np.savez(
        tmp_path / "data.npz",
        meta=np.array(json.dumps({"n": 4})),
        x=np.zeros(2),
        **{PROVENANCE_KEY: provenance_entry(record)},
    )
    np.savez(tmp_path / "summary.npz", mean=np.zeros(2), **{PROVENANCE_KEY: provenance_entry(record)})
    paths = [tmp_path / n for n in ("posterior.json", "data.npz", "summary.npz")]
    assert all(read_provenance(path) == record for path in paths)
    table = provenance_table(paths)
    assert list(table["config_hash"]) == ["abc123"] * 3 and list(table["device"]) == ["cuda:0"] * 3
    assert list(table["file"]) == list(map(str, paths))


def test_a_result_without_provenance_is_named(tmp_path: Path) -> None:
    write_json(tmp_path / "bare.json", {"error": 0.1})
    with pytest.raises(KeyError, match="bare.json records no provenance"):
        read_provenance(tmp_path / "bare.json")
    # a record kept anywhere else (here inside another entry) is not the convention's
    np.savez(tmp_path / "bare.npz", meta=np.array(json.dumps({PROVENANCE_KEY: provenance("abc")})))
    with pytest.raises(KeyError, match="bare.npz records no provenance"):
        read_provenance(tmp_path / "bare.npz")
    (tmp_path / "notes.txt").write_text("provenance: none")
    with pytest.raises(ValueError, match="no provenance reader for .txt"):
        read_provenance(tmp_path / "notes.txt")
