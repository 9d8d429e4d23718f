"""The `deeplin` command line: theory columns, precision and files; every subcommand refusing bad input."""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deeplin.cli import main
from deeplin.io import provenance, write_json
from deeplin.theory import CURVE_COLUMNS
from synthetic_metrics import write_study

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


# ---- bad input: exit code 2, one error line naming the option and the value, no traceback, no output ----


def refused(capsys, argv: list[str]) -> str:
    """Run ``deeplin ARGV`` in-process; it must exit 2 with one error line, no traceback, nothing on stdout."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2, err
    assert "Traceback" not in err and out == ""
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) == 1 and err.rstrip("\n").endswith(errors[0]), err
    assert errors[0].startswith(f"deeplin {argv[0]}: error: ")
    return errors[0]


def options(base: dict[str, list[str]], changes: dict[str, list[str]]) -> list[str]:
    """The base options with ``changes`` applied (an empty list removes an option)."""
    merged = {**base, **changes}
    return [item for key, values in merged.items() if values for item in (key, *values)]


THEORY = {"--activation": ["tanh"], "--depth": ["1"], "--readout": ["linear"], "--noise": ["0.1"],
          "--alphas": ["1"]}  # fmt: skip


def grid(*values: str) -> dict[str, list[str]]:
    """--alpha-grid instead of --alphas."""
    return {"--alphas": [], "--alpha-grid": list(values)}


BAD_THEORY = [
    (grid("1", "8", "1.5"), "argument --alpha-grid: NUM must be an integer >= 1, got '1.5'"),
    (grid("0", "8", "3"), "argument --alpha-grid: MIN must be a finite number > 0, got '0'"),
    (grid("1", "8", "0"), "argument --alpha-grid: NUM must be an integer >= 1, got '0'"),
    (grid("8", "1", "5"), "argument --alpha-grid: MIN 8 exceeds MAX 1"),
    (grid("1", "inf", "5"), "argument --alpha-grid: MAX must be a finite number > 0, got 'inf'"),
    ({"--noise": ["nan"]}, "argument --noise: must be a finite number >= 0, got 'nan'"),
    ({"--noise": ["inf"]}, "argument --noise: must be a finite number >= 0, got 'inf'"),
    ({"--noise": ["-1"]}, "argument --noise: must be a finite number >= 0, got '-1'"),
    ({"--scan-points": ["0"]}, "argument --scan-points: must be an integer >= 4, got '0'"),
    ({"--scan-points": ["-5"]}, "argument --scan-points: must be an integer >= 4, got '-5'"),
    ({"--depth": ["0"]}, "argument --depth: must be an integer >= 1, got '0'"),
    ({"--depth": ["two"]}, "argument --depth: must be an integer >= 1, got 'two'"),
    ({"--alphas": ["1", "0"]}, "argument --alphas: must be a finite number > 0, got '0'"),
    ({"--alphas": ["nan"]}, "argument --alphas: must be a finite number > 0, got 'nan'"),
    ({"--activation": ["relu"]}, "argument --activation: activation 'relu' is not odd"),
    ({"--activation": ["softplus"]}, "argument --activation: invalid choice: 'softplus'"),
]


@pytest.mark.parametrize("changes,message", BAD_THEORY, ids=[m.split(": ", 1)[1] for _, m in BAD_THEORY])
def test_theory_refuses_bad_arguments(capsys, tmp_path: Path, changes: dict, message: str) -> None:
    outputs = ["--out", str(tmp_path / "curve.csv"), "--coefficients", str(tmp_path / "coefficients.json")]
    line = refused(capsys, ["theory", *options(THEORY, changes), *outputs])
    assert message in line
    assert not list(tmp_path.iterdir())


def test_theory_offers_only_odd_activations(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["theory", "--help"])
    assert "--activation {tanh,erf,sin,linear}" in capsys.readouterr().out


def test_theory_bad_alpha_grid_from_the_shell() -> None:
    """The installed program: exit code 2, the error as argparse's last line, no traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "deeplin", "theory", *options(THEORY, grid("1", "8", "1.5"))],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "deeplin theory: error: argument --alpha-grid: NUM must be an integer >= 1, got '1.5'"
    )


DATA = {"--model-name": ["m"], "--activation": ["tanh"], "--depth": ["1"], "--readout": ["linear"],
        "--noise": ["0.1"], "--width": ["6"], "--alpha": ["1"], "--seed": ["0"],
        "--test-size": ["5"]}  # fmt: skip
BAD_DATA = [
    ({"--width": ["0"]}, "argument --width: must be an integer >= 2, got '0'"),
    ({"--width": ["-4"]}, "argument --width: must be an integer >= 2, got '-4'"),
    ({"--alpha": ["0"]}, "argument --alpha: must be a finite number > 0, got '0'"),
    ({"--alpha": ["-1"]}, "argument --alpha: must be a finite number > 0, got '-1'"),
    ({"--alpha": ["nan"]}, "argument --alpha: must be a finite number > 0, got 'nan'"),
    ({"--test-size": ["0"]}, "argument --test-size: must be an integer >= 1, got '0'"),
    ({"--seed": ["-1"]}, "argument --seed: must be an integer >= 0, got '-1'"),
    ({"--noise": ["-0.1"]}, "argument --noise: must be a finite number >= 0, got '-0.1'"),
    ({"--noise": ["nan"]}, "argument --noise: must be a finite number >= 0, got 'nan'"),
    ({"--noise": ["inf"]}, "argument --noise: must be a finite number >= 0, got 'inf'"),
    ({"--depth": ["0"]}, "argument --depth: must be an integer >= 1, got '0'"),
    ({"--width-ratios": ["1", "0"], "--depth": ["2"]},
     "argument --width-ratios: must be a finite number > 0, got '0'"),
    ({"--width-ratios": ["1", "1"]},
     "argument --width-ratios: needs one value per hidden layer, i.e. 1 (--depth 1), got 2"),
    ({"--activation": ["relu"]}, "argument --activation: activation 'relu' is not odd"),
]


@pytest.mark.parametrize("changes,message", BAD_DATA, ids=[m.split(": ", 1)[1] for _, m in BAD_DATA])
def test_simulate_data_refuses_bad_arguments(capsys, tmp_path: Path, changes: dict, message: str) -> None:
    line = refused(capsys, ["simulate-data", *options(DATA, changes), "--out", str(tmp_path / "data.npz")])
    assert message in line
    assert not list(tmp_path.iterdir())


def test_simulate_data_base_arguments_are_valid(tmp_path: Path) -> None:
    """The arguments the refusals above start from do write a design (so each refusal is its change's)."""
    assert main(["simulate-data", *options(DATA, {}), "--out", str(tmp_path / "data.npz")]) == 0
    assert (tmp_path / "data.npz").is_file()


@pytest.mark.parametrize("command", ["sample-posterior", "glm-twin"])
@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_steps_refuse_a_missing_data_file(capsys, tmp_path: Path, command: str, kind: str) -> None:
    data = tmp_path / ("nope.npz" if kind == "missing" else "")
    out = tmp_path / "out.json"
    line = refused(capsys, [command, "--data", str(data), "--out", str(out)])
    why = "no such file" if kind == "missing" else "is a directory, not a file"
    assert f"argument --data: {why}: {str(data)!r}" in line
    assert not out.exists()


# ---- check-config: unreadable files, syntax errors and duplicate keys with file, line and column ----


def test_check_config_refuses_missing_file_and_directory(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.yaml"
    line = refused(capsys, ["check-config", str(missing)])
    assert line == f"deeplin check-config: error: {missing}: no such config file"
    line = refused(capsys, ["check-config", str(tmp_path)])
    assert line == f"deeplin check-config: error: {tmp_path}: is a directory, not a config file"


@pytest.mark.parametrize(
    "text,where,problem",
    [
        ("models:\n  a: {activation: tanh\n", ":3:1:", "expected ',' or '}'"),
        ("models:\n  a: 1\n\tb: 2\n", ":3:1:", "found character '\\t' that cannot start any token"),
        ("theory: {alpha_num: 4}\nmodels: x: y\n", ":2:10:", "mapping values are not allowed here"),
    ],
    ids=["unclosed flow mapping", "tab", "nested colon"],
)
def test_check_config_names_file_line_and_column_of_a_syntax_error(
    capsys, tmp_path: Path, text: str, where: str, problem: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    line = refused(capsys, ["check-config", str(path)])
    assert line.startswith(f"deeplin check-config: error: {path}{where} not valid YAML: ") and problem in line


def test_check_config_names_file_line_and_column_of_a_duplicate_key(capsys, tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    model = "{activation: tanh, depth: 1, readout: linear, noise: 0.1}"
    path.write_text(f"models:\n  tanh-L1: {model}\n  tanh-L1: {model}\n")
    line = refused(capsys, ["check-config", str(path)])
    assert f"models.tanh-L1: duplicate key at {path}:3:3 (first at line 2, column 3)" in line


def test_check_config_results_dir_prints_only_the_folder(capsys, repo: Path, tmp_path: Path) -> None:
    """The Makefile reads the study's folder from it; a bad config prints nothing on stdout."""
    assert main(["check-config", "--results-dir", str(repo / "config.yaml")]) == 0
    assert capsys.readouterr().out == "results/default\n"
    refused(capsys, ["check-config", "--results-dir", str(tmp_path / "nonexistent.yaml")])  # stdout: nothing


def test_check_config_missing_file_from_the_shell(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "deeplin", "check-config", "nonexistent.yaml"],
                            cwd=tmp_path, check=False, capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "deeplin check-config: error: nonexistent.yaml: no such config file\n"


# ---- check-simulations: directories, and JSON that is not a metrics.json record ----


def test_check_simulations_searches_a_directory_for_metrics_json(capsys, tmp_path: Path) -> None:
    sims = tmp_path / "results" / "sims"
    for path in write_study(tmp_path):
        (sims / path.stem).mkdir(parents=True)
        shutil.move(path, sims / path.stem / "metrics.json")
    assert main(["check-simulations", str(tmp_path / "results")]) == 0
    assert "points: 15" in capsys.readouterr().out


def test_check_simulations_refuses_directory_without_metrics(capsys, tmp_path: Path) -> None:
    (tmp_path / "sims").mkdir()
    line = refused(capsys, ["check-simulations", str(tmp_path / "sims")])
    assert line == f"deeplin check-simulations: error: no metrics.json file matches {tmp_path / 'sims'}"


@pytest.mark.parametrize(
    "text,why",
    [
        ('{"deeplin_version": "0.1"}', "not a per-point metrics.json record (no key 'model_name')"),
        ("[1, 2]", "not a per-point metrics.json record (not a JSON object)"),
        ("{not json", "cannot read it as JSON"),
    ],
    ids=["other record", "a list", "not JSON"],
)
def test_check_simulations_names_the_file_that_is_not_a_metrics_record(
    capsys, tmp_path: Path, text: str, why: str
) -> None:
    good = write_study(tmp_path)[0]
    bad = tmp_path / "provenance.json"
    bad.write_text(text)
    line = refused(capsys, ["check-simulations", str(good), str(bad)])
    assert line.startswith(f"deeplin check-simulations: error: {bad}: {why}")


# ---- provenance --files-from ----


def result_files(tmp_path: Path, count: int) -> list[Path]:
    paths = [tmp_path / f"r{index}.json" for index in range(count)]
    for index, path in enumerate(paths):
        write_json(path, {"error": 0.1, "provenance": provenance(f"hash{index}")})
    return paths


def test_provenance_reads_the_file_list_from_a_file(tmp_path: Path) -> None:
    paths = result_files(tmp_path, 3)
    listing = tmp_path / "files.txt"
    listing.write_text(f"{paths[1]}\n\n{paths[2]}\n")  # blank lines are skipped
    out = tmp_path / "provenance.csv"
    both = ["--files", str(paths[0]), "--files-from", str(listing)]
    assert main(["provenance", *both, "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["file"] for r in rows] == list(map(str, paths)) and rows[2]["config_hash"] == "hash2"
    assert main(["provenance", "--files-from", str(listing), "--out", str(out)]) == 0
    assert len(list(csv.DictReader(out.open()))) == 2


@pytest.mark.parametrize(
    "case", ["listed file missing", "empty list", "list missing", "nothing given", "no provenance"]
)
def test_provenance_refuses_bad_file_lists(capsys, tmp_path: Path, case: str) -> None:
    (path,) = result_files(tmp_path, 1)
    listing, out = tmp_path / "files.txt", tmp_path / "provenance.csv"
    bare = tmp_path / "bare.json"
    bare.write_text('{"error": 0.1}')
    lists = {"listed file missing": f"{path}\n{tmp_path / 'gone.json'}\n", "empty list": "\n"}
    listing.write_text(lists.get(case, ""))
    argv = {
        "listed file missing": ["--files-from", str(listing)],
        "empty list": ["--files-from", str(listing)],
        "list missing": ["--files-from", str(tmp_path / "nope.txt")],
        "nothing given": [],
        "no provenance": ["--files", str(bare)],
    }[case]
    line = refused(capsys, ["provenance", *argv, "--out", str(out)])
    expected = {
        "listed file missing": f"--files-from {listing}: no such file: '{tmp_path / 'gone.json'}'",
        "empty list": f"--files-from {listing} lists no file",
        "list missing": f"argument --files-from: no such file: '{tmp_path / 'nope.txt'}'",
        "nothing given": "no result files; give result files with --files or --files-from",
        "no provenance": f"{bare} records no provenance",
    }[case]
    assert expected in line
    assert not out.exists()


# ---- logging: --verbose is deeplin's progress, not third-party chatter ----


@pytest.fixture
def restore_log_levels():
    names = ["", "deeplin", "fontTools.subset", "matplotlib"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.usefixtures("restore_log_levels")
@pytest.mark.parametrize("verbose", [True, False])
def test_verbose_raises_only_deeplins_loggers(capsys, repo: Path, verbose: bool) -> None:
    assert main([*(["--verbose"] if verbose else []), "check-config", str(repo / "config.yaml")]) == 0
    ours = logging.INFO if verbose else logging.WARNING
    assert logging.getLogger("deeplin").getEffectiveLevel() == ours
    assert logging.getLogger("deeplin.simulate").getEffectiveLevel() == ours
    third_party = ("fontTools.subset", "matplotlib.font_manager", "PIL.PngImagePlugin", "jax._src.xla_bridge",
                   "arviz")  # fmt: skip
    for name in third_party:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name


def test_verbose_log_has_no_third_party_info_lines(repo: Path) -> None:
    code = (
        "import logging\n"
        "from deeplin.cli import main\n"
        f"main(['--verbose', 'check-config', {str(repo / 'config.yaml')!r}])\n"
        "logging.getLogger('fontTools.subset').info('subset chatter')\n"
        "logging.getLogger('deeplin.simulate').info('our progress')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "our progress" in result.stderr and "subset chatter" not in result.stderr
