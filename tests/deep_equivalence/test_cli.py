"""The result's steps on the command line (`deeplin deep_equivalence STEP`): each takes its slice of the study
config as `--settings JSON` and refuses bad input with exit code 2, one error line naming the full dotted key
(or the option) and the value, no traceback and nothing written. The theory step's CSV goes to stdout."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_refusals import refused as refused_command
from deeplin.activations import odd_activation_names
from deeplin.cli import main
from deeplin.config import load_config, settings_json
from deeplin.deep_equivalence import settings as slices
from deeplin.deep_equivalence.cli import _THEORY_EXAMPLE
from deeplin.deep_equivalence.figure_names import FIGURES, TABLES
from deeplin.deep_equivalence.theory import CURVE_COLUMNS
from synthetic_metrics import write_study

D = "deep_equivalence"
COLUMNS = (
    "activation,depth,readout,noise,alpha,eta0,gamma0,q,q_hat,error,error_noisy,mutual_information,n_roots"
)


def settings(models: dict | None = None, **sections) -> str:
    """``--settings`` text: the result's sections (``models`` first) and, with ``plots=``, the figure style."""
    section = {**({"models": models} if models is not None else {}), **sections}
    plots = section.pop("plots", None)
    return json.dumps({D: section, **({"plots": plots} if plots is not None else {})})


def theory_rows(capsys, model: dict, theory: dict) -> list[dict]:
    assert main([D, "theory", "--settings", settings({"tanh-L2": model}, theory=theory)]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == COLUMNS
    return list(csv.DictReader(io.StringIO(text)))


def refused(capsys, argv: list[str]) -> str:
    """``deeplin deep_equivalence ARGV`` is refused (cli_refusals.refused); returns the error line."""
    return refused_command(capsys, [D, *argv], f"{D} {argv[0]}")


# ---- theory: columns, precision, files ----


def test_theory_prints_one_row_per_alpha(capsys) -> None:
    model = {"activation": "tanh", "depth": 2, "readout": "tanh", "noise": 0.1}
    rows = theory_rows(capsys, model, {"alpha_min": 0.5, "alpha_max": 8, "alpha_num": 3})  # log: 0.5, 2, 8
    assert [float(r["alpha"]) for r in rows] == pytest.approx([0.5, 2.0, 8.0], rel=1e-15)
    errors = [float(r["error"]) for r in rows]
    assert errors[0] > errors[1] > errors[2] > 0
    for row in rows:
        q, q_hat = float(row["q"]), float(row["q_hat"])
        assert q == pytest.approx(q_hat / (1 + q_hat), rel=1e-14)
        assert float(row["error_noisy"]) == pytest.approx(float(row["error"]) + 0.1, rel=1e-14)
        assert row["n_roots"] == "1" and float(row["mutual_information"]) > 0
    assert tuple(COLUMNS.split(",")) == CURVE_COLUMNS


def test_theory_grid_spacing(capsys) -> None:
    model = {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}
    rows = theory_rows(capsys, model, {"alpha_min": 1, "alpha_max": 4, "alpha_num": 4, "spacing": "linear"})
    assert [float(r["alpha"]) for r in rows] == [1.0, 2.0, 3.0, 4.0]


def test_theory_full_precision_and_empty_mutual_information(capsys) -> None:
    model = {"activation": "erf", "depth": 1, "readout": "linear", "noise": 0}
    (row,) = theory_rows(capsys, model, {"alpha_min": 1.5, "alpha_num": 1})
    assert float(row["alpha"]) == 1.5
    assert row["mutual_information"] == ""  # infinite without noise: left empty, never a number
    assert len(row["q"].split(".")[1]) >= 14  # round-trip precision, not a 6-digit format


def test_theory_writes_files_atomically(tmp_path: Path) -> None:
    curve, coefficients = tmp_path / "sub" / "curve.csv", tmp_path / "coefficients.json"
    model = {"activation": "sin", "depth": 3, "readout": "sign", "noise": 0.2}
    text = settings({"sin-L3": model}, theory={"alpha_min": 0.1, "alpha_max": 4, "alpha_num": 7})
    assert (
        main([D, "theory", "--settings", text, "--curve", str(curve), "--coefficients", str(coefficients)])
        == 0
    )
    assert len(curve.read_text().splitlines()) == 8
    record = json.loads(coefficients.read_text())
    assert record["depth"] == 3 and len(record["rho"]) == 3 and len(record["sigma"]) == 4
    assert abs(record["identity_residual"]) < 1e-12
    assert {"deeplin_version", "config_hash", "git_commit", "device"} <= set(record["provenance"])
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_theory_takes_the_slice_the_rule_passes_and_its_help_example(capsys, repo: Path) -> None:
    """What deeplin.deep_equivalence.settings gives the rule is what the step accepts, and so is --help's
    example; the width ratios, not in the theory's slice, do not change the curve."""
    config = load_config(repo / "config.yaml")
    assert main([D, "theory", "--settings", settings_json(slices.theory_settings(config, "tanh-L1"))]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == config[D]["theory"]["alpha_num"] and rows[0]["activation"] == "tanh"
    assert main([D, "theory", "--settings", _THEORY_EXAMPLE.strip("'")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 5


# ---- theory: bad settings ----

THEORY_MODEL = {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}
THEORY_GRID = {"alpha_min": 1, "alpha_max": 1, "alpha_num": 1}
M = f"{D}.models.tanh-L1"
T = f"{D}.theory"
BAD_THEORY = [  # (part of the settings changed, changes, message)
    ("theory", {"alpha_num": 1.5}, f"{T}.alpha_num = 1.5: 1.5 is not of type 'integer'"),
    ("theory", {"alpha_min": 0}, f"{T}.alpha_min = 0: 0 is less than or equal to the minimum of 0"),
    ("theory", {"alpha_num": 0}, f"{T}.alpha_num = 0: 0 is less than the minimum of 1"),
    (
        "theory",
        {"alpha_min": 8, "alpha_max": 1, "alpha_num": 5},
        f"{T}.alpha_min = 8: must not exceed {T}.alpha_max = 1",
    ),
    ("theory", {"alpha_max": math.inf}, f"{T}.alpha_max = inf: must be a finite number"),
    ("theory", {"scan_points": 0}, f"{T}.scan_points = 0: 0 is less than the minimum of 4"),
    ("theory", {"scan_points": -5}, f"{T}.scan_points = -5: -5 is less than the minimum of 4"),
    ("theory", {"spacing": "cubic"}, f"{T}.spacing = \"cubic\": 'cubic' is not one of ['log', 'linear']"),
    ("theory", {"alpha_steps": 3}, f"{T}.alpha_steps: unknown key (allowed here: alpha_max, alpha_min, "),
    ("model", {"noise": math.nan}, f"{M}.noise = nan: must be a finite number"),
    ("model", {"noise": math.inf}, f"{M}.noise = inf: must be a finite number"),
    ("model", {"noise": -1}, f"{M}.noise = -1: -1 is less than the minimum of 0"),
    ("model", {"depth": 0}, f"{M}.depth = 0: 0 is less than the minimum of 1"),
    ("model", {"depth": "two"}, f"{M}.depth = \"two\": 'two' is not of type 'integer'"),
    ("model", {"depth": 2.0}, f"{M}.depth = 2.0: 2.0 is not of type 'integer'"),
    ("model", {"activation": "relu"}, f"{M}.activation = 'relu': activation 'relu' is not odd"),
    ("model", {"activation": "softplus"}, f"{M}.activation = \"softplus\": 'softplus' is not one of"),
    (
        "model",
        {"readout": "relu"},
        f"{M}.readout = \"relu\": 'relu' is not one of ['linear', 'tanh', 'sign']",
    ),
    ("model", {"width": 3}, f"{M}.width: unknown key (allowed here: activation, depth, noise, readout, "),
]


def _theory_argv(tmp_path: Path, text: str) -> list[str]:
    return [
        "theory",
        "--settings",
        text,
        "--curve",
        str(tmp_path / "curve.csv"),
        "--coefficients",
        str(tmp_path / "coefficients.json"),
    ]


@pytest.mark.parametrize(
    "part, changes, message",
    BAD_THEORY,
    ids=[m.split(": ")[0] + ":" + m.split(": ")[1][:30] for *_, m in BAD_THEORY],
)
def test_theory_refuses_bad_settings_naming_key_and_value(
    capsys, tmp_path: Path, part, changes, message
) -> None:
    model = {**THEORY_MODEL, **changes} if part == "model" else THEORY_MODEL
    grid = {**THEORY_GRID, **changes} if part == "theory" else THEORY_GRID
    line = refused(capsys, _theory_argv(tmp_path, settings({"tanh-L1": model}, theory=grid)))
    assert line.startswith(f"deeplin {D} theory: error: --settings: ") and message in line, line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "text, message",
    [
        ("{models: 1}", "--settings is not valid JSON (Expecting property name enclosed in double quotes"),
        ("[1]", "--settings: <top level> = [1]: the settings must be a mapping"),
        (settings({"tanh-L1": THEORY_MODEL}), f"--settings: needs {D}.theory"),
        (settings(theory=THEORY_GRID), f"--settings: needs {D}.models"),
        (
            settings({"tanh-L1": THEORY_MODEL, "tanh-L2": THEORY_MODEL}, theory=THEORY_GRID),
            f"--settings: {D}.models must hold one model, got 2",
        ),
        (
            settings({"m": THEORY_MODEL}, theory=THEORY_GRID),
            f"--settings: {D}.models.m: key 'm' is not allowed",
        ),
        (
            json.dumps({"models": {"tanh-L1": THEORY_MODEL}}),
            "--settings: models: unknown key (allowed here: deep_equivalence, deep_linear, generative_data, plots, relu_recovery, study)",
        ),
    ],
    ids=["not JSON", "not a mapping", "no theory", "no model", "two models", "model name", "flat shape"],
)
def test_theory_refuses_settings_of_the_wrong_shape(capsys, tmp_path: Path, text: str, message: str) -> None:
    line = refused(capsys, _theory_argv(tmp_path, text))
    assert line.startswith(f"deeplin {D} theory: error: {message}"), line
    assert not list(tmp_path.iterdir())


def test_theory_offers_only_odd_activations(capsys, tmp_path: Path) -> None:
    line = refused(
        capsys,
        _theory_argv(
            tmp_path, settings({"tanh-L1": {**THEORY_MODEL, "activation": "relu"}}, theory=THEORY_GRID)
        ),
    )
    assert line.endswith(f"Odd activations available: {', '.join(odd_activation_names())}.")


def test_theory_needs_its_settings(capsys) -> None:
    line = refused(capsys, ["theory"])
    assert line.endswith("error: the following arguments are required: --settings")


def test_theory_bad_settings_from_the_shell() -> None:
    """The installed program: exit code 2, the error as the last line of stderr, no traceback."""
    text = settings({"tanh-L1": THEORY_MODEL}, theory={**THEORY_GRID, "alpha_num": 1.5})
    result = subprocess.run(
        [sys.executable, "-m", "deeplin", D, "theory", "--settings", text],
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"deeplin {D} theory: error: --settings: {T}.alpha_num = 1.5: 1.5 is not of type 'integer'"
    )


# ---- data: the point's coordinates are options, the model and the test size are settings ----

DATA_MODEL = {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}
POINT = {"--width": "6", "--alpha": "1", "--seed": "0"}


def data_argv(tmp_path: Path, model: dict | None = None, point: dict | None = None, test_size=5) -> list[str]:
    text = settings({"tanh-L1": DATA_MODEL if model is None else model}, simulation={"test_size": test_size})
    options = [item for key, value in {**POINT, **(point or {})}.items() for item in (key, value)]
    return ["data", "--settings", text, *options, "--out", str(tmp_path / "data.npz")]


BAD_DATA = [  # (model changes, option changes, test size, message)
    ({}, {"--width": "0"}, 5, "argument --width: must be an integer >= 2, got '0'"),
    ({}, {"--width": "-4"}, 5, "argument --width: must be an integer >= 2, got '-4'"),
    ({}, {"--alpha": "0"}, 5, "argument --alpha: must be a finite number > 0, got '0'"),
    ({}, {"--alpha": "-1"}, 5, "argument --alpha: must be a finite number > 0, got '-1'"),
    ({}, {"--alpha": "nan"}, 5, "argument --alpha: must be a finite number > 0, got 'nan'"),
    ({}, {"--seed": "-1"}, 5, "argument --seed: must be an integer >= 0, got '-1'"),
    ({}, {}, 0, f"--settings: {D}.simulation.test_size = 0: 0 is less than the minimum of 1"),
    ({"noise": -0.1}, {}, 5, f"--settings: {M}.noise = -0.1: -0.1 is less than the minimum of 0"),
    ({"noise": math.nan}, {}, 5, f"--settings: {M}.noise = nan: must be a finite number"),
    ({"noise": math.inf}, {}, 5, f"--settings: {M}.noise = inf: must be a finite number"),
    ({"depth": 0}, {}, 5, f"--settings: {M}.depth = 0: 0 is less than the minimum of 1"),
    (
        {"depth": 2, "width_ratios": [1, 0]},
        {},
        5,
        f"--settings: {M}.width_ratios[1] = 0: 0 is less than or equal to the minimum of 0",
    ),
    (
        {"width_ratios": [1, 1]},
        {},
        5,
        f"--settings: {M}.width_ratios = [1, 1]: needs one ratio per hidden layer, i.e. 1 ({M}.depth = 1), got 2",
    ),
    ({"activation": "relu"}, {}, 5, f"--settings: {M}.activation = 'relu': activation 'relu' is not odd"),
]


@pytest.mark.parametrize(
    "changes, point, test_size, message",
    BAD_DATA,
    ids=[m.removeprefix("--settings: ")[:50] for *_, m in BAD_DATA],
)
def test_data_refuses_bad_input(capsys, tmp_path: Path, changes, point, test_size, message) -> None:
    line = refused(capsys, data_argv(tmp_path, {**DATA_MODEL, **changes}, point, test_size))
    assert line.startswith(f"deeplin {D} data: error: {message}"), line
    assert not list(tmp_path.iterdir())


def test_data_needs_the_simulation_section(capsys, tmp_path: Path) -> None:
    argv = data_argv(tmp_path)
    argv[2] = settings({"tanh-L1": DATA_MODEL})
    line = refused(capsys, argv)
    assert line.endswith(f"--settings: needs {D}.simulation") and not list(tmp_path.iterdir())


def test_data_base_arguments_are_valid(tmp_path: Path) -> None:
    """The arguments the refusals above start from do write a point (so each refusal is its change's)."""
    assert main([D, *data_argv(tmp_path)]) == 0
    assert (tmp_path / "data.npz").is_file()


# ---- posterior, twin and metrics: files that must exist, settings of the posterior ----

TINY_SAMPLER = {
    "chains": 4,
    "warmup": 30,
    "samples": 30,
    "leapfrog_steps": 4,
    "dtype": "float64",
    "device": "cpu",
    "max_divergent_fraction": 1.0,
}


@pytest.mark.parametrize("step", ["posterior", "twin", "metrics"])
@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_steps_refuse_a_missing_data_file(capsys, tmp_path: Path, step: str, kind: str) -> None:
    data = tmp_path / ("nope.npz" if kind == "missing" else "")
    out = tmp_path / "out.json"
    argv = [step, "--data", str(data), "--out", str(out)]
    if step == "posterior":
        argv += ["--settings", settings(sampler=TINY_SAMPLER, analysis={})]
    if step == "metrics":
        argv += ["--posterior", str(out), "--glm-twin", str(out)]
    line = refused(capsys, argv)
    why = "no such file" if kind == "missing" else "is a directory, not a file"
    assert f"argument --data: {why}: {str(data)!r}" in line
    assert not out.exists()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("point")
    assert main([D, *data_argv(root, test_size=40)]) == 0
    return root / "data.npz"


@pytest.mark.parametrize(
    "text, message",
    [
        (
            settings(sampler={**TINY_SAMPLER, "chains": 5}, analysis={}),
            f"{D}.sampler.chains = 5: must be even",
        ),
        (
            settings(sampler={**TINY_SAMPLER, "dtype": "float16"}, analysis={}),
            f"{D}.sampler.dtype = \"float16\": 'float16' is not one of ['float64', 'float32']",
        ),
        (
            settings(sampler=TINY_SAMPLER, analysis={"max_rhat": 0.5}),
            f"{D}.analysis.max_rhat = 0.5: 0.5 is less than the minimum of 1",
        ),
        (settings(sampler=TINY_SAMPLER), f"needs {D}.analysis"),
        (settings(analysis={}), f"needs {D}.sampler"),
    ],
    ids=["odd chains", "dtype", "threshold", "no analysis", "no sampler"],
)
def test_posterior_refuses_bad_settings(
    capsys, tmp_path: Path, data_file: Path, text: str, message: str
) -> None:
    out = tmp_path / "posterior.json"
    line = refused(capsys, ["posterior", "--settings", text, "--data", str(data_file), "--out", str(out)])
    assert line.startswith(f"deeplin {D} posterior: error: --settings: {message}"), line
    assert not out.exists()


def test_one_point_through_every_step(capsys, tmp_path: Path, data_file: Path) -> None:
    """posterior → twin → metrics → check, as the rules call them; checkpoint_seconds (a resource, no number)
    may come inside the settings too."""
    posterior, twin, metrics = (tmp_path / name for name in ("posterior.json", "twin.json", "metrics.json"))
    text = settings(sampler={**TINY_SAMPLER, "checkpoint_seconds": 60}, analysis={})
    assert main([D, "posterior", "--settings", text, "--data", str(data_file), "--out", str(posterior)]) == 0
    assert main([D, "twin", "--data", str(data_file), "--out", str(twin)]) == 0
    assert (
        main(
            [
                D,
                "metrics",
                "--data",
                str(data_file),
                "--posterior",
                str(posterior),
                "--glm-twin",
                str(twin),
                "--out",
                str(metrics),
            ]
        )
        == 0
    )
    record = json.loads(metrics.read_text())
    assert record["model_name"] == "tanh-L1" and record["width"] == 6 and record["test_size"] == 40
    assert record["posterior"]["chains"] == 4 and record["glm_twin"]["glm_method"] == "conjugate"
    capsys.readouterr()
    assert main([D, "check", "--include-flagged", str(metrics)]) == 0
    assert "points: 1" in capsys.readouterr().out


# ---- check (the simulations against theory): directories, and JSON that is not a metrics.json record ----


def test_check_searches_a_directory_for_metrics_json(capsys, tmp_path: Path) -> None:
    sims = tmp_path / "results" / "sims"
    for path in write_study(tmp_path):
        (sims / path.stem).mkdir(parents=True)
        shutil.move(path, sims / path.stem / "metrics.json")
    assert main([D, "check", str(tmp_path / "results")]) == 0
    assert "points: 15" in capsys.readouterr().out


def test_check_refuses_directory_without_metrics(capsys, tmp_path: Path) -> None:
    (tmp_path / "sims").mkdir()
    line = refused(capsys, ["check", str(tmp_path / "sims")])
    assert line == f"deeplin {D} check: error: no metrics.json file matches {tmp_path / 'sims'}"


@pytest.mark.parametrize(
    "text,why",
    [
        ('{"deeplin_version": "0.1"}', "not a per-point metrics.json record (no key 'model_name')"),
        ("[1, 2]", "not a per-point metrics.json record (not a JSON object)"),
        ("{not json", "cannot read it as JSON"),
    ],
    ids=["other record", "a list", "not JSON"],
)
def test_check_names_the_file_that_is_not_a_metrics_record(
    capsys, tmp_path: Path, text: str, why: str
) -> None:
    good = write_study(tmp_path)[0]
    bad = tmp_path / "provenance.json"
    bad.write_text(text)
    line = refused(capsys, ["check", str(good), str(bad)])
    assert line.startswith(f"deeplin {D} check: error: {bad}: {why}")


# ---- aggregate and plot: the analysis and the figure style as settings ----


def test_aggregate_then_plot(capsys, tmp_path: Path) -> None:
    paths = write_study(tmp_path)
    listing = tmp_path / "metrics.txt"
    listing.write_text("\n".join(map(str, paths[1:])) + "\n")
    tables = tmp_path / "tables"
    argv = [
        "aggregate",
        "--settings",
        settings(analysis={"confidence": 0.9}),
        "--metrics",
        str(paths[0]),
        "--metrics-from",
        str(listing),
        "--out-dir",
        str(tables),
    ]
    assert main([D, *argv]) == 0
    assert {f"{name}.csv" for name in TABLES} <= {p.name for p in tables.iterdir()}
    assert len(list(csv.DictReader((tables / "simulations.csv").open()))) == 15
    assert json.loads((tables / "provenance.json").read_text())["analysis"]["confidence"] == 0.9
    curve = tmp_path / "curve.csv"
    assert (
        main(
            [
                D,
                "theory",
                "--settings",
                settings({"tanh-L1": THEORY_MODEL}, theory={"alpha_min": 1, "alpha_max": 4, "alpha_num": 3}),
                "--curve",
                str(curve),
            ]
        )
        == 0
    )
    for figure in FIGURES:
        stem = tmp_path / "figures" / figure
        argv = [
            figure,
            "--settings",
            json.dumps({"plots": {"dpi": 60}}),
            "--tables",
            str(tables),
            "--curves",
            f"tanh-L1={curve}",
            "--out",
            str(stem),
        ]
        assert main([D, "plot", *argv]) == 0
        assert (stem.with_suffix(".png")).read_bytes()[:4] == b"\x89PNG" and stem.with_suffix(
            ".pdf"
        ).is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--settings", settings(analysis={"confidence": 1.0})],
            f"--settings: {D}.analysis.confidence = 1.0: 1.0 is greater than or equal to the maximum of 1",
        ),
        (
            ["--settings", settings(analysis={"exclude_flagged": "yes"})],
            f"--settings: {D}.analysis.exclude_flagged = \"yes\": 'yes' is not of type 'boolean'",
        ),
        (["--settings", settings(sampler={})], f"--settings: needs {D}.analysis"),
        (
            ["--settings", settings(analysis={})],
            "no metrics.json files: give them with --metrics or --metrics-from",
        ),
        (
            ["--settings", settings(analysis={}), "--metrics", "gone.json"],
            "no such metrics file: 'gone.json'",
        ),
    ],
    ids=["confidence", "boolean", "no analysis", "no metrics", "missing metrics"],
)
def test_aggregate_refuses_bad_input(capsys, tmp_path: Path, argv: list[str], message: str) -> None:
    line = refused(capsys, ["aggregate", *argv, "--out-dir", str(tmp_path / "tables")])
    assert line.startswith(f"deeplin {D} aggregate: error: {message}"), line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["--settings", json.dumps({"plots": {"dpi": 10}})],
            "--settings: plots.dpi = 10: 10 is less than the minimum",
        ),
        (
            ["--settings", json.dumps({"plots": {"palette": "rainbow"}})],
            "--settings: plots.palette = \"rainbow\": 'rainbow' is not one of",
        ),
        (["--settings", settings(analysis={})], "--settings: needs plots"),
        (
            ["--settings", json.dumps({"plots": {}}), "--curves", "tanh-L1"],
            "--curves: expected MODEL=PATH with an existing file, got 'tanh-L1'",
        ),
        (
            ["--settings", json.dumps({"plots": {}}), "--curves", "tanh-L1=gone.csv"],
            "--curves: expected MODEL=PATH with an existing file, got 'tanh-L1=gone.csv'",
        ),
    ],
    ids=["dpi", "palette", "no plots", "curve without model", "missing curve"],
)
def test_plot_refuses_bad_input(capsys, tmp_path: Path, argv: list[str], message: str) -> None:
    line = refused(capsys, ["plot", "error_vs_alpha", *argv, "--out", str(tmp_path / "figure")])
    assert line.startswith(f"deeplin {D} plot: error: {message}"), line
    assert not list(tmp_path.iterdir())


def test_plot_offers_exactly_the_registered_figures(capsys, tmp_path: Path) -> None:
    line = refused(capsys, ["plot", "headline", "--settings", json.dumps({"plots": {}}), "--out", "figure"])
    assert "argument figure: invalid choice: 'headline' (choose from " in line
    assert all(repr(name) in line or name in line for name in FIGURES)
