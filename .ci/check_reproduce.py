"""After `make reproduce` in CI: the study folder holds the report, every result's figures and tables, and
the study-wide rule graph.

Usage: python .ci/check_reproduce.py results/<study>
"""

from __future__ import annotations

import sys
from pathlib import Path

from deeplin.deep_equivalence import figure_names as deep_equivalence
from deeplin.deep_linear import figure_names as deep_linear
from deeplin.generative_data import figure_names as generative_data
from deeplin.relu_recovery import figure_names as relu_recovery

# (folder under results/<study>/, names): each result's figures and tables (its registry), the study's rule graph
FIGURES = (
    ("deep_equivalence", tuple(deep_equivalence.FIGURES)),
    ("deep_linear", tuple(deep_linear.FIGURES)),
    ("generative_data", tuple(generative_data.FIGURES)),
    ("relu_recovery", tuple(relu_recovery.FIGURES)),
    (".", ("rulegraph",)),
)
TABLES = (
    ("deep_equivalence", tuple(deep_equivalence.TABLES)),
    ("deep_linear", tuple(deep_linear.TABLES)),
    ("generative_data", tuple(generative_data.TABLES)),
    ("relu_recovery", tuple(relu_recovery.TABLES)),
)


def problems(study: Path) -> list[str]:
    """What is missing or wrong in a finished default run."""
    found = []
    report = study / "report.html"
    if not report.is_file() or report.stat().st_size < 500_000:
        return [f"{report}: missing or too small for a report with figures"]
    text = report.read_text(errors="replace")
    for marker in ("System Message", "Duplicate explicit target name"):
        if marker in text:
            found.append(f"{report}: docutils says {marker!r}")
    for folder, names in FIGURES:
        for name in names:
            for ext in ("png", "pdf"):
                path = study / folder / "figures" / f"{name}.{ext}"
                if not path.is_file() or path.stat().st_size < 10_000:
                    found.append(f"{path}: missing or empty")
    for folder, names in TABLES:
        for name in names:
            path = study / folder / "tables" / f"{name}.csv"
            if not path.is_file() or len(path.read_text().splitlines()) < 2:
                found.append(f"{path}: missing or without rows")
    return found


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    issues = problems(folder)
    for issue in issues:
        print(issue, file=sys.stderr)
    if not issues:
        figures = sum(len(names) for _, names in FIGURES)
        tables = sum(len(names) for _, names in TABLES)
        print(f"{folder}: report, {figures} figures and {tables} tables present")
    sys.exit(1 if issues else 0)
