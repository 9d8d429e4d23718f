"""The ``deeplin`` command line: the subcommands that the Snakemake rules call."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .activations import ACTIVATIONS, READOUTS, non_odd_message, odd_activation_names
from .config import ConfigError, check_devices, load_config, section_hash
from .io import atomic_write, provenance, write_json

log = logging.getLogger("deeplin")


def _fail(command: str, message: str) -> NoReturn:
    """Refuse bad input found after parsing as argparse does: one line on stderr, exit code 2."""
    print(f"deeplin {command}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _integer(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum`` (argparse names the option and the value on refusal)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value

    return parse


def _finite(minimum: float, exclusive: bool = False) -> Callable[[str], float]:
    """argparse type: a finite float >= (or >) ``minimum``; NaN compares false with any bound, so test it."""
    bound = f"{'>' if exclusive else '>='} {minimum:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (value <= minimum if exclusive else value < minimum):
            raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text!r}")
        return value

    return parse


def _odd_activation(name: str) -> str:
    """argparse type: refuse a known non-odd activation, saying why (unknown ones fail the choices)."""
    act = ACTIVATIONS.get(name)
    if act is not None and not act.odd:
        raise argparse.ArgumentTypeError(non_odd_message(name))
    return name


def _input_file(text: str) -> str:
    """argparse type: a file that exists (instead of a traceback from deep inside the step)."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"is a directory, not a file: {text!r}")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text!r}")
    return text


class _AlphaGrid(argparse.Action):
    """``--alpha-grid MIN MAX NUM``: 0 < MIN <= MAX finite, NUM >= 1, checked as argparse checks a type."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        texts = dict(zip(("MIN", "MAX", "NUM"), values, strict=True))
        positive = _finite(0.0, exclusive=True)
        parsers = {"MIN": positive, "MAX": positive, "NUM": _integer(1)}
        parsed = {}
        for name, text in texts.items():
            try:
                parsed[name] = parsers[name](text)
            except argparse.ArgumentTypeError as exc:
                parser.error(f"argument {option_string}: {name} {exc}")
        if parsed["MIN"] > parsed["MAX"]:
            parser.error(f"argument {option_string}: MIN {texts['MIN']} exceeds MAX {texts['MAX']}")
        setattr(namespace, self.dest, (parsed["MIN"], parsed["MAX"], parsed["NUM"]))


def _format(value) -> str:
    """CSV cell: shortest round-trip repr for floats (full precision), empty for missing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _curve_csv(rows: list[dict]) -> str:
    from .theory import CURVE_COLUMNS  # scipy's integrators: only the theory step pays for their import

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for row in rows:
        writer.writerow([_format(row[c]) for c in CURVE_COLUMNS])
    return buffer.getvalue()


def _cmd_theory(args: argparse.Namespace) -> int:
    from .theory import alpha_grid, theory_curve

    if args.alphas is not None:
        alphas = list(args.alphas)
    else:
        alphas = alpha_grid(*args.alpha_grid, args.spacing).tolist()
    inputs = {
        "activation": args.activation,
        "depth": args.depth,
        "readout": args.readout,
        "noise": args.noise,
        "alphas": alphas,
        "scan_points": args.scan_points,
    }
    start = time.perf_counter()
    try:
        coefficients, rows = theory_curve(
            args.activation, args.depth, args.readout, args.noise, alphas, args.scan_points
        )
    except ValueError as exc:
        raise SystemExit(f"deeplin theory: {exc}") from None
    seconds = time.perf_counter() - start
    log.info(
        "theory %s L=%d readout=%s noise=%g: %d alphas in %.3f s (eta0=%.6f gamma0=%.6f)",
        args.activation, args.depth, args.readout, args.noise, len(alphas), seconds,
        coefficients.eta0, coefficients.gamma0,
    )  # fmt: skip
    text = _curve_csv(rows)
    if args.out:
        with atomic_write(args.out) as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    if args.coefficients:
        record = coefficients.to_dict()
        record["readout"] = args.readout
        record["noise"] = args.noise
        record["identity_residual"] = coefficients.eta0**2 + coefficients.gamma0 - coefficients.sigma_L
        record["provenance"] = provenance(section_hash(inputs))
        record["provenance"]["seconds"] = round(seconds, 6)
        record["max_roots"] = max(r["n_roots"] for r in rows)
        write_json(args.coefficients, record)
    return 0


def _cmd_simulate_data(args: argparse.Namespace) -> int:
    from .simulate import make_data

    model = {
        "activation": args.activation,
        "depth": args.depth,
        "readout": args.readout,
        "noise": args.noise,
        "width_ratios": args.width_ratios or [1.0] * args.depth,
    }
    if len(model["width_ratios"]) != args.depth:
        ratios = model["width_ratios"]
        need = f"needs one value per hidden layer, i.e. {args.depth} (--depth {args.depth})"
        given = " ".join(map(str, ratios))
        _fail("simulate-data", f"argument --width-ratios: {need}, got {len(ratios)}: {given}")
    make_data(args.model_name, model, args.width, args.alpha, args.seed, args.test_size, args.out)
    return 0


def _cmd_sample_posterior(args: argparse.Namespace) -> int:
    from .simulate import deep_posterior

    sampler = {
        "chains": args.chains,
        "warmup": args.warmup,
        "samples": args.samples,
        "leapfrog_steps": args.leapfrog_steps,
        "target_accept": args.target_accept,
        "dtype": args.dtype,
        "device": args.device,
        "thin": args.thin,
        "max_divergent_fraction": args.max_divergent_fraction,
        "divergence_retries": args.divergence_retries,
    }
    thresholds = _json_section("sample-posterior", "analysis", args.analysis)
    import torch

    # Small batched problems are launch-bound: extra intra-op threads only add contention (measured
    # 200x slower with 2 threads on a loaded 2-core machine); the rule passes its `threads`.
    torch.set_num_threads(args.threads)
    try:
        deep_posterior(args.data, sampler, args.out, args.summary_out, args.checkpoint, args.checkpoint_seconds,
                       thresholds=thresholds)  # fmt: skip
    except RuntimeError as exc:
        raise SystemExit(f"deeplin sample-posterior: {exc}") from None
    return 0


def _cmd_glm_twin(args: argparse.Namespace) -> int:
    from .simulate import glm_twin

    glm_twin(args.data, args.out)
    return 0


def _cmd_merge_metrics(args: argparse.Namespace) -> int:
    from .simulate import merge_metrics

    merge_metrics(args.data, args.posterior, args.glm_twin, args.out)
    return 0


def _metrics_paths(arguments: Sequence[str]) -> list[str]:
    """The files named by check-simulations' arguments: files, globs, directories (searched recursively)."""
    import glob

    found: set[str] = set()
    for argument in arguments:
        if os.path.isdir(argument):
            found.update(str(p) for p in Path(argument).rglob("metrics.json"))
        else:
            found.update(p for p in glob.glob(argument, recursive=True) if not os.path.isdir(p))
    return sorted(found)


def _cmd_check_simulations(args: argparse.Namespace) -> int:
    from .aggregate import point_record
    from .validation import point_rows, report

    paths = _metrics_paths(args.metrics)
    if not paths:
        _fail("check-simulations", f"no metrics.json file matches {' '.join(args.metrics)}")
    for path in paths:  # one bad file is named, instead of a KeyError from the table
        try:
            point_record(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            _fail("check-simulations", f"{path}: cannot read it as JSON ({exc})")
        except (KeyError, TypeError, AttributeError) as exc:
            why = f"no key {exc}" if isinstance(exc, KeyError) else "not a JSON object"
            _fail("check-simulations", f"{path}: not a per-point metrics.json record ({why})")
    try:
        text = report(point_rows(paths, include_flagged=True) if args.include_flagged else point_rows(paths))
    except KeyError as exc:
        _fail("check-simulations", f"the metrics.json records lack {exc}, which the checks need")
    print(text)
    return 0


def _json_section(command: str, name: str, text: str) -> dict:
    """A config section given as JSON on the command line, validated with the schema's defaults."""
    from .config import section_with_defaults

    try:
        return section_with_defaults(name, json.loads(text))
    except json.JSONDecodeError as exc:
        _fail(command, f"--{name} is not valid JSON ({exc}): {text!r}")
    except ConfigError as exc:
        _fail(command, f"--{name}: {exc}")


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from .reporting import write_tables

    metrics = list(args.metrics or []) + (_listed_files(args.metrics_from) if args.metrics_from else [])
    if not metrics:
        _fail("aggregate", "no metrics.json files: give them with --metrics or --metrics-from")
    missing = next((path for path in metrics if not Path(path).is_file()), None)
    if missing:
        _fail("aggregate", f"no such metrics file: {missing!r}")
    write_tables(metrics, _json_section("aggregate", "analysis", args.analysis), args.out_dir)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from .reporting import write_figure

    write_figure(args.figure, args.tables, args.curves, _json_section("plot", "plots", args.plots), args.out)
    return 0


def _listed_files(path: str) -> list[str]:
    """The paths in a ``--files-from`` list: one a line, blank lines ignored (no quoting, as in rsync's)."""
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def _cmd_provenance(args: argparse.Namespace) -> int:
    from .provenance_table import provenance_table

    files = list(args.files or [])
    if args.files_from:
        files += _listed_files(args.files_from)
    if not files:
        where = f"--files-from {args.files_from} lists no file" if args.files_from else "no result files"
        _fail("provenance", f"{where}; give result files with --files or --files-from")
    missing = next((f for f in files if not os.path.isfile(f)), None)
    if missing is not None:
        option = "--files" if missing in (args.files or []) else f"--files-from {args.files_from}"
        _fail("provenance", f"{option}: no such file: {missing!r}")
    try:
        table = provenance_table(files)
    except (KeyError, ValueError) as exc:
        _fail("provenance", str(exc.args[0]) if exc.args else str(exc))  # a KeyError's str() adds quotes
    with atomic_write(args.out) as handle:
        table.to_csv(handle, index=False, lineterminator="\n")
    log.info("provenance of %d result files: versions %s, commits %s, devices %s", len(table),
             *(sorted(map(str, table[c].unique())) for c in ("deeplin_version", "git_commit", "device")))  # fmt: skip
    return 0


def _cmd_rulegraph(args: argparse.Namespace) -> int:
    from .rulegraph import render_rulegraph

    text = sys.stdin.read() if args.dot == "-" else Path(args.dot).read_text(encoding="utf-8")
    renderer = render_rulegraph(text, args.out, _json_section("rulegraph", "plots", args.plots)["dpi"])
    log.info("rule graph drawn with %s", renderer)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import PROBLEMS, format_results, limit_threads, missing_numpyro, run_deeplin, run_numpyro

    limit_threads(args.threads)  # before jax is imported
    if not args.throughput and not args.skip_numpyro:
        missing = missing_numpyro()  # before anything runs, not after the first half of the benchmark
        if missing:
            _fail("bench", missing)
    if args.throughput:
        from .bench import throughput

        for dtype in ("float32", "float64"):
            figures = throughput(chains=args.chains, dtype=dtype, device=args.device, steps=args.throughput)
            fraction = figures["roofline_fraction"]
            print(f"throughput d0=d1=d2=400 n=800 L=2 {figures['chains']} chains {dtype} on {figures['device']} "
                  f"(graph captured: {figures['captured']}): {figures['chain_gradients_per_s']:.4g} chain-gradients/s, "
                  f"{figures['tflops']:.3g} TFLOP/s"
                  + (f", {100 * fraction:.1f}% of peak" if fraction else " (no peak on record for this device)"),
                  flush=True)  # fmt: skip
        return 0
    sizes = list(PROBLEMS) if args.size == "both" else [args.size]
    print(f"deeplin bench: {args.threads} thread(s), {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs visible", flush=True)  # fmt: skip
    for size in sizes:
        problem = PROBLEMS[size]
        data = problem.data()
        results = [run_deeplin(problem, data, args.chains, args.warmup, args.samples, args.leapfrog_steps,
                               args.dtype, args.device, args.seed)]  # fmt: skip
        if not args.skip_numpyro:
            results.append(run_numpyro(problem, data, args.numpyro_chains, args.warmup, args.samples,
                                       args.dtype, args.seed))  # fmt: skip
        print(format_results(problem, results), flush=True)
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
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
        print(f"results/{config.get('study', 'default')}")
        return 0
    print(f"{args.config}: valid ({len(config['models'])} models)")
    if args.print:
        json.dump(config, sys.stdout, indent=2)
        print()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Argument parser with one subcommand per pipeline step."""
    parser = argparse.ArgumentParser(prog="deeplin", description=__doc__)
    parser.add_argument("--version", action="version", version=f"deeplin {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    theory = sub.add_parser(
        "theory",
        help="asymptotic Bayes-optimal error of the equivalent GLM (Camilli et al. 2025; docs/science.md)",
    )
    # Only odd activations: the equivalence needs them (Camilli et al. 2025); relu is refused with the reason.
    activations = odd_activation_names()
    theory.add_argument("--activation", required=True, choices=activations, type=_odd_activation)
    theory.add_argument("--depth", required=True, type=_integer(1))
    theory.add_argument("--readout", required=True, choices=list(READOUTS))
    theory.add_argument("--noise", required=True, type=_finite(0.0), help="label-noise variance Δ")
    grid = theory.add_mutually_exclusive_group(required=True)
    grid.add_argument("--alphas", nargs="+", type=_finite(0.0, exclusive=True), help="sample ratios α = n/d0")
    grid.add_argument("--alpha-grid", nargs=3, metavar=("MIN", "MAX", "NUM"), action=_AlphaGrid,
                      help="an α grid instead of a list: NUM values, 0 < MIN <= MAX")  # fmt: skip
    theory.add_argument("--spacing", choices=["log", "linear"], default="log")
    theory.add_argument("--scan-points", type=_integer(4), default=48,
                        help="q-grid size of the root scan (>= 4, as theory.scan_points)")  # fmt: skip
    theory.add_argument("--out", help="write the CSV here (atomically) instead of stdout")
    theory.add_argument("--coefficients", help="also write the layer coefficients as JSON here")
    theory.set_defaults(func=_cmd_theory)

    data = sub.add_parser("simulate-data", help="teacher, training/test data and GLM-twin labels of one point")
    data.add_argument("--model-name", required=True)
    data.add_argument("--activation", required=True, choices=activations, type=_odd_activation)
    data.add_argument("--depth", required=True, type=_integer(1))
    data.add_argument("--readout", required=True, choices=list(READOUTS))
    data.add_argument("--noise", required=True, type=_finite(0.0))
    data.add_argument("--width-ratios", nargs="+", type=_finite(0.0, exclusive=True))
    data.add_argument("--width", required=True, type=_integer(2),
                      help="input width d0 (>= 2, as simulation.widths)")  # fmt: skip
    data.add_argument("--alpha", required=True, type=_finite(0.0, exclusive=True))
    data.add_argument("--seed", required=True, type=_integer(0), help="seed index k")
    data.add_argument("--test-size", required=True, type=_integer(1))
    data.add_argument("--out", required=True)
    data.set_defaults(func=_cmd_simulate_data)

    post = sub.add_parser("sample-posterior", help="batched HMC on the deep student's posterior")
    post.add_argument("--data", required=True, type=_input_file)
    post.add_argument("--chains", type=int, default=8)
    post.add_argument("--warmup", type=int, default=300)
    post.add_argument("--samples", type=int, default=400)
    post.add_argument("--thin", type=int, default=1)
    post.add_argument("--leapfrog-steps", type=int, default=16)
    post.add_argument("--target-accept", type=float, default=0.8)
    post.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    post.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    post.add_argument("--max-divergent-fraction", type=float, default=0.05,
                      help="fail (or retry) when more sampling transitions than this fraction diverge")
    post.add_argument("--divergence-retries", type=int, default=0,
                      help="retries with a smaller step size (target_accept half-way to 1) before failing")
    post.add_argument("--checkpoint", help="file for periodic chain checkpoints; a matching one is resumed")
    post.add_argument("--checkpoint-seconds", type=float, default=300.0,
                      help="seconds between checkpoints (0: none)")
    post.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    post.add_argument("--out", required=True, help="metrics JSON")
    post.add_argument("--summary-out", help="npz with the posterior mean and variance per test point")
    post.add_argument("--analysis", default="{}",
                      help="the config's analysis section as JSON: the thresholds of the point's diagnostics verdict")
    post.set_defaults(func=_cmd_sample_posterior)

    twin = sub.add_parser("glm-twin", help="finite-size GLM twin: conjugate posterior or GAMP")
    twin.add_argument("--data", required=True, type=_input_file)
    twin.add_argument("--out", required=True)
    twin.set_defaults(func=_cmd_glm_twin)

    merge = sub.add_parser("merge-metrics", help="one metrics.json per point: parameters and every estimate")
    merge.add_argument("--data", required=True, type=_input_file)
    merge.add_argument("--posterior", required=True, type=_input_file)
    merge.add_argument("--glm-twin", required=True, type=_input_file)
    merge.add_argument("--out", required=True)
    merge.set_defaults(func=_cmd_merge_metrics)

    sims = sub.add_parser("check-simulations", help="deep posterior and GLM twin vs theory over seeds")
    sims.add_argument(
        "metrics", nargs="*", default=["results/default/sims"],
        help="metrics.json files, globs, or directories (searched recursively for metrics.json)",
    )
    sims.add_argument("--include-flagged", action="store_true",
                      help="compare also the points whose posterior job flagged its diagnostics")  # fmt: skip
    sims.set_defaults(func=_cmd_check_simulations)

    aggregate = sub.add_parser("aggregate", help="tables: one row per point, per-group summaries, gap slopes")
    aggregate.add_argument("--metrics", nargs="+", help="per-point metrics.json files")
    aggregate.add_argument("--metrics-from", metavar="PATH", type=_input_file,
                           help="a text file listing metrics.json files, one a line (for large studies)")
    aggregate.add_argument("--analysis", default="{}", help="the config's analysis section as JSON")
    aggregate.add_argument("--out-dir", required=True, help="where simulations/summary/scaling.csv go")
    aggregate.set_defaults(func=_cmd_aggregate)

    plot = sub.add_parser("plot", help="one figure as PNG and PDF")
    plot.add_argument("figure", choices=["error_vs_alpha", "gap_vs_width", "universality", "diagnostics"])
    plot.add_argument("--tables", help="directory with simulations/summary/scaling.csv (omit: theory only)")
    plot.add_argument("--curves", nargs="*", default=[], help="results/theory/<model>/curve.csv files")
    plot.add_argument("--plots", default="{}", help="the config's plots section as JSON")
    plot.add_argument("--out", required=True, help="output stem: STEM.png and STEM.pdf")
    plot.set_defaults(func=_cmd_plot)

    prov = sub.add_parser("provenance", help="one CSV row per result file: version, commit, config hash, device")
    prov.add_argument("--files", nargs="+", help="result files (.json or .npz)")
    prov.add_argument("--files-from", metavar="PATH", type=_input_file,
                      help="a text file listing result files, one path a line (for studies whose file list "
                           "would not fit on a command line); with --files, both are used")  # fmt: skip
    prov.add_argument("--out", required=True, help="CSV to write")
    prov.set_defaults(func=_cmd_provenance)

    graph = sub.add_parser("rulegraph", help="render `snakemake --rulegraph` output as DOT, PNG and PDF")
    graph.add_argument("--dot", default="-", type=lambda t: t if t == "-" else _input_file(t),
                       help="file with the rule-graph output, or - for stdin")  # fmt: skip
    graph.add_argument("--plots", default="{}", help="the config's plots section as JSON")
    graph.add_argument("--out", required=True, help="output stem")
    graph.set_defaults(func=_cmd_rulegraph)

    bench = sub.add_parser("bench", help="benchmark the HMC sampler against NumPyro NUTS on one posterior")
    bench.add_argument("--size", choices=["small", "large", "both"], default="both")
    bench.add_argument("--threads", type=int, default=1, help="intra-op threads for both samplers")
    bench.add_argument("--chains", type=int, default=16, help="deeplin chains (batched)")
    bench.add_argument("--numpyro-chains", type=int, default=4, help="NumPyro chains (run one after another)")
    bench.add_argument("--warmup", type=int, default=500)
    bench.add_argument("--samples", type=int, default=1000)
    bench.add_argument("--leapfrog-steps", type=int, default=12, help="12 maximised ESS per gradient on small")
    bench.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    bench.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--skip-numpyro", action="store_true", help="time deeplin alone")
    bench.add_argument("--throughput", type=int, metavar="STEPS", default=0,
                       help="instead: chain-gradients/s of STEPS leapfrog steps at d=400, n=800, L=2 (--chains)")
    bench.set_defaults(func=_cmd_bench)

    check = sub.add_parser("check-config", help="validate a config file against the schema")
    check.add_argument("config", nargs="?", default="config.yaml")
    check.add_argument("--print", action="store_true", help="print it with defaults filled in")
    check.add_argument("--results-dir", action="store_true",
                       help="if valid, print only the study's results folder, results/<study>")  # fmt: skip
    check.set_defaults(func=_cmd_check_config)
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
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
