"""The one definition of a point's test error, shared by the deep posterior and the GLM twin: the deep-vs-GLM
gap means something only if both sides are scored alike.

Gaussian readouts: the mean squared error of a prediction of the clean output f(h) over the test set. Sign
readout: the classification error, the fraction of test inputs whose predicted label differs from sign(h).
Each comes with its standard error over the test set (independent test inputs).
"""

from __future__ import annotations

import math

import numpy as np


def _mean_and_se(values: np.ndarray) -> tuple[float, float]:
    n = len(values)
    return float(values.mean()), (float(values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan)


def squared_error(prediction: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """(mean_i (f*_i − ŷ_i)², its standard error)."""
    return _mean_and_se((clean - prediction) ** 2)


def classification_error(label: np.ndarray, clean: np.ndarray) -> tuple[float, float]:
    """(fraction of labels ≠ the clean ±1 labels, its standard error)."""
    return _mean_and_se((label != clean).astype(float))


def sign_label(prediction: np.ndarray) -> np.ndarray:
    """The ±1 label of a real prediction (0 counts as +1)."""
    return np.where(prediction >= 0, 1.0, -1.0)


def test_error(prediction: np.ndarray, clean: np.ndarray, sign: bool) -> tuple[float, float]:
    """(error, standard error): squared error, or the classification error of sign(prediction) for sign."""
    return classification_error(sign_label(prediction), clean) if sign else squared_error(prediction, clean)


test_error.__test__ = False  # a definition, not a pytest test
