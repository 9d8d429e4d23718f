"""Gaussian equivalence of generative data: generator moments, local fields, SGD, ODE, ridge, tables and
figures, one step each (`deeplin generative_data STEP`). A step that reads the study config takes its slice as
``--settings JSON`` (deeplin.generative_data.settings says which slice); the other options are files and the
job's coordinates."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from ..cli_args import add_settings, fail, finite, input_file, integer, listed_files, result_settings
from .figure_names import FIGURES
from .generators import GENERATORS

RESULT_ID = "generative_data"


def _section(step: str, text: str, required: Sequence[str]) -> dict:
    """This result's section of ``--settings`` for ``step`` (deeplin.cli_args.result_settings)."""
    return result_settings(RESULT_ID, step, text, required)[RESULT_ID]


def _nested(step: str, section: dict, key: str, required: Sequence[str]) -> None:
    missing = [name for name in required if name not in section.get(key, {})]
    if missing:
        fail(
            f"{RESULT_ID} {step}", f"--settings: needs {', '.join(f'{RESULT_ID}.{key}.{m}' for m in missing)}"
        )


def _generator(args: argparse.Namespace) -> None:
    from .settings import GENERATOR_KEYS
    from .steps import write_generator

    write_generator(
        _section("generator", args.settings, GENERATOR_KEYS), args.generator, args.width, args.out
    )


def _fields(args: argparse.Namespace) -> None:
    from .settings import FIELDS_KEYS
    from .steps import write_fields

    section = _section("fields", args.settings, FIELDS_KEYS + ("sgd",))
    _nested("fields", section, "sgd", ("students", "teachers"))
    write_fields(section, args.generator_file, args.out)


def _sgd(args: argparse.Namespace) -> None:
    from .settings import SGD_KEYS
    from .steps import write_sgd

    write_sgd(_section("sgd", args.settings, SGD_KEYS), args.generator_file, args.out)


def _ode(args: argparse.Namespace) -> None:
    from .settings import ODE_KEYS, ODE_SGD_KEYS
    from .steps import write_ode

    section = _section("ode", args.settings, ODE_KEYS + ("sgd",))
    _nested("ode", section, "sgd", ODE_SGD_KEYS)
    try:
        write_ode(section, args.generator_file, args.out)
    except RuntimeError as exc:
        raise SystemExit(f"deeplin {RESULT_ID} ode: {exc}") from None


def _ridge(args: argparse.Namespace) -> None:
    from .settings import RIDGE_KEYS, RIDGE_POINT_KEYS
    from .steps import write_ridge_point

    section = _section("ridge", args.settings, RIDGE_KEYS + ("ridge",))
    _nested("ridge", section, "ridge", RIDGE_POINT_KEYS)
    try:
        write_ridge_point(section, args.generator_file, args.lam, args.alpha, args.out)
    except ValueError as exc:
        fail(f"{RESULT_ID} ridge", str(exc))


def _files(args: argparse.Namespace, step: str) -> list[str]:
    files = list(args.inputs or []) + (listed_files(args.inputs_from) if args.inputs_from else [])
    if not files:
        fail(f"{RESULT_ID} {step}", "no input files: give them with --inputs or --inputs-from")
    return files


def _table(args: argparse.Namespace) -> None:
    from . import reporting

    files = _files(args, "table")
    if args.table == "generative_sgd":
        if args.learning_rate is None:
            fail(f"{RESULT_ID} table", "generative_sgd needs --learning-rate")
        if len(files) % 2:
            fail(f"{RESULT_ID} table", "generative_sgd needs (sgd.npz, ode.json) pairs")
        reporting.write_sgd_table(
            list(zip(files[::2], files[1::2], strict=True)), args.learning_rate, args.out
        )
    elif args.table == "generative_ridge":
        reporting.write_ridge_table(files, args.out)
    else:
        reporting.write_fields_table(files, args.out)


def _plot(args: argparse.Namespace) -> None:
    from .reporting import write_figure

    settings = result_settings(RESULT_ID, "plot", args.settings, ("seed",))
    if "plots" not in settings:
        fail(f"{RESULT_ID} plot", "--settings: needs plots")
    write_figure(args.figure, args.table, args.inputs, settings, args.out)


def _job(
    steps: argparse._SubParsersAction, name: str, text: str, example: str, func
) -> argparse.ArgumentParser:
    parser = steps.add_parser(name, help=text)
    add_settings(parser, example)
    parser.set_defaults(func=func)
    return parser


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The result's steps as subcommands of ``parser`` (the ``deeplin generative_data`` group)."""
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    example = '\'{"generative_data": {"latent_ratio": 0.5, "seed": 0, ...}}\''
    p = _job(
        steps,
        "generator",
        "one generator's weights and moments Ω, Φ (exact or Monte Carlo)",
        example,
        _generator,
    )
    p.add_argument("--generator", required=True, choices=GENERATORS)
    p.add_argument("--width", required=True, type=integer(2), help="input dimension N (>= 2)")
    p.add_argument("--out", required=True, help="generator.npz")
    for name, text, func, out in (
        ("fields", "the local-field Gaussian-equivalence check at initialisation", _fields, "fields.npz"),
        ("sgd", "online SGD streams on generator data", _sgd, "sgd.npz"),
        ("ode", "the spectral ODEs from the same initial weights (exact and linearised Ω)", _ode, "ode.json"),
    ):
        p = _job(steps, name, text, example, func)
        p.add_argument("--generator-file", required=True, type=input_file, help="generator.npz")
        p.add_argument("--out", required=True, help=out)
    p = _job(steps, "ridge", "one ridge point: the fixed point and both simulations", example, _ridge)
    p.add_argument("--generator-file", required=True, type=input_file, help="generator.npz")
    p.add_argument("--lam", required=True, type=finite(0.0, exclusive=True), help="ridge penalty λ (> 0)")
    p.add_argument("--alpha", required=True, type=finite(0.0, exclusive=True), help="α = n/N (> 0)")
    p.add_argument("--out", required=True, help="the point's JSON")
    p = steps.add_parser("table", help="one of the result's tables from its jobs' files")
    p.add_argument("table", choices=["generative_sgd", "generative_ridge", "generative_fields"])
    p.add_argument("--inputs", nargs="+", help="the jobs' files (for generative_sgd: sgd.npz ode.json pairs)")
    p.add_argument(
        "--inputs-from", metavar="PATH", type=input_file, help="a text file listing them, one a line"
    )
    p.add_argument("--learning-rate", type=finite(0.0, exclusive=True), help="η (generative_sgd only)")
    p.add_argument("--out", required=True, help="the table's CSV (a .provenance.json goes next to it)")
    p.set_defaults(func=_table)
    p = steps.add_parser("plot", help="one figure as PNG and PDF")
    p.add_argument("figure", choices=list(FIGURES))
    add_settings(p, '\'{"plots": {"dpi": 200}, "generative_data": {"seed": 0, ...}}\'')
    p.add_argument("--table", required=True, type=input_file, help="the figure's table (CSV)")
    p.add_argument(
        "--inputs", nargs="*", default=[], help="generator.npz (ridge) or fields.npz (fields) files"
    )
    p.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    p.set_defaults(func=_plot)
