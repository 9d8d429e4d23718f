"""The one test-error definition (deeplin.deep_equivalence.errors) against hand computations: squared error of
the clean output, classification error of the sign readout, and their standard errors over the test set."""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_equivalence import errors


def test_squared_error_and_its_standard_error() -> None:
    # errors² = 1, 1, 4, 0: mean 3/2; squared deviations 1/4, 1/4, 25/4, 9/4 sum to 9, variance 9/3 = 3,
    # standard error √(3/4).
    error, se = errors.squared_error(np.zeros(4), np.array([1.0, -1.0, 2.0, 0.0]))
    assert error == pytest.approx(1.5, rel=1e-15) and se == pytest.approx(math.sqrt(3) / 2, rel=1e-15)
    # symmetric in prediction and target
    assert errors.squared_error(np.array([1.0, -1.0, 2.0, 0.0]), np.zeros(4)) == (error, se)


def test_classification_error_and_its_standard_error() -> None:
    # mistakes 0, 1, 0, 1, 0: rate 2/5; squared deviations 3·(2/5)² + 2·(3/5)² = 6/5, variance 6/5/4 = 3/10,
    # standard error √(3/10 / 5) = √0.06.
    label, clean = np.array([1.0, 1.0, -1.0, -1.0, 1.0]), np.array([1.0, -1.0, -1.0, 1.0, 1.0])
    error, se = errors.classification_error(label, clean)
    assert error == pytest.approx(0.4, rel=1e-15) and se == pytest.approx(math.sqrt(0.06), rel=1e-14)


def test_test_error_scores_the_sign_readout_by_the_sign_of_the_prediction() -> None:
    prediction, clean = np.array([0.3, -0.2, 0.0, -1e-9]), np.array([1.0, 1.0, -1.0, -1.0])
    assert errors.sign_label(prediction).tolist() == [1.0, -1.0, 1.0, -1.0]  # 0 counts as +1
    # mistakes 0, 1, 1, 0: rate 1/2, variance 1/3, standard error √(1/12)
    error, se = errors.test_error(prediction, clean, sign=True)
    assert error == 0.5 and se == pytest.approx(math.sqrt(1 / 12), rel=1e-14)
    # Gaussian readouts: the squared error of the prediction itself
    assert errors.test_error(prediction, clean, sign=False) == errors.squared_error(prediction, clean)
    assert errors.test_error(prediction, clean, sign=False)[0] == pytest.approx(
        (0.7**2 + 1.2**2 + 1.0 + (1 - 1e-9) ** 2) / 4, rel=1e-14
    )


def test_one_test_input_has_no_standard_error() -> None:
    error, se = errors.squared_error(np.array([0.5]), np.array([1.0]))
    assert error == 0.25 and math.isnan(se)  # unknown, not zero
    assert math.isnan(errors.classification_error(np.array([1.0]), np.array([-1.0]))[1])
