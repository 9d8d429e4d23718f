"""The shared `deeplin` commands (deeplin.cli): check-config, provenance, rulegraph, --version and logging.
Bad input gets exit code 2 and one error line naming the file, option or key and the value, no traceback and
no output. (Each result's steps: tests/<result>/test_cli.py.)"""

from __future__ import annotations

import csv
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from cli_refusals import refused
from deeplin import __version__
from deeplin.cli import main
from deeplin.io import provenance, write_json

RULEGRAPH = """Building DAG of jobs...
digraph snakemake_dag {
	0[label = "all"]; 1[label = "deep_equivalence_theory"]; 2[label = "deep_equivalence_plot"];
	1 -> 0
	1 -> 2
	2 -> 0
}
"""


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == f"deeplin {__version__}\n"


def test_help_lists_the_shared_commands_and_each_result(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("check-config", "provenance", "rulegraph", "deep_equivalence"))


# ---- check-config: unreadable files, syntax errors and duplicate keys with file, line and column ----


def test_check_config_accepts_the_shipped_config(capsys, repo: Path) -> None:
    assert main(["check-config", str(repo / "config.yaml")]) == 0
    assert (
        capsys.readouterr().out
        == f"{repo / 'config.yaml'}: valid (deep_equivalence: 4 models, 1 simulated, deep_linear: 6 cells of 5000 networks, generative_data: 2 generators, 2 SGD runs, 24 ridge points, relu_recovery: 14 cells of 10 trials)\n"
    )
    assert main(["check-config", "--print", str(repo / "config.yaml")]) == 0
    printed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert printed["plots"]["dpi"] == 200 and printed["deep_equivalence"]["analysis"]["confidence"] == 0.95


def test_check_config_refuses_missing_file_and_directory(capsys, tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent.yaml"
    line = refused(capsys, ["check-config", str(missing)])
    assert line == f"deeplin check-config: error: {missing}: no such config file"
    line = refused(capsys, ["check-config", str(tmp_path)])
    assert line == f"deeplin check-config: error: {tmp_path}: is a directory, not a config file"


@pytest.mark.parametrize(
    "text,where,problem",
    [
        ("deep_equivalence:\n  a: {activation: tanh\n", ":3:1:", "expected ',' or '}'"),
        ("deep_equivalence:\n  a: 1\n\tb: 2\n", ":3:1:", "found character '\\t' that cannot start any token"),
        ("plots: {dpi: 100}\ndeep_equivalence: x: y\n", ":2:20:", "mapping values are not allowed here"),
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
    path.write_text(f"deep_equivalence:\n  models:\n    tanh-L1: {model}\n    tanh-L1: {model}\n")
    line = refused(capsys, ["check-config", str(path)])
    assert f"deep_equivalence.models.tanh-L1: duplicate key at {path}:4:5 (first at line 3, column 5)" in line


def test_check_config_lists_several_problems_one_a_line(capsys, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("plots: {dpi: 10}\ndeep_equivalence:\n  models: {}\n")
    assert main(["check-config", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.splitlines() == [
        f"deeplin check-config: error: {path}: 2 problems:",
        "  - deep_equivalence.models = {}: {} should be non-empty",
        "  - plots.dpi = 10: 10 is less than the minimum of 50",
    ]


def test_check_config_results_dir_prints_only_the_folder(capsys, repo: Path, tmp_path: Path) -> None:
    """The Makefile reads the study's folder from it; a bad config prints nothing on stdout."""
    assert main(["check-config", "--results-dir", str(repo / "config.yaml")]) == 0
    assert capsys.readouterr().out == "results/default\n"
    refused(capsys, ["check-config", "--results-dir", str(tmp_path / "nonexistent.yaml")])  # stdout: nothing


def test_check_config_missing_file_from_the_shell(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deeplin", "check-config", "nonexistent.yaml"],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == "deeplin check-config: error: nonexistent.yaml: no such config file\n"


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


# ---- rulegraph: Snakemake's --rulegraph output in, DOT, PNG and PDF out ----


def test_rulegraph_draws_the_graph_from_a_file(tmp_path: Path) -> None:
    dot = tmp_path / "graph.txt"
    dot.write_text(RULEGRAPH)
    settings = json.dumps({"plots": {"dpi": 60}})
    assert (
        main(["rulegraph", "--dot", str(dot), "--settings", settings, "--out", str(tmp_path / "out/graph")])
        == 0
    )
    assert (tmp_path / "out/graph.dot").read_text().startswith("digraph")
    assert (tmp_path / "out/graph.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out/graph.pdf").read_bytes()[:5] == b"%PDF-"


def test_rulegraph_reads_stdin_from_the_shell(tmp_path: Path) -> None:
    """As the rule runs it: `snakemake --rulegraph | deeplin rulegraph --settings ... --out STEM`."""
    settings = json.dumps({"plots": {"dpi": 60}})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deeplin",
            "rulegraph",
            "--settings",
            settings,
            "--out",
            str(tmp_path / "graph"),
        ],
        input=RULEGRAPH,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "graph.png").stat().st_size > 1_000


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"plots": {"dpi": 10}}, "--settings: plots.dpi = 10: 10 is less than the minimum of 50"),
        ({"plots": {"dpi": 100, "format": "svg"}}, "--settings: plots.format: unknown key"),
        ({"deep_equivalence": {"analysis": {}}}, "--settings: needs plots"),
        ("{dpi: 100}", "--settings is not valid JSON ("),
    ],
    ids=["dpi", "unknown key", "no plots", "not JSON"],
)
def test_rulegraph_refuses_bad_settings(capsys, tmp_path: Path, settings, message: str) -> None:
    dot = tmp_path / "graph.txt"
    dot.write_text(RULEGRAPH)
    text = settings if isinstance(settings, str) else json.dumps(settings)
    line = refused(capsys, ["rulegraph", "--dot", str(dot), "--settings", text, "--out", str(tmp_path / "g")])
    assert line.startswith(f"deeplin rulegraph: error: {message}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.txt"]  # nothing written


def test_rulegraph_refuses_a_missing_dot_file(capsys, tmp_path: Path) -> None:
    settings = json.dumps({"plots": {"dpi": 100}})
    line = refused(
        capsys, ["rulegraph", "--dot", str(tmp_path / "nope"), "--settings", settings, "--out", "g"]
    )
    assert f"argument --dot: no such file: '{tmp_path / 'nope'}'" in line


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
    assert logging.getLogger("deeplin.deep_equivalence.posterior").getEffectiveLevel() == ours
    third_party = (
        "fontTools.subset",
        "matplotlib.font_manager",
        "PIL.PngImagePlugin",
        "jax._src.xla_bridge",
        "arviz",
    )
    for name in third_party:
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name


def test_verbose_log_has_no_third_party_info_lines(repo: Path) -> None:
    code = (
        "import logging\n"
        "from deeplin.cli import main\n"
        f"main(['--verbose', 'check-config', {str(repo / 'config.yaml')!r}])\n"
        "logging.getLogger('fontTools.subset').info('subset chatter')\n"
        "logging.getLogger('deeplin.deep_equivalence.posterior').info('our progress')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "our progress" in result.stderr and "subset chatter" not in result.stderr
