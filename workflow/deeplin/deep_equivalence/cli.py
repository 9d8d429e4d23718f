"""The deep Gaussian equivalence: its theory, simulations, tables and figures, one step each.

The steps are the calls of the result's Snakemake rules (`deeplin deep_equivalence STEP`).
Every step that reads the study config takes its slice as ``--settings JSON`` (deeplin.deep_equivalence.
settings says which slice; the schema validates it); the other options are files and the point's coordinates.
Each step imports its own module when it runs, so that `deeplin --help` and light steps stay fast.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path

from ..cli_args import (
    add_settings,
    fail,
    finite,
    input_file,
    integer,
    listed_files,
    named_files,
    parse_settings,
    result_settings,
)
from .figure_names import FIGURES
from .mi_cli import add_mi_commands

RESULT_ID = "deep_equivalence"
COMMAND = f"deeplin {RESULT_ID}"


def _section(step: str, text: str, required: Sequence[str]) -> dict:
    """This result's ``--settings`` for ``step`` (deeplin.cli_args.result_settings)."""
    return result_settings(RESULT_ID, step, text, required)


def _one_model(step: str, section: dict) -> tuple[str, dict]:
    models = section["models"]
    if len(models) != 1:
        fail(f"{RESULT_ID} {step}", f"--settings: {RESULT_ID}.models must hold one model, got {len(models)}")
    return next(iter(models.items()))


def _theory(args: argparse.Namespace) -> None:
    from ..config import result_rules
    from .theory_files import write_theory

    section = _section("theory", args.settings, ["models", "theory"])[RESULT_ID]
    result_rules(RESULT_ID).complete(section)
    _, model = _one_model("theory", section)
    try:
        write_theory(model, section["theory"], args.curve, args.coefficients)
    except ValueError as exc:
        raise SystemExit(f"{COMMAND} theory: {exc}") from None


def _data(args: argparse.Namespace) -> None:
    from ..config import result_rules
    from .data import make_data

    section = _section("data", args.settings, ["models", "simulation"])[RESULT_ID]
    result_rules(RESULT_ID).complete(section)
    name, model = _one_model("data", section)
    make_data(name, model, args.width, args.alpha, args.seed, section["simulation"]["test_size"], args.out)


def _posterior(args: argparse.Namespace) -> None:
    settings = _section("posterior", args.settings, ["sampler", "analysis"])[RESULT_ID]
    import torch

    from .posterior import SamplerFailure, deep_posterior

    # Small batched problems are launch-bound: extra intra-op threads only add contention (measured
    # 200x slower with 2 threads on a loaded 2-core machine); the rule passes its `threads`.
    torch.set_num_threads(args.threads)
    try:
        deep_posterior(
            args.data, settings, args.out, args.summary_out, args.checkpoint, args.checkpoint_seconds
        )
    except (SamplerFailure, RuntimeError) as exc:
        raise SystemExit(f"{COMMAND} posterior: {exc}") from None


def _posterior_group(args: argparse.Namespace) -> None:
    settings = _section("posterior-group", args.settings, ["sampler", "analysis"])[RESULT_ID]
    import torch

    from .posterior import SamplerFailure
    from .posterior_group import deep_posterior_group

    torch.set_num_threads(args.threads)
    try:
        deep_posterior_group(
            args.data, settings, args.out, args.summary_out, args.checkpoint, args.checkpoint_seconds
        )
    except (SamplerFailure, RuntimeError, ValueError) as exc:
        raise SystemExit(f"{COMMAND} posterior-group: {exc}") from None


def _twin(args: argparse.Namespace) -> None:
    from .glm_twin import glm_twin

    glm_twin(args.data, args.out)


def _metrics(args: argparse.Namespace) -> None:
    from .point_metrics import merge_metrics

    merge_metrics(args.data, args.posterior, args.glm_twin, args.out)


def _aggregate(args: argparse.Namespace) -> None:
    from .reporting import write_tables

    analysis = _section("aggregate", args.settings, ["analysis"])[RESULT_ID]["analysis"]
    metrics = list(args.metrics or []) + (listed_files(args.metrics_from) if args.metrics_from else [])
    if not metrics:
        fail(f"{RESULT_ID} aggregate", "no metrics.json files: give them with --metrics or --metrics-from")
    missing = next((path for path in metrics if not Path(path).is_file()), None)
    if missing:
        fail(f"{RESULT_ID} aggregate", f"no such metrics file: {missing!r}")
    write_tables(metrics, analysis, args.out_dir)


def _plot(args: argparse.Namespace) -> None:
    from .reporting import write_figure

    settings = parse_settings(f"{RESULT_ID} plot", args.settings)
    if "plots" not in settings:
        fail(f"{RESULT_ID} plot", "--settings: needs plots")
    curves = named_files(f"{RESULT_ID} plot", "--curves", args.curves)
    write_figure(args.figure, args.tables, curves, settings["plots"], args.out)


def _metrics_paths(arguments: Sequence[str]) -> list[str]:
    """The files named by the check's arguments: files, globs, directories (searched recursively)."""
    import glob

    found: set[str] = set()
    for argument in arguments:
        if os.path.isdir(argument):
            found.update(str(p) for p in Path(argument).rglob("metrics.json"))
        else:
            found.update(p for p in glob.glob(argument, recursive=True) if not os.path.isdir(p))
    return sorted(found)


def _check(args: argparse.Namespace) -> None:
    from .aggregate import point_record
    from .validation import point_rows, report

    command = f"{RESULT_ID} check"
    paths = _metrics_paths(args.metrics)
    if not paths:
        fail(command, f"no metrics.json file matches {' '.join(args.metrics)}")
    for path in paths:  # one bad file is named, instead of a KeyError from the table
        try:
            point_record(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            fail(command, f"{path}: cannot read it as JSON ({exc})")
        except (KeyError, TypeError, AttributeError) as exc:
            why = f"no key {exc}" if isinstance(exc, KeyError) else "not a JSON object"
            fail(command, f"{path}: not a per-point metrics.json record ({why})")
    try:
        print(report(point_rows(paths, include_flagged=args.include_flagged)))
    except KeyError as exc:
        fail(command, f"the metrics.json records lack {exc}, which the checks need")


def _bench(args: argparse.Namespace) -> None:
    from .bench import (
        PROBLEMS,
        format_results,
        limit_threads,
        missing_blackjax,
        missing_numpyro,
        run_deeplin,
        run_numpyro,
    )

    cores = limit_threads(args.threads)  # before jax is imported
    if not args.throughput:  # before anything runs, not after the first half of the benchmark
        for skip, missing in ((args.skip_numpyro, missing_numpyro), (args.skip_blackjax, missing_blackjax)):
            why = None if skip else missing()
            if why:
                fail(f"{RESULT_ID} bench", why)
    if args.throughput:
        from .bench import throughput

        for dtype in ("float32", "float64"):
            figures = throughput(chains=args.chains, dtype=dtype, device=args.device, steps=args.throughput)
            fraction = figures["roofline_fraction"]
            print(
                f"throughput d0=d1=d2=400 n=800 L=2 {figures['chains']} chains {dtype} on {figures['device']} "
                f"(graph captured: {figures['captured']}): {figures['chain_gradients_per_s']:.4g} chain-gradients/s, "
                f"{figures['tflops']:.3g} TFLOP/s"
                + (
                    f", {100 * fraction:.1f}% of peak" if fraction else " (no peak on record for this device)"
                ),
                flush=True,
            )
        return
    sizes = list(PROBLEMS) if args.size == "both" else [args.size]
    print(
        f"deeplin bench: {args.threads} thread(s) pinned to core(s) {','.join(map(str, cores))}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs visible",
        flush=True,
    )
    for size in sizes:
        problem = PROBLEMS[size]
        data = problem.data()
        results = run_deeplin(
            problem,
            data,
            args.chains,
            args.warmup,
            args.samples,
            args.leapfrog_steps,
            args.dtype,
            args.device,
            args.seed,
            rao_blackwell=args.rao_blackwell,
        )
        if not args.skip_blackjax:
            from .bench_blackjax import run_blackjax

            for variant in args.blackjax_variants:
                results.append(
                    run_blackjax(
                        problem,
                        data,
                        args.chains,
                        args.warmup,
                        args.samples,
                        args.leapfrog_steps,
                        variant,
                        args.dtype,
                        args.seed,
                    )
                )
        if not args.skip_numpyro:
            results.append(
                run_numpyro(
                    problem, data, args.numpyro_chains, args.warmup, args.samples, args.dtype, args.seed
                )
            )
        print(format_results(problem, results), flush=True)


_THEORY_EXAMPLE = (
    '\'{"deep_equivalence": {"models": {"tanh-L2": {"activation": "tanh", "depth": 2, "readout": "tanh", '
    '"noise": 0.1}}, "theory": {"alpha_num": 5}}}\''
)


def _add_theory(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("theory", help="one model's layer coefficients and GLM Bayes-optimal curve")
    add_settings(parser, _THEORY_EXAMPLE)
    parser.add_argument("--curve", help="write the curve's CSV here (atomically) instead of stdout")
    parser.add_argument("--coefficients", help="also write the layer coefficients as JSON here")
    parser.set_defaults(func=_theory)


def _add_data(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("data", help="teacher, training/test data and GLM-twin labels of one point")
    add_settings(
        parser, '\'{"deep_equivalence": {"models": {"tanh-L1": {...}}, "simulation": {"test_size": 1000}}}\''
    )
    parser.add_argument("--width", required=True, type=integer(2), help="input width d0 (>= 2)")
    parser.add_argument("--alpha", required=True, type=finite(0.0, exclusive=True), help="α = n/d0 (> 0)")
    parser.add_argument("--seed", required=True, type=integer(0), help="seed index k")
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=_data)


def _add_posterior(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("posterior", help="batched HMC on the deep student's posterior")
    add_settings(parser, '\'{"deep_equivalence": {"sampler": {...}, "analysis": {...}}}\'')
    parser.add_argument("--data", required=True, type=input_file)
    parser.add_argument("--out", required=True, help="metrics JSON")
    parser.add_argument("--summary-out", help="npz with the posterior mean and variance per test point")
    parser.add_argument("--checkpoint", help="file for periodic chain checkpoints; a matching one is resumed")
    parser.add_argument(
        "--checkpoint-seconds",
        type=finite(0.0),
        default=0.0,
        help="seconds between checkpoints (0: none; changes no number)",
    )
    parser.add_argument("--threads", type=integer(1), default=1, help="torch intra-op threads")
    parser.set_defaults(func=_posterior)


def _add_posterior_group(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser(
        "posterior-group",
        help="the posterior step for several seeds of one (model, d0, alpha) cell in one chain tensor",
    )
    add_settings(parser, '\'{"deep_equivalence": {"sampler": {...}, "analysis": {...}}}\'')
    parser.add_argument("--data", required=True, nargs="+", type=input_file, help="the points' data files")
    parser.add_argument("--out", required=True, nargs="+", help="one metrics JSON per data file")
    parser.add_argument("--summary-out", nargs="+", help="one summary npz per data file")
    parser.add_argument(
        "--checkpoint", help="file for periodic checkpoints of the group; a matching one is resumed"
    )
    parser.add_argument(
        "--checkpoint-seconds",
        type=finite(0.0),
        default=0.0,
        help="seconds between checkpoints (0: none; changes no number)",
    )
    parser.add_argument("--threads", type=integer(1), default=1, help="torch intra-op threads")
    parser.set_defaults(func=_posterior_group)


def _add_twin(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("twin", help="finite-size GLM twin: conjugate posterior or GAMP")
    parser.add_argument("--data", required=True, type=input_file)
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=_twin)


def _add_metrics(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("metrics", help="one metrics.json per point: parameters and every estimate")
    parser.add_argument("--data", required=True, type=input_file)
    parser.add_argument("--posterior", required=True, type=input_file)
    parser.add_argument("--glm-twin", required=True, type=input_file)
    parser.add_argument("--out", required=True)
    parser.set_defaults(func=_metrics)


def _add_aggregate(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("aggregate", help="tables: one row per point, per-group summaries, gap slopes")
    add_settings(parser, '\'{"deep_equivalence": {"analysis": {"confidence": 0.95}}}\'')
    parser.add_argument("--metrics", nargs="+", help="per-point metrics.json files")
    parser.add_argument(
        "--metrics-from",
        metavar="PATH",
        type=input_file,
        help="a text file listing metrics.json files, one a line (for large studies)",
    )
    parser.add_argument("--out-dir", required=True, help="where the tables go")
    parser.set_defaults(func=_aggregate)


def _add_plot(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("plot", help="one figure as PNG and PDF")
    parser.add_argument("figure", choices=list(FIGURES))
    add_settings(parser, '\'{"plots": {"dpi": 200}}\'')
    parser.add_argument("--tables", help="directory with the aggregated tables (omit: theory only)")
    parser.add_argument(
        "--curves",
        nargs="*",
        default=[],
        metavar="MODEL=PATH",
        help="the theory curves, each as model name = its curve.csv",
    )
    parser.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    parser.set_defaults(func=_plot)


def _add_check(steps: argparse._SubParsersAction) -> None:
    parser = steps.add_parser("check", help="deep posterior and GLM twin vs theory over seeds")
    parser.add_argument(
        "metrics",
        nargs="*",
        default=[f"results/default/{RESULT_ID}/sims"],
        help="metrics.json files, globs, or directories (searched recursively for metrics.json)",
    )
    parser.add_argument(
        "--include-flagged",
        action="store_true",
        help="compare also the points whose posterior job flagged its diagnostics",
    )
    parser.set_defaults(func=_check)


def _add_bench(steps: argparse._SubParsersAction) -> None:
    from .bench_blackjax import VARIANTS as BLACKJAX_VARIANTS

    parser = steps.add_parser(
        "bench", help="benchmark the HMC sampler against BlackJAX and NumPyro on one posterior"
    )
    parser.add_argument("--size", choices=["small", "large", "both"], default="both")
    parser.add_argument("--threads", type=integer(1), default=1, help="intra-op threads for both samplers")
    parser.add_argument("--chains", type=integer(2), default=16, help="deeplin chains (batched)")
    parser.add_argument(
        "--numpyro-chains", type=integer(1), default=4, help="NumPyro chains (one after another)"
    )
    parser.add_argument("--warmup", type=integer(1), default=500)
    parser.add_argument("--samples", type=integer(1), default=1000)
    parser.add_argument(
        "--leapfrog-steps", type=integer(1), default=12, help="12 maximised ESS per gradient on small"
    )
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--seed", type=integer(0), default=0)
    parser.add_argument(
        "--rao-blackwell",
        action="store_true",
        help="also score deeplin's Rao-Blackwellised prediction means (their equivalent ESS)",
    )
    parser.add_argument("--skip-numpyro", action="store_true", help="do not time NumPyro")
    parser.add_argument("--skip-blackjax", action="store_true", help="do not time BlackJAX")
    parser.add_argument(
        "--blackjax-variants",
        nargs="+",
        choices=BLACKJAX_VARIANTS,
        default=list(BLACKJAX_VARIANTS),
        help="BlackJAX samplers to time (vmapped chains, --chains, window adaptation)",
    )
    parser.add_argument(
        "--throughput",
        type=integer(0),
        metavar="STEPS",
        default=0,
        help="instead: chain-gradients/s of STEPS leapfrog steps at d=400, n=800, L=2 (--chains)",
    )
    parser.set_defaults(func=_bench)


def add_commands(parser: argparse.ArgumentParser) -> None:
    """The result's steps as subcommands of ``parser`` (the ``deeplin deep_equivalence`` group)."""
    steps = parser.add_subparsers(dest="step", required=True, metavar="STEP")
    _add_theory(steps)
    _add_data(steps)
    _add_posterior(steps)
    _add_posterior_group(steps)
    _add_twin(steps)
    _add_metrics(steps)
    _add_aggregate(steps)
    _add_plot(steps)
    _add_check(steps)
    _add_bench(steps)
    add_mi_commands(steps)  # the mutual-information ladder (deeplin.deep_equivalence.mi_cli)
