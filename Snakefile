# deeplin: deep-to-linear results of high-dimensional learning theory, one rules file per result (docs/).
# Usage: snakemake --cores all [--configfile workflow/studies/<name>.yaml] [--report results/<study>/report.html --report-after-run]
import json
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The package lives in this tree; importing it from here also works when Snakemake itself runs
# outside the project's environment (e.g. with --sdm conda).
sys.path.insert(0, str(Path(workflow.basedir) / "workflow"))
from deeplin.config import (
    ConfigError,
    check_devices,
    read_config_file,
    validate_config,
)  # noqa: E402

# The rules call the `deeplin` program installed next to the Python that runs Snakemake: put that bin
# directory first on the jobs' PATH, so `.venv/bin/snakemake` works without an activated venv (cron,
# scripts, SLURM jobs, which re-read this file with the same interpreter).
os.environ.update(
    PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
)


# config.yaml is the default study; a study given with --configfile replaces it (instead of being
# merged into it, which would silently add the default models to every study).
# A syntax error in it is named with file, line and column (Snakemake's own loader says only "not valid
# YAML"; files given with --configfile are read by Snakemake before this file runs: `deeplin check-config
# FILE` names the place, and `make reproduce CONFIG=FILE` runs it first).
if not workflow.overwrite_configfiles:
    try:
        read_config_file("config.yaml")
    except ConfigError as error:
        raise WorkflowError(str(error)) from None

    configfile: "config.yaml"


try:
    # Fill in the schema's defaults and refuse bad input before any job is scheduled: the config files
    # Snakemake read are re-read for duplicate keys (its YAML loader keeps the last one silently), and
    # deep_equivalence.sampler.device = 'cuda' needs a CUDA device here unless the jobs request GPUs.
    # --config values arrive as strings inside mappings (deep_equivalence={"sampler": {"chains": 4}}): validate_config converts
    # those, and only those, that read as their schema type.
    config.update(
        validate_config(
            config,
            sources=workflow.configfiles,
            cli_overrides=workflow.config_settings.config,
        )
    )
    check_devices(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None


include: "workflow/rules/common.smk"
include: "workflow/rules/deep_equivalence.smk"
include: "workflow/rules/deep_linear.smk"
include: "workflow/rules/generative_data.smk"
include: "workflow/rules/relu_recovery.smk"
include: "workflow/rules/study.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        RESULT_TARGETS,
        rules.rulegraph.output,
        rules.provenance.output,
