# deeplin: the deep Gaussian equivalence, from a config file to theory curves (SPEC §2.1).
# Usage: snakemake --cores all [--configfile workflow/studies/<name>.yaml] [--report results/report.html --report-after-run]
import json
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The package lives in this tree; importing it from here also works when Snakemake itself runs
# outside the project's environment (e.g. with --sdm conda).
sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))
from deeplin.config import ConfigError, check_devices, validate_config  # noqa: E402


# config.yaml is the default study; a study given with --configfile replaces it (instead of being
# merged into it, which would silently add the default models to every study).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


try:
    # Fill in the schema's defaults and refuse bad input before any job is scheduled: the config files
    # Snakemake read are re-read for duplicate keys (its YAML loader keeps the last one silently), and
    # sampler.device = 'cuda' needs a CUDA device here unless the jobs request GPUs (sampler.gpus).
    config.update(validate_config(config, sources=workflow.configfiles))
    check_devices(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/theory.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/plot.smk"


report: "workflow/report/workflow.rst"


rule all:
    input:
        theory_outputs(),
        sim_outputs(),
        table_outputs(),
        figure_outputs(),
        "results/provenance.csv",
    default_target: True
