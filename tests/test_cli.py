"""The `deeplin theory` command: columns, precision, files and errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from deeplin.cli import main
from deeplin.theory import CURVE_COLUMNS

COLUMNS = "activation,depth,readout,noise,alpha,eta0,gamma0,q,q_hat,error,error_noisy,mutual_information,n_roots"


def _run(capsys, *args: str) -> list[dict]:
    assert main(["theory", *args]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == COLUMNS
    return list(csv.DictReader(io.StringIO(text)))


def test_theory_prints_one_row_per_alpha(capsys) -> None:
    rows = _run(
        capsys, "--activation", "tanh", "--depth", "2", "--readout", "tanh", "--noise", "0.1",
        "--alphas", "0.5", "2", "8",
    )  # fmt: skip
    assert [float(r["alpha"]) for r in rows] == [0.5, 2.0, 8.0]
    errors = [float(r["error"]) for r in rows]
    assert errors[0] > errors[1] > errors[2] > 0
    for row in rows:
        q, q_hat = float(row["q"]), float(row["q_hat"])
        assert q == pytest.approx(q_hat / (1 + q_hat), rel=1e-14)
        assert float(row["error_noisy"]) == pytest.approx(float(row["error"]) + 0.1, rel=1e-14)
        assert row["n_roots"] == "1" and float(row["mutual_information"]) > 0
    assert tuple(COLUMNS.split(",")) == CURVE_COLUMNS


def test_theory_full_precision_and_empty_mutual_information(capsys) -> None:
    rows = _run(
        capsys, "--activation", "erf", "--depth", "1", "--readout", "linear", "--noise", "0",
        "--alphas", "1.5",
    )  # fmt: skip
    assert rows[0]["mutual_information"] == ""  # infinite without noise: left empty, never a number
    assert len(rows[0]["q"].split(".")[1]) >= 14  # round-trip precision, not a 6-digit format


def test_theory_writes_files_atomically(tmp_path) -> None:
    out, coefficients = tmp_path / "sub" / "curve.csv", tmp_path / "coefficients.json"
    code = main([
        "theory", "--activation", "sin", "--depth", "3", "--readout", "sign", "--noise", "0.2",
        "--alpha-grid", "0.1", "4", "7", "--out", str(out), "--coefficients", str(coefficients),
    ])  # fmt: skip
    assert code == 0
    assert len(out.read_text().splitlines()) == 8
    record = json.loads(coefficients.read_text())
    assert record["depth"] == 3 and len(record["rho"]) == 3 and len(record["sigma"]) == 4
    assert abs(record["identity_residual"]) < 1e-12
    assert {"deeplin_version", "config_hash", "git_commit", "device"} <= set(record["provenance"])
    assert not [p for p in tmp_path.rglob("*.tmp")]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--activation", "relu", "--depth", "1"], "is not odd"),
        (["--activation", "softplus", "--depth", "1"], "invalid choice"),
        (["--activation", "tanh", "--depth", "0"], "--depth must be >= 1"),
        (["--activation", "tanh", "--depth", "1", "--noise", "-1"], "--noise must be >= 0"),
        (["--activation", "tanh", "--depth", "1", "--alphas", "0"], "--alphas must be > 0"),
    ],
)
def test_theory_rejects_bad_arguments(args: list[str], message: str) -> None:
    base = {"--readout": "linear", "--noise": "0.1", "--alphas": "1"}
    for key, value in base.items():
        if key not in args:
            args = [*args, key, value]
    result = subprocess.run(
        [sys.executable, "-m", "deeplin", "theory", *args], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
