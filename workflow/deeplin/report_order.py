"""The report's shared chapters (Snakemake report categories), next to one chapter per result.

Snakemake (9.x) lists categories alphabetically and, inside one, sorts the items by their first label when every
item has labels (by file name otherwise). Only the standard library is imported, so the workflow's rules can
use this module while Snakemake parses them.
"""

from __future__ import annotations

# "Workflow" is taken: Snakemake's own page of that name (the landing page) would be listed twice and every
# caption would carry a docutils "Duplicate explicit target name" warning.
PROVENANCE = "Provenance"
RULE_GRAPH = "Rule graph"
