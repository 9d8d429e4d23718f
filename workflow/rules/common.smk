# What every result's rules share: the study's results folder, the lists each result adds its targets and
# provenance files to, the rule-graph stand-in study, and scratch file lists for long inputs.
import json
import re
import sys
import tempfile

from deeplin.config import settings_json
from deeplin.report_order import PROVENANCE, RULE_GRAPH

# Every result of this study lives under its own folder, so that studies coexist.
RESULTS = f"results/{config['study']}"

# Each result's rules file adds its final outputs (for `all`), the files that record their provenance (for
# `provenance`) and a stand-in section of its config (for `rulegraph`).
RESULT_TARGETS = []
PROVENANCE_FILES = []
GRAPH_STAND_INS = {}


def graph_stand_in_study():
    """The smallest valid study whose rules and edges are this study's: each result's stand-in section."""
    return {"study": config["study"], "plots": config["plots"], **GRAPH_STAND_INS}


def write_listing(paths, directory):
    """A file in ``directory`` listing ``paths`` one a line, for CLI options such as --files-from."""
    listing = Path(directory) / "files.txt"
    listing.write_text("".join(f"{path}\n" for path in paths))
    return listing
