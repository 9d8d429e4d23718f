"""Recovery of planted neurons: solve one cell, tabulate and plot, one step each.

The steps are the calls of the result's Snakemake rules (`deeplin relu_recovery STEP`). A step that reads the
study config takes its slice as ``--settings JSON`` (deeplin.relu_recovery.settings says which slice); the
other options are files and the cell's coordinates.
"""

from __future__ import annotations

import argparse

from ..cli_args import add_settings, fail, finite, input_file, integer, listed_files, result_settings
from .figure_names import FIGURES

RESULT_ID = "relu_recovery"


def _solve(args: argparse.Namespace) -> None:
    from .cells import run_cell
    from .settings import SOLVE_KEYS

    section = result_settings(RESULT_ID, "solve", args.settings, SOLVE_KEYS)[RESULT_ID]
    run_cell(section, args.dim, args.ratio, args.out)


def _table(args: argparse.Namespace) -> None:
    from .reporting import write_tables

    cells = list(args.cells or []) + (listed_files(args.cells_from) if args.cells_from else [])
    if not cells:
        fail(f"{RESULT_ID} table", "no cell files: give them with --cells or --cells-from")
    write_tables(cells, args.out, args.thresholds)


def _plot(args: argparse.Namespace) -> None:
    from .reporting import write_figure

    settings = result_settings(RESULT_ID, "plot", args.settings, ())
    if "plots" not in settings:
        fail(f"{RESULT_ID} plot", "--settings: needs plots")
    write_figure(args.figure, args.table, settings, args.out)


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The result's steps as subcommands of ``parser`` (the ``deeplin relu_recovery`` group)."""
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    solve = steps.add_parser("solve", help="one cell (d, n/d): every trial's instance and convex programs")
    add_settings(solve, '\'{"relu_recovery": {"trials": 10, "models": ["linear_skip"], ...}}\'')
    solve.add_argument("--dim", required=True, type=integer(2), help="input dimension d (>= 2)")
    solve.add_argument("--ratio", required=True, type=finite(1.0), help="n/d (>= 1)")
    solve.add_argument("--out", required=True, help="the cell's trials.json")
    solve.set_defaults(func=_solve)

    table = steps.add_parser("table", help="relu_recovery.csv and the fitted thresholds")
    table.add_argument("--cells", nargs="+", help="the cells' trials.json files")
    table.add_argument("--cells-from", metavar="PATH", type=input_file, help="a text file listing them")
    table.add_argument("--out", required=True, help="relu_recovery.csv (provenance.json goes next to it)")
    table.add_argument("--thresholds", required=True, help="relu_recovery_thresholds.csv")
    table.set_defaults(func=_table)

    plot = steps.add_parser("plot", help="one figure as PNG and PDF")
    plot.add_argument("figure", choices=list(FIGURES))
    add_settings(plot, '\'{"plots": {"dpi": 200}}\'')
    plot.add_argument("--table", required=True, type=input_file, help="relu_recovery.csv")
    plot.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    plot.set_defaults(func=_plot)
