# Shared helpers: model lookups and output paths that encode the parameters.
import re
import tempfile

from deeplin.diagnostics import verdict_thresholds
from deeplin.report_order import figure_labels, table_labels

MODELS = list(config["models"])
# Every result of this study lives under its own folder, so that studies coexist.
RESULTS = f"results/{config['study']}"


def model_param(key):
    """A params: function returning one field of the model named by the {model} wildcard."""
    return lambda wildcards: config["models"][wildcards.model][key]


def theory_outputs():
    return expand(
        f"{RESULTS}/theory/{{model}}/{{name}}",
        model=MODELS,
        name=["coefficients.json", "curve.csv"],
    )


SIM = config["simulation"]
SAMPLER = config["sampler"]
VERDICT = verdict_thresholds(config["analysis"])


def posterior_gpu_resources():
    """The posterior jobs' GPU request (sampler.gpus, sampler.gpu_model); the SLURM executor turns it into --gpus."""
    if not SAMPLER["gpus"]:
        return {}
    request = {"gpu": SAMPLER["gpus"]}
    if SAMPLER["gpu_model"]:
        request["gpu_model"] = SAMPLER["gpu_model"]
    return request


POINT = f"{RESULTS}/sims/{{model}}/d{{width}}/alpha{{alpha}}/seed{{seed}}"


wildcard_constraints:
    model="|".join(re.escape(name) for name in MODELS),
    width=r"\d+",
    alpha=r"[0-9][0-9.e+-]*",
    seed=r"\d+",


def graph_stand_in_study():
    """The smallest valid study whose rules and edges are this study's (one stand-in model)."""
    model = {"activation": "tanh", "depth": 1, "readout": "linear", "noise": 0.1}
    study = {
        "study": config["study"],
        "models": {"graph-model": model},
        "theory": {"alpha_num": 2},
        "plots": config["plots"],
    }
    if sim_points():
        study["simulation"] = {
            "models": ["graph-model"],
            "widths": [2],
            "alphas": [1.0],
            "seeds": 1,
        }
    return study


def sim_points():
    """Every (model, width, alpha, seed) of the simulation grid, α written as repr(float)."""
    return [
        dict(model=m, width=w, alpha=alpha_label(a), seed=k)
        for m in SIM["models"]
        for w in SIM["widths"]
        for a in SIM["alphas"]
        for k in range(SIM["seeds"])
    ]


def alpha_label(alpha):
    return repr(float(alpha))


def sim_outputs():
    return [(f"{POINT}/metrics.json").format(**p) for p in sim_points()]


def provenance_inputs():
    """Every result file that records its provenance: theory coefficients, each point's files, the tables'."""
    files = expand(f"{RESULTS}/theory/{{model}}/coefficients.json", model=MODELS)
    point_files = [
        "data.npz",
        "posterior.json",
        "posterior_summary.npz",
        "glm_twin.json",
        "metrics.json",
    ]
    files += [
        f"{POINT}/{name}".format(**p) for p in sim_points() for name in point_files
    ]
    return files + ([f"{RESULTS}/tables/provenance.json"] if sim_points() else [])


TABLES = ["simulations", "summary", "scaling"]
SIM_FIGURES = ["error_vs_alpha", "gap_vs_width", "universality", "diagnostics"]


def table_outputs():
    """The aggregated tables, when the study simulates anything."""
    return (
        expand(f"{RESULTS}/tables/{{table}}.csv", table=TABLES) if sim_points() else []
    )


def figure_names():
    """Every figure the study can draw: without simulations, the theory curves only."""
    return SIM_FIGURES if sim_points() else ["error_vs_alpha"]


def figure_outputs():
    return expand(
        f"{RESULTS}/figures/{{figure}}.{{ext}}",
        figure=figure_names(),
        ext=["png", "pdf"],
    ) + expand(f"{RESULTS}/figures/rulegraph.{{ext}}", ext=["dot", "png", "pdf"])


def plot_inputs(wildcards):
    """Tables for every figure; the theory curves only where they are drawn."""
    curves = expand(f"{RESULTS}/theory/{{model}}/curve.csv", model=MODELS)
    return table_outputs() + (curves if wildcards.figure == "error_vs_alpha" else [])


def write_listing(paths, directory):
    """A file in ``directory`` listing ``paths`` one a line, for CLI options such as --files-from."""
    listing = Path(directory) / "files.txt"
    listing.write_text("".join(f"{path}\n" for path in paths))
    return listing
