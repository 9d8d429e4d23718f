"""The registry of the mutual-information and quadratic-regime figures and tables (report labels). Standard
library only, so that the rules can import it while Snakemake parses them. These figures are drawn only by
studies that configure `deep_equivalence.mutual_information` or `deep_equivalence.quadratic`."""

from __future__ import annotations

MI_FIGURES = {
    "mutual_information": "5 · mutual information per sample vs α: deep posterior (I-MMSE), GLM twin, theory",
    "mutual_information_gap": "6 · MI gap deep − GLM twin vs d0, next to the error gap",
}
MI_TABLES = {
    "mutual_information": "6 · mutual information per sample over seeds",
    "mutual_information_points": "7 · mutual information per point",
    "mutual_information_rungs": "8 · the ladder: in-sample mmse per rung",
}
QUADRATIC_FIGURES = {"quadratic_regime": "7 · where the equivalence breaks: n ∝ d0²"}
QUADRATIC_TABLES = {"quadratic_regime": "9 · quadratic regime n = κ d0² against the GLM prediction"}
