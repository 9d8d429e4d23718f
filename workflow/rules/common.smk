# Shared helpers: model lookups and output paths that encode the parameters (SPEC §2.1).
import re

MODELS = list(config["models"])


wildcard_constraints:
    model="|".join(re.escape(name) for name in MODELS),


def model_param(key):
    """A params: function returning one field of the model named by the {model} wildcard."""
    return lambda wildcards: config["models"][wildcards.model][key]


def theory_outputs():
    return expand(
        "results/theory/{model}/{name}", model=MODELS, name=["coefficients.json", "curve.csv"]
    )
