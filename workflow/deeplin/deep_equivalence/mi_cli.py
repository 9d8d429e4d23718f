"""The mutual-information steps of the deep-equivalence result (`deeplin deep_equivalence mi-*`).

mi-rung-data writes one rung's data from a point's data; the existing `posterior` step samples it; mi-point
integrates a point's rungs; mi-table writes the tables over all points; mi-plot draws the figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli_args import (
    add_settings,
    fail,
    finite,
    input_file,
    listed_files,
    named_files,
    parse_settings,
    result_settings,
)
from .mi_figure_names import MI_FIGURES

RESULT_ID = "deep_equivalence"
COMMAND = f"deeplin {RESULT_ID}"


def _rung_data(args: argparse.Namespace) -> None:
    from .mi_ladder import write_rung

    try:
        write_rung(args.data, args.snr, args.out)
    except ValueError as exc:
        fail(f"{RESULT_ID} mi-rung-data", str(exc))


def _mi_point(args: argparse.Namespace) -> None:
    from .mi_point import mi_point

    section = result_settings(RESULT_ID, "mi-point", args.settings, ["mutual_information"])[RESULT_ID]
    missing = next((d for d in args.rungs if not (Path(d) / "posterior.json").is_file()), None)
    if missing:
        fail(f"{RESULT_ID} mi-point", f"--rungs: no posterior.json in {missing!r}")
    try:
        mi_point(section["mutual_information"], args.data, args.rungs, args.out)
    except (ValueError, RuntimeError) as exc:  # RuntimeError: the twin's GAMP did not converge
        fail(f"{RESULT_ID} mi-point", str(exc))


def _mi_table(args: argparse.Namespace) -> None:
    from .mi_reporting import write_mi_tables

    paths = listed_files(args.points_from)
    if not paths:
        fail(f"{RESULT_ID} mi-table", f"--points-from {args.points_from!r} lists no mi.json file")
    missing = next((p for p in paths if not Path(p).is_file()), None)
    if missing:
        fail(f"{RESULT_ID} mi-table", f"no such mi.json file: {missing!r}")
    write_mi_tables(paths, args.out_dir)


def _mi_plot(args: argparse.Namespace) -> None:
    from .mi_figures import write_mi_figure

    settings = parse_settings(f"{RESULT_ID} mi-plot", args.settings)
    if "plots" not in settings:
        fail(f"{RESULT_ID} mi-plot", "--settings: needs plots")
    curves = named_files(f"{RESULT_ID} mi-plot", "--curves", args.curves)
    write_mi_figure(args.figure, args.tables, curves, args.errors, settings["plots"], args.out)


def _quad_table(args: argparse.Namespace) -> None:
    from .quadratic_regime import write_quadratic_table

    paths = listed_files(args.metrics_from)
    missing = next((p for p in paths if not Path(p).is_file()), None)
    if not paths or missing:
        fail(f"{RESULT_ID} quadratic-table", f"--metrics-from: no such metrics.json file: {missing!r}")
    write_quadratic_table(paths, args.out)


def _quad_plot(args: argparse.Namespace) -> None:
    from .mi_figures import write_quadratic_figure

    settings = parse_settings(f"{RESULT_ID} quadratic-plot", args.settings)
    if "plots" not in settings:
        fail(f"{RESULT_ID} quadratic-plot", "--settings: needs plots")
    write_quadratic_figure(args.table, settings["plots"], args.out)


def add_mi_commands(steps: argparse._SubParsersAction) -> None:
    """The mutual-information steps as subcommands of the result's group."""
    parser = steps.add_parser(
        "mi-rung-data", help="one rung of the I-MMSE ladder: the point's data, noise rescaled"
    )
    parser.add_argument("--data", required=True, type=input_file, help="the point's data.npz")
    parser.add_argument(
        "--snr", required=True, type=finite(0.0, exclusive=True), help="signal-to-noise ratio s > 0"
    )
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=_rung_data)

    parser = steps.add_parser("mi-point", help="a point's mutual information per sample from its rungs")
    add_settings(parser, '\'{"deep_equivalence": {"mutual_information": {"rungs": 8}}}\'')
    parser.add_argument("--data", required=True, type=input_file, help="the point's data.npz")
    parser.add_argument(
        "--rungs", required=True, nargs="+", help="rung folders, each with data.npz, posterior.json"
    )
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=_mi_point)

    parser = steps.add_parser("mi-table", help="mutual-information tables over all points")
    parser.add_argument("--points-from", required=True, type=input_file, help="a file listing mi.json files")
    parser.add_argument("--out-dir", required=True)
    parser.set_defaults(func=_mi_table)

    parser = steps.add_parser("mi-plot", help="one mutual-information figure as PNG and PDF")
    parser.add_argument("figure", choices=list(MI_FIGURES))
    add_settings(parser, '\'{"plots": {"dpi": 200}}\'')
    parser.add_argument("--tables", required=True, help="directory with the mutual-information tables")
    parser.add_argument("--curves", nargs="*", default=[], metavar="MODEL=PATH", help="theory curves")
    parser.add_argument("--errors", type=input_file, help="the simulations' summary.csv (error gap panel)")
    parser.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    parser.set_defaults(func=_mi_plot)

    parser = steps.add_parser(
        "quadratic-table", help="the quadratic regime n = κ d0²: errors against the GLM"
    )
    parser.add_argument("--metrics-from", required=True, type=input_file, help="a file listing metrics.json")
    parser.add_argument("--out", required=True, help="quadratic_regime.csv")
    parser.set_defaults(func=_quad_table)

    parser = steps.add_parser("quadratic-plot", help="the figure 'where the equivalence breaks'")
    add_settings(parser, '\'{"plots": {"dpi": 200}}\'')
    parser.add_argument("--table", required=True, type=input_file, help="quadratic_regime.csv")
    parser.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    parser.set_defaults(func=_quad_plot)
