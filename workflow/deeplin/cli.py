"""The ``deeplin`` command line: shared commands, and one command group per result (``deeplin <id> <step>``).

Shared: ``check-config`` (validate a study file), ``provenance`` (one row per result file), ``rulegraph``
(draw the workflow). Each result's steps live in ``deeplin.<id>.cli`` and are the calls its rules make.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .cli_args import add_settings, fail, input_file, listed_files, parse_settings
from .config import RESULT_IDS, ConfigError, check_devices, load_config, result_rules
from .io import atomic_write

log = logging.getLogger("deeplin")


def _provenance(args: argparse.Namespace) -> None:
    from .provenance_table import provenance_table

    files = list(args.files or [])
    if args.files_from:
        files += listed_files(args.files_from)
    if not files:
        where = f"--files-from {args.files_from} lists no file" if args.files_from else "no result files"
        fail("provenance", f"{where}; give result files with --files or --files-from")
    missing = next((f for f in files if not os.path.isfile(f)), None)
    if missing is not None:
        option = "--files" if missing in (args.files or []) else f"--files-from {args.files_from}"
        fail("provenance", f"{option}: no such file: {missing!r}")
    try:
        table = provenance_table(files)
    except (KeyError, ValueError) as exc:
        fail("provenance", str(exc.args[0]) if exc.args else str(exc))  # a KeyError's str() adds quotes
    with atomic_write(args.out) as handle:
        table.to_csv(handle, index=False, lineterminator="\n")
    log.info(
        "provenance of %d result files: versions %s, commits %s, devices %s",
        len(table),
        *(sorted(map(str, table[c].unique())) for c in ("deeplin_version", "git_commit", "device")),
    )


def _rulegraph(args: argparse.Namespace) -> None:
    from .rulegraph import render_rulegraph

    settings = parse_settings("rulegraph", args.settings)
    if "plots" not in settings:
        fail("rulegraph", "--settings: needs plots")
    text = sys.stdin.read() if args.dot == "-" else Path(args.dot).read_text(encoding="utf-8")
    renderer = render_rulegraph(text, args.out, settings["plots"]["dpi"])
    log.info("rule graph drawn with %s", renderer)


def _check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        check_devices(config)  # the same device check as the Snakefile's
    except ConfigError as exc:
        # One problem, one line (file-level problems already start with the file); several: one line each.
        if len(exc.problems) == 1:
            (problem,) = exc.problems
            where = "" if str(args.config) in problem else f"{args.config}: "
            print(f"deeplin check-config: error: {where}{problem}", file=sys.stderr)
        else:
            count = len(exc.problems)
            print(f"deeplin check-config: error: {args.config}: {count} problems:", file=sys.stderr)
            for problem in exc.problems:
                print(f"  - {problem}", file=sys.stderr)
        return 2
    if args.results_dir:  # for scripts (the Makefile): the one line is the folder
        print(f"results/{config['study']}")
        return 0
    sections = ", ".join(f"{rid}: {result_rules(rid).summary(config[rid])}" for rid in RESULT_IDS)
    print(f"{args.config}: valid ({sections})")
    if args.print:
        json.dump(config, sys.stdout, indent=2)
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: the shared commands, then one group per result (its steps as subcommands)."""
    parser = argparse.ArgumentParser(prog="deeplin", description=__doc__)
    parser.add_argument("--version", action="version", version=f"deeplin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check-config", help="validate a config file against the schema")
    check.add_argument("config", nargs="?", default="config.yaml")
    check.add_argument("--print", action="store_true", help="print it with defaults filled in")
    check.add_argument(
        "--results-dir",
        action="store_true",
        help="if valid, print only the study's results folder, results/<study>",
    )
    check.set_defaults(func=_check_config)

    prov = sub.add_parser(
        "provenance", help="one CSV row per result file: version, commit, config hash, device"
    )
    prov.add_argument("--files", nargs="+", help="result files (.json or .npz)")
    prov.add_argument(
        "--files-from",
        metavar="PATH",
        type=input_file,
        help="a text file listing result files, one path a line (for studies whose file list "
        "would not fit on a command line); with --files, both are used",
    )
    prov.add_argument("--out", required=True, help="CSV to write")
    prov.set_defaults(func=_provenance)

    graph = sub.add_parser("rulegraph", help="render `snakemake --rulegraph` output as DOT, PNG and PDF")
    graph.add_argument(
        "--dot",
        default="-",
        type=lambda t: t if t == "-" else input_file(t),
        help="file with the rule-graph output, or - for stdin",
    )
    add_settings(graph, '\'{"plots": {"dpi": 200}}\'')
    graph.add_argument("--out", required=True, help="output stem")
    graph.set_defaults(func=_rulegraph)

    for result_id in RESULT_IDS:
        commands = importlib.import_module(f"deeplin.{result_id}.cli")
        group = sub.add_parser(result_id, help=(commands.__doc__ or "").split("\n")[0])
        commands.add_commands(group)
    return parser


def configure_logging(verbose: bool) -> None:
    """Third-party loggers at WARNING, deeplin's own at INFO with ``--verbose``.

    Only the ``deeplin`` logger is raised: a root logger at INFO lets matplotlib's PDF backend write ~110
    ``fontTools.subset`` lines into every plot job's log, and jax, PIL and arviz chatter as well.
    """
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(logging.WARNING)  # also where a handler existed before (tests, embedding)
    logging.getLogger("deeplin").setLevel(logging.INFO if verbose else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deeplin`` program."""
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
