"""After `make reproduce` in CI: the study folder holds the report, every figure and every table.

Usage: python .ci/check_reproduce.py results/<study>
"""

from __future__ import annotations

import sys
from pathlib import Path

FIGURES = ("error_vs_alpha", "gap_vs_width", "universality", "diagnostics", "rulegraph")
TABLES = ("simulations", "summary", "scaling", "headline")


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
    for name in FIGURES:
        for ext in ("png", "pdf"):
            path = study / "figures" / f"{name}.{ext}"
            if not path.is_file() or path.stat().st_size < 10_000:
                found.append(f"{path}: missing or empty")
    for name in TABLES:
        path = study / "tables" / f"{name}.csv"
        if not path.is_file() or len(path.read_text().splitlines()) < 2:
            found.append(f"{path}: missing or without rows")
    return found


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    issues = problems(folder)
    for issue in issues:
        print(issue, file=sys.stderr)
    if not issues:
        print(f"{folder}: report, {len(FIGURES)} figures and {len(TABLES)} tables present")
    sys.exit(1 if issues else 0)
