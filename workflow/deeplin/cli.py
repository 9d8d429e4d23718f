"""The ``deeplin`` command line: the subcommands that the Snakemake rules call."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Sequence

from . import __version__
from .activations import ACTIVATIONS, READOUTS
from .config import ConfigError, check_devices, load_config, section_hash
from .io import atomic_write, provenance, write_json
from .theory import CURVE_COLUMNS, alpha_grid, theory_curve

log = logging.getLogger("deeplin")


def _format(value) -> str:
    """CSV cell: shortest round-trip repr for floats (full precision), empty for missing."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _curve_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for row in rows:
        writer.writerow([_format(row[c]) for c in CURVE_COLUMNS])
    return buffer.getvalue()


def _cmd_theory(args: argparse.Namespace) -> int:
    if args.alphas is not None:
        alphas = [float(a) for a in args.alphas]
    else:
        lo, hi, num = args.alpha_grid
        alphas = alpha_grid(float(lo), float(hi), int(num), args.spacing).tolist()
    bad = [a for a in alphas if not a > 0]
    if bad:
        raise SystemExit(f"deeplin theory: --alphas must be > 0, got {bad}")
    if args.noise < 0:
        raise SystemExit(f"deeplin theory: --noise must be >= 0, got {args.noise}")
    if args.depth < 1:
        raise SystemExit(f"deeplin theory: --depth must be >= 1, got {args.depth}")
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
    from .simulate import make_data  # noqa: PLC0415

    model = {
        "activation": args.activation,
        "depth": args.depth,
        "readout": args.readout,
        "noise": args.noise,
        "width_ratios": args.width_ratios or [1.0] * args.depth,
    }
    if len(model["width_ratios"]) != args.depth:
        raise SystemExit(f"deeplin simulate-data: --width-ratios needs {args.depth} values (one per layer)")
    make_data(args.model_name, model, args.width, args.alpha, args.seed, args.test_size, args.out)
    return 0


def _cmd_sample_posterior(args: argparse.Namespace) -> int:
    from .simulate import deep_posterior  # noqa: PLC0415

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
    import torch  # noqa: PLC0415

    # Small batched problems are launch-bound: extra intra-op threads only add contention (measured
    # 200x slower with 2 threads on a loaded 2-core machine); the rule passes its `threads`.
    torch.set_num_threads(args.threads)
    try:
        deep_posterior(args.data, sampler, args.out, args.summary_out, args.checkpoint, args.checkpoint_seconds)
    except RuntimeError as exc:
        raise SystemExit(f"deeplin sample-posterior: {exc}") from None
    return 0


def _cmd_glm_twin(args: argparse.Namespace) -> int:
    from .simulate import glm_twin  # noqa: PLC0415

    glm_twin(args.data, args.out)
    return 0


def _cmd_merge_metrics(args: argparse.Namespace) -> int:
    from .simulate import merge_metrics  # noqa: PLC0415

    merge_metrics(args.data, args.posterior, args.glm_twin, args.out)
    return 0


def _cmd_check_simulations(args: argparse.Namespace) -> int:
    import glob  # noqa: PLC0415

    from .validation import point_rows, report  # noqa: PLC0415

    paths = sorted(p for pattern in args.metrics for p in glob.glob(pattern, recursive=True))
    if not paths:
        raise SystemExit(f"deeplin check-simulations: no metrics.json matches {args.metrics}")
    print(report(point_rows(paths)))
    return 0


def _json_section(name: str, text: str) -> dict:
    """A config section given as JSON on the command line, validated with the schema's defaults."""
    from .config import section_with_defaults  # noqa: PLC0415

    try:
        return section_with_defaults(name, json.loads(text))
    except json.JSONDecodeError as exc:
        raise SystemExit(f"deeplin: --{name} is not valid JSON ({exc}): {text!r}") from None
    except ConfigError as exc:
        raise SystemExit(f"deeplin: --{name}: {exc}") from None


def _cmd_aggregate(args: argparse.Namespace) -> int:
    from .reporting import write_tables  # noqa: PLC0415

    write_tables(args.metrics, _json_section("analysis", args.analysis), args.out_dir)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from .reporting import write_figure  # noqa: PLC0415

    write_figure(args.figure, args.tables, args.curves, _json_section("plots", args.plots), args.out)
    return 0


def _cmd_provenance(args: argparse.Namespace) -> int:
    from .provenance_table import provenance_table  # noqa: PLC0415

    try:
        table = provenance_table(args.files)
    except (KeyError, ValueError) as exc:
        raise SystemExit(f"deeplin provenance: {exc}") from None
    with atomic_write(args.out) as handle:
        table.to_csv(handle, index=False, lineterminator="\n")
    log.info("provenance of %d result files: versions %s, commits %s, devices %s", len(table),
             *(sorted(map(str, table[c].unique())) for c in ("deeplin_version", "git_commit", "device")))  # fmt: skip
    return 0


def _cmd_rulegraph(args: argparse.Namespace) -> int:
    from .rulegraph import render_rulegraph  # noqa: PLC0415

    text = sys.stdin.read() if args.dot == "-" else open(args.dot).read()
    renderer = render_rulegraph(text, args.out, _json_section("plots", args.plots)["dpi"])
    log.info("rule graph drawn with %s", renderer)
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from .bench import PROBLEMS, format_results, limit_threads, run_deeplin, run_numpyro  # noqa: PLC0415

    limit_threads(args.threads)  # before jax is imported
    if args.throughput:
        from .bench import throughput  # noqa: PLC0415

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
            try:
                results.append(run_numpyro(problem, data, args.numpyro_chains, args.warmup, args.samples,
                                           args.dtype, args.seed))  # fmt: skip
            except ImportError as exc:
                raise SystemExit(f"deeplin bench: NumPyro is missing ({exc}); pip install -e '.[bench]'") from None
        print(format_results(problem, results), flush=True)
    return 0


def _cmd_check_config(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        check_devices(config)  # the same device check as the Snakefile's
    except ConfigError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 2
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
        "theory", help="asymptotic Bayes-optimal error of the equivalent GLM (SPEC §1.2-1.3)"
    )
    theory.add_argument("--activation", required=True, choices=sorted(ACTIVATIONS))
    theory.add_argument("--depth", required=True, type=int)
    theory.add_argument("--readout", required=True, choices=list(READOUTS))
    theory.add_argument("--noise", required=True, type=float, help="label-noise variance Δ")
    grid = theory.add_mutually_exclusive_group(required=True)
    grid.add_argument("--alphas", nargs="+", type=float, help="sample ratios α = n/d0")
    grid.add_argument(
        "--alpha-grid", nargs=3, metavar=("MIN", "MAX", "NUM"), help="an α grid instead of a list"
    )
    theory.add_argument("--spacing", choices=["log", "linear"], default="log")
    theory.add_argument("--scan-points", type=int, default=48, help="q-grid size of the root scan")
    theory.add_argument("--out", help="write the CSV here (atomically) instead of stdout")
    theory.add_argument("--coefficients", help="also write the layer coefficients as JSON here")
    theory.set_defaults(func=_cmd_theory)

    data = sub.add_parser("simulate-data", help="teacher, training/test data and GLM-twin labels of one point")
    data.add_argument("--model-name", required=True)
    data.add_argument("--activation", required=True, choices=sorted(ACTIVATIONS))
    data.add_argument("--depth", required=True, type=int)
    data.add_argument("--readout", required=True, choices=list(READOUTS))
    data.add_argument("--noise", required=True, type=float)
    data.add_argument("--width-ratios", nargs="+", type=float)
    data.add_argument("--width", required=True, type=int, help="input width d0")
    data.add_argument("--alpha", required=True, type=float)
    data.add_argument("--seed", required=True, type=int, help="seed index k")
    data.add_argument("--test-size", required=True, type=int)
    data.add_argument("--out", required=True)
    data.set_defaults(func=_cmd_simulate_data)

    post = sub.add_parser("sample-posterior", help="batched HMC on the deep student's posterior (SPEC §1.5)")
    post.add_argument("--data", required=True)
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
    post.set_defaults(func=_cmd_sample_posterior)

    twin = sub.add_parser("glm-twin", help="finite-size GLM twin: conjugate posterior or GAMP (SPEC §1.4)")
    twin.add_argument("--data", required=True)
    twin.add_argument("--out", required=True)
    twin.set_defaults(func=_cmd_glm_twin)

    merge = sub.add_parser("merge-metrics", help="one metrics.json per point: parameters and every estimate")
    merge.add_argument("--data", required=True)
    merge.add_argument("--posterior", required=True)
    merge.add_argument("--glm-twin", required=True)
    merge.add_argument("--out", required=True)
    merge.set_defaults(func=_cmd_merge_metrics)

    sims = sub.add_parser("check-simulations", help="deep posterior and GLM twin vs theory over seeds")
    sims.add_argument(
        "metrics", nargs="*", default=["results/sims/**/metrics.json"], help="metrics.json files or globs"
    )
    sims.set_defaults(func=_cmd_check_simulations)

    aggregate = sub.add_parser("aggregate", help="tables: one row per point, per-group summaries, gap slopes")
    aggregate.add_argument("--metrics", nargs="+", required=True, help="per-point metrics.json files")
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
    prov.add_argument("--files", nargs="+", required=True, help="result files (.json or .npz)")
    prov.add_argument("--out", required=True, help="CSV to write")
    prov.set_defaults(func=_cmd_provenance)

    graph = sub.add_parser("rulegraph", help="render `snakemake --rulegraph` output as DOT, PNG and PDF")
    graph.add_argument("--dot", default="-", help="file with the rule-graph output, or - for stdin")
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
    check.set_defaults(func=_cmd_check_config)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``deeplin`` program."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("arviz").setLevel(logging.WARNING)  # its import chatter is not our progress
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
