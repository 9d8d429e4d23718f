"""Deep linear networks with depth ∝ width: simulate, compare with theory, tabulate and plot, one step each.

The steps are the calls of the result's Snakemake rules (`deeplin deep_linear STEP`). A step that reads the
study config takes its slice as ``--settings JSON`` (deeplin.deep_linear.settings says which slice); the other
options are files and the cell's coordinates.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..cli_args import (
    add_settings,
    fail,
    finite,
    input_file,
    integer,
    listed_files,
    result_settings,
)
from .figure_names import FIGURES

RESULT_ID = "deep_linear"


def _section(step: str, text: str, required: Sequence[str]) -> dict:
    """This result's ``--settings`` for ``step`` (deeplin.cli_args.result_settings)."""
    return result_settings(RESULT_ID, step, text, required)


def _simulate(args: argparse.Namespace) -> None:
    from .cells import simulate_cell
    from .settings import SIMULATION_KEYS

    section = _section("simulate", args.settings, SIMULATION_KEYS)[RESULT_ID]
    try:
        simulate_cell(section, args.a, args.width, args.out)
    except RuntimeError as exc:
        raise SystemExit(f"deeplin {RESULT_ID} simulate: {exc}") from None


def _compare(args: argparse.Namespace) -> None:
    from .reporting import compare_cell
    from .settings import COMPARISON_KEYS

    section = _section("compare", args.settings, COMPARISON_KEYS)[RESULT_ID]
    compare_cell(section, args.networks, args.out)


def _table(args: argparse.Namespace) -> None:
    from .reporting import write_table

    statistics = list(args.statistics or []) + (
        listed_files(args.statistics_from) if args.statistics_from else []
    )
    if not statistics:
        fail(
            f"{RESULT_ID} table", "no statistics.json files: give them with --statistics or --statistics-from"
        )
    write_table(statistics, args.out)


def _plot(args: argparse.Namespace) -> None:
    from .reporting import write_figure

    settings = _section("plot", args.settings, ("input_overlap",))
    if "plots" not in settings:
        fail(f"{RESULT_ID} plot", "--settings: needs plots")
    write_figure(args.figure, args.table, args.networks, settings, args.out)


def _add_simulate(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("simulate", help="sample one cell's deep linear networks (outputs and K_L)")
    add_settings(parser, '\'{"deep_linear": {"networks": 2000, "input_dim": 10, ...}}\'')
    parser.add_argument(
        "--a", required=True, type=finite(0.0, exclusive=True), help="depth ratio a = L/N (> 0)"
    )
    parser.add_argument("--width", required=True, type=integer(2), help="hidden width N (>= 2)")
    parser.add_argument("--out", required=True, help="the cell's networks.npz")
    parser.set_defaults(func=_simulate)


def _add_compare(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("compare", help="one cell against the finite, limit and Gaussian-process laws")
    add_settings(parser, '\'{"deep_linear": {"input_overlap": 0.3, "reference_draws": 200000, ...}}\'')
    parser.add_argument("--networks", required=True, type=input_file, help="the cell's networks.npz")
    parser.add_argument("--out", required=True, help="the cell's statistics.json")
    parser.set_defaults(func=_compare)


def _add_table(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("table", help="deep_linear.csv: every cell's statistics")
    parser.add_argument("--statistics", nargs="+", help="the cells' statistics.json files")
    parser.add_argument(
        "--statistics-from", metavar="PATH", type=input_file, help="a text file listing them, one a line"
    )
    parser.add_argument("--out", required=True, help="the table's CSV (provenance.json goes next to it)")
    parser.set_defaults(func=_table)


def _add_plot(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("plot", help="one figure as PNG and PDF")
    parser.add_argument("figure", choices=list(FIGURES))
    add_settings(parser, '\'{"plots": {"dpi": 200}, "deep_linear": {"input_overlap": 0.3}}\'')
    parser.add_argument("--table", required=True, type=input_file, help="deep_linear.csv")
    parser.add_argument(
        "--networks", nargs="*", default=[], help="the cells' networks.npz (histogram figures)"
    )
    parser.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    parser.set_defaults(func=_plot)


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The result's steps as subcommands of ``parser`` (the ``deeplin deep_linear`` group)."""
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    _add_simulate(steps)
    _add_compare(steps)
    _add_table(steps)
    _add_plot(steps)
