"""The CLI's theory numbers against an independent implementation (tests/deep_equivalence/reference_theory.py,
written from the formulas of docs/deep_equivalence.md without the production code): 1e-8 relative in q and the
error."""

from __future__ import annotations

import csv
import io
import itertools
import json

import pytest
import reference_theory as ref
from deeplin.cli import main
from deeplin.deep_equivalence.glm_channels import make_channel
from deeplin.deep_equivalence.layers import layer_coefficients

ACTIVATIONS, DEPTHS, NOISES = ("tanh", "erf"), (1, 2, 3), (0.01, 0.1, 1.0)
CASES = list(itertools.product(ACTIVATIONS, DEPTHS, NOISES))
ALPHAS = (0.25, 0.7, 2.0, 5.0, 8.0)


def _cli_rows(capsys, activation: str, depth: int, readout: str, noise: float, alphas) -> list[dict]:
    """The theory step's rows at exactly these α: one run per α, on a grid of one point."""
    rows = []
    for alpha in alphas:
        model = {"activation": activation, "depth": depth, "readout": readout, "noise": noise}
        theory = {"alpha_min": alpha, "alpha_max": alpha, "alpha_num": 1}
        settings = {"deep_equivalence": {"models": {"reference": model}, "theory": theory}}
        assert main(["deep_equivalence", "theory", "--settings", json.dumps(settings)]) == 0
        rows += csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert [float(row["alpha"]) for row in rows] == list(alphas)
    return rows


@pytest.mark.parametrize("activation,depth", list(itertools.product(ACTIVATIONS, DEPTHS)))
def test_coefficients_match_reference(activation: str, depth: int) -> None:
    eta0, gamma0, sigma_L = ref.coefficients(activation, depth)
    ours = layer_coefficients(activation, depth)
    assert ours.eta0 == pytest.approx(eta0, rel=1e-11)
    assert ours.gamma0 == pytest.approx(gamma0, rel=1e-10)
    assert ours.sigma_L == pytest.approx(sigma_L, rel=1e-11)


@pytest.mark.parametrize("activation,depth,noise", CASES)
def test_linear_readout_cli_matches_reference(capsys, activation: str, depth: int, noise: float) -> None:
    eta0, gamma0, _ = ref.coefficients(activation, depth)
    for row in _cli_rows(capsys, activation, depth, "linear", noise, ALPHAS):
        q = ref.linear_readout_q(float(row["alpha"]), eta0, gamma0, noise)
        assert float(row["q"]) == pytest.approx(q, rel=1e-8)
        # linear readout: error = η0² (1 − q) + γ0 with the reference's own q and coefficients
        assert float(row["error"]) == pytest.approx(eta0**2 * (1 - q) + gamma0, rel=1e-8)


@pytest.mark.slow
@pytest.mark.parametrize("activation,depth,noise", CASES)
def test_tanh_readout_cli_matches_reference(capsys, activation: str, depth: int, noise: float) -> None:
    """At the CLI's q, the reference's own fixed-point map moves q by less than 1e-8·q·(1 − M′); since the
    map M is a contraction there with slope M′ < 1, |q_cli − q*| ≤ |M(q_cli) − q_cli| / (1 − M′)."""
    eta0, gamma0, sigma_L = ref.coefficients(activation, depth)
    # two α per case, rotating over the grid, to keep the (slow, adaptive) reference affordable
    index = CASES.index((activation, depth, noise))
    alphas = (ALPHAS[index % 5], ALPHAS[(index + 2) % 5])
    channel = make_channel("tanh", eta0, gamma0, noise)
    for row in _cli_rows(capsys, activation, depth, "tanh", noise, alphas):
        alpha, q = float(row["alpha"]), float(row["q"])
        q_hat = ref.tanh_readout_qhat(q, alpha, eta0, gamma0, noise)
        step = 1e-5  # the map's slope, from the production integrals (only sets the tolerance)
        slope = alpha * (channel.fisher(q + step) - channel.fisher(q - step)) / (2 * step)
        slope /= (1 + alpha * channel.fisher(q)) ** 2
        assert 0 <= slope < 1
        assert abs(q_hat / (1 + q_hat) - q) / (1 - slope) <= 1e-8 * q
        assert float(row["error"]) == pytest.approx(
            ref.tanh_readout_error(q, eta0, gamma0, sigma_L), rel=1e-8
        )


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")  # reference quad, not ours
@pytest.mark.parametrize("noise", [0.0, 0.01, 0.1, 1.0])
def test_sign_fisher_matches_reference_general_integral(noise: float) -> None:
    eta0, gamma0, _ = ref.coefficients("tanh", 2)
    channel = make_channel("sign", eta0, gamma0, noise)
    for q in (0.05, 0.5, 0.9):
        assert channel.fisher(q) == pytest.approx(
            ref.sign_readout_qhat_numeric(q, 1.0, eta0, gamma0, noise), rel=1e-9
        )
