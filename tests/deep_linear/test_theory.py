"""The exact moments, limits and samplers of deeplin.deep_linear.theory against the check values of
docs/deep_linear.md ('Check values'), against independent derivations (Isserlis by hand, the Bartlett
decomposition expanded symbolically, χ² products, the matrix exponential) and against each other.

Statistical checks use a fixed seed and |z| ≤ Z_BOUND, and show their power: the same statistic computed for a
wrong formula or a wrong sampler gives |z| far above the bound.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from deeplin.deep_linear import theory
from scipy import integrate, linalg, special, stats

Z_BOUND = 4.0  # two-sided, per statistic: P(|z| > 4) ≈ 6e-5 under the null
EULER_BIAS = (
    1e-4  # bound on the Euler bias of E r and sd r at dt = 2e-3 (docs/deep_linear.md, 'Check values')
)

# (a, ρ0, N, L) → the finite and the limit values of docs/deep_linear.md, 'Check values'
CHECK_CASES = {
    (0.25, 0.3, 40, 10): {
        "finite": dict(
            b=1.111672,
            c=0.405212,
            cross_fourth_moment=1.922096,
            kurtosis=4.886684,
            log_k_mean=-0.252083,
            log_k_var=0.512708,
        ),
        "limit": dict(b=1.120970, c=0.412261, cross_fourth_moment=1.945491, kurtosis=4.946164),
    },
    (0.75, 0.3, 40, 30): {
        "finite": dict(
            b=1.983814,
            c=1.558039,
            cross_fourth_moment=5.099892,
            kurtosis=12.965827,
            log_k_mean=-0.756248,
            log_k_var=1.538125,
        ),
        "limit": dict(b=2.049367, c=1.619513, cross_fourth_moment=5.288393, kurtosis=13.445067),
    },
    (0.75, 0.8, 60, 45): {
        "finite": dict(
            b=3.436442,
            c=3.267461,
            cross_fourth_moment=9.971365,
            kurtosis=13.120217,
            log_k_mean=-0.754166,
            log_k_var=1.525278,
        ),
        "limit": dict(b=3.519452, c=3.349400, cross_fourth_moment=10.218251, kurtosis=13.445067),
    },
    (1.5, 0.3, 60, 90): {
        "finite": dict(
            b=7.656825,
            c=7.456327,
            cross_fourth_moment=22.569479,
            kurtosis=57.380031,
            log_k_mean=-1.508332,
            log_k_var=3.050555,
        ),
        "limit": dict(b=8.035677, c=7.832628, cross_fourth_moment=23.700934, kurtosis=60.256611),
    },
}
KEYS = ("log_k_mean", "log_k_var", "kurtosis", "cross_fourth_moment", "b", "c", "unit_square_cov")


def _printed(value: float) -> float:
    """Half a unit in the last of six decimals: the rounding of a printed check value (≤ 1e-6 relative for
    every value above 0.5 in magnitude)."""
    return max(1e-6 * abs(value), 5e-7)


def _z(sample: np.ndarray, target: float) -> float:
    """z-score of a sample mean against a target, with the sample's standard error."""
    return float((sample.mean() - target) / (sample.std(ddof=1) / math.sqrt(sample.size)))


def _z_var(sample: np.ndarray, target: float) -> float:
    """z-score of the sample variance, SE² = (m4 − s⁴)/n."""
    centred = sample - sample.mean()
    var = centred.var()
    return float((var - target) / math.sqrt(((centred**4).mean() - var * var) / sample.size))


def test_depth_rounds_half_up_and_is_at_least_one() -> None:
    assert [theory.depth_for(a, n) for a, _, n, _ in CHECK_CASES] == [10, 30, 45, 90]
    assert theory.depth_for(0.5, 3) == 2  # 1.5 → 2
    assert theory.depth_for(0.25, 6) == 2  # 1.5 → 2
    assert theory.depth_for(0.25, 10) == 3  # 2.5 → 3, not banker's 2
    assert theory.depth_for(0.01, 10) == 1  # 0.1 → 0 → at least 1
    assert theory.depth_for(0.0, 10) == 1
    with pytest.raises(ValueError):
        theory.depth_for(-0.1, 10)


@pytest.mark.parametrize("case", list(CHECK_CASES), ids=str)
def test_finite_moments_reproduce_the_check_values(case: tuple) -> None:
    a, rho0, width, depth = case
    assert theory.depth_for(a, width) == depth
    moments = theory.finite_moments(width, depth, rho0)
    assert set(moments) == set(KEYS)
    for key, value in CHECK_CASES[case]["finite"].items():
        assert moments[key] == pytest.approx(value, rel=0, abs=_printed(value)), key
    assert moments["kurtosis"] == pytest.approx(3.0 * (1.0 + moments["unit_square_cov"]), rel=1e-14)


@pytest.mark.parametrize("case", list(CHECK_CASES), ids=str)
def test_limit_moments_reproduce_the_check_values(case: tuple) -> None:
    a, rho0, _, _ = case
    moments = theory.limit_moments(a, rho0)
    assert set(moments) == set(KEYS)
    for key, value in CHECK_CASES[case]["limit"].items():
        assert moments[key] == pytest.approx(value, rel=0, abs=_printed(value)), key
    assert moments["log_k_mean"] == -a and moments["log_k_var"] == 2 * a
    assert moments["unit_square_cov"] == pytest.approx(math.exp(2 * a) - 1, rel=1e-14)
    assert moments["cross_fourth_moment"] == pytest.approx((1 + 2 * rho0**2) * math.exp(2 * a), rel=1e-14)


def test_check_values_fail_for_a_perturbed_normalisation() -> None:
    """Power: (1 + 2/N') with N' = N ± 1 moves every value far beyond the printed precision."""
    for (_, rho0, width, depth), values in CHECK_CASES.items():
        for wrong in (width - 1, width + 1):
            moments = theory.finite_moments(wrong, depth, rho0)
            for key in ("b", "c", "kurtosis", "log_k_mean"):
                assert abs(moments[key] - values["finite"][key]) > 1000 * _printed(values["finite"][key])


@pytest.mark.parametrize("rho0", [-0.9, 0.0, 0.3, 0.8, 1.0])
@pytest.mark.parametrize(
    ("width", "depth"), [(1, 1), (2, 3), (10, 5), (40, 10), (60, 90), (1000, 750), (10**6, 1_500_000)]
)
def test_recursion_matches_the_closed_form_of_b_plus_2c(width: int, depth: int, rho0: float) -> None:
    moments = theory.finite_moments(width, depth, rho0)
    closed = (1 + 2 * rho0**2) * math.exp(depth * math.log1p(2 / width))
    assert moments["cross_fourth_moment"] == pytest.approx(closed, rel=1e-12)
    # and the other eigenvector of M: B − C = (1 − ρ0²)(1 − 1/N)^L
    other = (1 - rho0**2) * (1 - 1 / width) ** depth
    assert moments["b"] - moments["c"] == pytest.approx(other, rel=1e-9, abs=1e-14)


def test_the_recursion_stepped_layer_by_layer() -> None:
    """(B, C)_l = (B, C)_{l−1} + (2C, B + C)_{l−1}/N, iterated by hand for 7 layers."""
    width, rho0 = 9, 0.4
    b, c = 1.0, rho0**2
    for depth in range(1, 8):
        b, c = b + 2 * c / width, c + (b + c) / width
        moments = theory.finite_moments(width, depth, rho0)
        assert (moments["b"], moments["c"]) == pytest.approx((b, c), rel=1e-14)
    assert theory.finite_moments(width, 0, rho0)["b"] == 1.0
    assert theory.finite_moments(width, 0, rho0)["c"] == pytest.approx(rho0**2, rel=1e-15)


@pytest.mark.parametrize("width", [2, 3, 10, 41])
@pytest.mark.parametrize("rho0", [0.0, 0.3, 0.8])
def test_one_layer_by_isserlis(width: int, rho0: float) -> None:
    """L = 1: K_ij = Σ_n u_ni u_nj/N with rows u_n ~ N(0, K_0) iid, so by Isserlis E u1²u2² = 1 + 2ρ0² and
    E K11K22 = [N(1 + 2ρ0²) + N(N − 1)]/N², E K12² = [N(1 + 2ρ0²) + N(N − 1)ρ0²]/N²; P = 1: E(χ²_N/N)² = 1 + 2/N."""
    moments = theory.finite_moments(width, 1, rho0)
    assert moments["b"] == pytest.approx(
        (width * (1 + 2 * rho0**2) + width * (width - 1)) / width**2, rel=1e-14
    )
    assert moments["c"] == pytest.approx(
        (width * (1 + 2 * rho0**2) + width * (width - 1) * rho0**2) / width**2, rel=1e-14, abs=1e-16
    )
    assert moments["kurtosis"] == pytest.approx(3 * width * (width + 2) / width**2, rel=1e-14)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_chi_square_products(depth: int) -> None:
    """P = 1: K = ∏ χ²_N/N, so E K² = [N(N + 2)/N²]^L, E log K = L E log(χ²_N/N) (the χ² log-moment
    E log χ²_N = ψ(N/2) + log 2) and Var log K = L ψ′(N/2) (the variance of the log of a Gamma(N/2))."""
    width = 7
    moments = theory.finite_moments(width, depth, 0.5)
    assert moments["kurtosis"] / 3 == pytest.approx((width * (width + 2) / width**2) ** depth, rel=1e-14)
    assert moments["unit_square_cov"] == pytest.approx(((width + 2) / width) ** depth - 1, rel=1e-13)
    log_mean = integrate.quad(lambda x: math.log(x / width) * stats.chi2.pdf(x, width), 0, np.inf)[0]
    log_square = integrate.quad(lambda x: math.log(x / width) ** 2 * stats.chi2.pdf(x, width), 0, np.inf)[0]
    assert moments["log_k_mean"] == pytest.approx(depth * log_mean, rel=1e-9)
    assert moments["log_k_var"] == pytest.approx(depth * (log_square - log_mean**2), rel=1e-8)


def test_two_layers_by_the_bartlett_decomposition_expanded_symbolically() -> None:
    """L = 1, 2 exactly, independent of the recursion: K_L as a polynomial of the Bartlett variables
    (A_11² ~ χ²_N, A_21 ~ N(0, 1), A_22² ~ χ²_{N−1} per layer), expectations from the χ² and Gaussian moments."""
    sp = pytest.importorskip("sympy")
    width, rho = sp.symbols("N rho", positive=True)

    def chi_moment(df, k):  # E (χ²_df)^k = df (df + 2) … (df + 2k − 2)
        return sp.prod([df + 2 * i for i in range(k)])

    def expect(expression, variables):
        total = sp.Integer(0)
        for powers, coefficient in sp.Poly(sp.expand(expression), *variables).terms():
            if any(p % 2 for p in powers[1::3]):  # an odd Gaussian moment of some A_21 vanishes
                continue
            assert not any(p % 2 for p in powers)  # odd powers of A_11 come only with odd powers of an A_21
            term = coefficient
            for p11, p21, p22 in zip(powers[0::3], powers[1::3], powers[2::3], strict=True):
                term *= chi_moment(width, p11 // 2) * sp.factorial2(p21 - 1) * chi_moment(width - 1, p22 // 2)
            total += term
        return total

    g = sp.Matrix([[1, rho], [0, sp.sqrt(1 - rho**2)]])
    variables = []
    exact = {}
    for depth in (1, 2):
        a11, a21, a22 = sp.symbols(f"a11_{depth} a21_{depth} a22_{depth}")
        variables += [a11, a21, a22]
        g = sp.Matrix([[a11, a21], [0, a22]]) * g / sp.sqrt(width)
        k = g.T * g
        exact[depth] = [
            expect(e, variables) for e in (k[0, 0] * k[1, 1], k[0, 1] ** 2, k[0, 0] ** 2, k[1, 1] ** 2)
        ]
    for depth, (b, c, square11, square22) in exact.items():
        for n in (2, 3, 10, 57):
            for r in (0.0, 0.3, 0.8):
                moments = theory.finite_moments(n, depth, r)
                values = [float(e.subs({width: n, rho: r})) for e in (b, c, square11, square22)]
                assert moments["b"] == pytest.approx(values[0], rel=1e-13)
                assert moments["c"] == pytest.approx(values[1], rel=1e-13, abs=1e-15)
                assert moments["kurtosis"] / 3 == pytest.approx(values[2], rel=1e-13)
                assert values[3] == pytest.approx(values[2], rel=1e-13)  # both inputs have unit norm


@pytest.mark.parametrize("rho0", [0.3, 0.8])
@pytest.mark.parametrize("a", [0.25, 0.75, 1.5])
def test_finite_moments_tend_to_the_limit_at_rate_one_over_n(a: float, rho0: float) -> None:
    """N = 10⁴, 10⁵, 10⁶ at L = round(aN): |finite − limit| = O(1/N), N·|gap| bounded and about constant."""
    limit = theory.limit_moments(a, rho0)
    scaled = {}
    for width in (10**4, 10**5, 10**6):
        finite = theory.finite_moments(width, theory.depth_for(a, width), rho0)
        for key in KEYS:
            gap = abs(finite[key] - limit[key])
            assert gap < 50 * max(1.0, abs(limit[key])) / width, (key, width)
            scaled.setdefault(key, []).append(width * gap)
    for key, values in scaled.items():
        assert values[1] == pytest.approx(values[0], rel=0.05), key  # O(1/N): the scaled gap settles
        assert values[2] == pytest.approx(values[1], rel=0.01), key


def test_limit_is_the_matrix_exponential_of_the_recursion() -> None:
    """(I + M/N)^{aN} → exp(aM): the limit (B, C) equal expm(aM)(1, ρ0²)."""
    matrix = np.array([[0.0, 2.0], [1.0, 1.0]])
    for a in (0.1, 0.75, 2.0):
        for rho0 in (-0.5, 0.3, 0.8):
            b, c = linalg.expm(a * matrix) @ np.array([1.0, rho0**2])
            moments = theory.limit_moments(a, rho0)
            assert (moments["b"], moments["c"]) == pytest.approx((b, c), rel=1e-12)


@pytest.mark.parametrize("rho0", [0.0, 0.3, 0.8])
def test_gaussian_process_values_are_the_a0_limit(rho0: float) -> None:
    gp = theory.gp_moments(rho0)
    assert gp == {
        "log_k_mean": 0.0,
        "log_k_var": 0.0,
        "kurtosis": 3.0,
        "cross_fourth_moment": 1 + 2 * rho0**2,
        "b": 1.0,
        "c": rho0**2,
        "unit_square_cov": 0.0,
        "corr_mean": rho0,
        "corr_sd": 0.0,
    }
    limit = theory.limit_moments(0.0, rho0)
    for key in KEYS:
        assert limit[key] == pytest.approx(gp[key], rel=1e-14, abs=1e-15), key
    draws = theory.limit_correlation_draws(0.0, rho0, 5, 2e-3, np.random.default_rng(0))
    assert np.all(draws == rho0)


def test_log_k_draws_match_the_digamma_formulas() -> None:
    """P = 1: mean and variance of log K, and E K = 1, E K² = (1 + 2/N)^L, from 2·10⁵ exact draws."""
    width, depth, n = 40, 10, 200_000
    draws = theory.finite_log_k_draws(width, depth, n, np.random.default_rng(11))
    assert draws.shape == (n,)
    moments = theory.finite_moments(width, depth, 0.0)
    z = {
        "mean": _z(draws, moments["log_k_mean"]),
        "var": _z_var(draws, moments["log_k_var"]),
        "K": _z(np.exp(draws), 1.0),
        "K2": _z(np.exp(2 * draws), moments["kurtosis"] / 3),
    }
    assert max(map(abs, z.values())) < Z_BOUND, z
    # power: ψ(N) for ψ(N/2) (the log-moments of χ²_{2N}/(2N)), or χ²_{N+1}/N draws, are caught
    assert abs(_z(draws, depth * (special.digamma(width) - math.log(width)))) > 10 * Z_BOUND
    assert abs(_z_var(draws, depth * special.polygamma(1, width))) > 10 * Z_BOUND
    rng = np.random.default_rng(12)
    wrong = sum(np.log(rng.chisquare(width + 1, n) / width) for _ in range(depth))
    assert abs(_z(wrong, moments["log_k_mean"])) > 10 * Z_BOUND
    assert np.all(theory.finite_log_k_draws(width, 0, 4, rng) == 0.0)


def test_finite_output_cdf() -> None:
    """Φ for log K ≡ 0; the limit mixture for log K ~ N(−a, 2a) draws (within Monte Carlo error); a KS test
    of simulated outputs √K Z against it, with its power for a 10 % scale error."""
    t = np.linspace(-4, 4, 41)
    assert np.allclose(theory.finite_output_cdf(t, np.zeros(3)), special.ndtr(t), rtol=0, atol=1e-15)
    a, m = 0.75, 40_000
    rng = np.random.default_rng(5)
    normal_draws = -a + math.sqrt(2 * a) * rng.standard_normal(m)
    terms = special.ndtr(t[:, None] * np.exp(-0.5 * normal_draws))
    se = terms.std(axis=1) / math.sqrt(m) + 1e-12
    assert np.all(np.abs(theory.finite_output_cdf(t, normal_draws) - theory.mixture_cdf(t, a)) < Z_BOUND * se)
    assert theory.finite_output_cdf(np.zeros((2, 3)), normal_draws).shape == (2, 3)

    width, depth = 20, 15
    grid = np.linspace(-20, 20, 1201)  # linear interpolation error < 1e-4
    cdf_grid = theory.finite_output_cdf(grid, theory.finite_log_k_draws(width, depth, m // 2, rng))
    outputs = np.exp(0.5 * theory.finite_log_k_draws(width, depth, 20_000, rng)) * rng.standard_normal(20_000)
    assert stats.kstest(outputs, lambda x: np.interp(x, grid, cdf_grid)).pvalue > 1e-3
    assert stats.kstest(1.1 * outputs, lambda x: np.interp(x, grid, cdf_grid)).pvalue < 1e-4  # power


def test_finite_output_law_tends_to_the_mixture() -> None:
    """N = 2000, L = 1500 (a = 0.75): P(f ≤ 1) from exact log K draws is the mixture's to O(1/N)."""
    width, a, m = 2000, 0.75, 20_000
    draws = theory.finite_log_k_draws(width, theory.depth_for(a, width), m, np.random.default_rng(8))
    terms = special.ndtr(np.exp(-0.5 * draws))
    gap = terms.mean() - theory.mixture_cdf(np.array(1.0), a)
    assert abs(gap) < Z_BOUND * terms.std() / math.sqrt(m) + 1.0 / width


@pytest.mark.parametrize(
    ("a", "cdf_one", "tail_three"),
    [(0.25, 0.8665088, 1.05524e-2), (0.75, 0.8981184, 1.74981e-2), (1.5, 0.9264161, 1.92507e-2)],
)
def test_mixture_cdf_check_values(a: float, cdf_one: float, tail_three: float) -> None:
    assert float(theory.mixture_cdf(np.array(1.0), a)) == pytest.approx(cdf_one, rel=0, abs=1e-7)
    tail = 2 * (1 - float(theory.mixture_cdf(np.array(3.0), a)))
    assert tail == pytest.approx(tail_three, rel=0, abs=1e-7)
    # the 80-node rule against adaptive quadrature over u ~ N(0, 1): its error peaks at 4.2e-9 near t = 2.2
    # for a = 1.5 (7.6e-12 at a = 0.75), far below the check values' 1e-7
    for t in (-2.5, 0.3, 1.0, 2.2, 3.0, 8.0):
        exact = integrate.quad(
            lambda u, t=t: special.ndtr(t * math.exp((a - math.sqrt(2 * a) * u) / 2)) * stats.norm.pdf(u),
            -40,
            40,
            epsabs=1e-13,
            epsrel=1e-13,
            limit=400,
        )[0]
        assert float(theory.mixture_cdf(np.array(t), a)) == pytest.approx(exact, rel=0, abs=5e-9)
    # power: the GP's Φ and a mixture with the variance of log K halved both miss the check value
    assert abs(special.ndtr(1.0) - cdf_one) > 1e-3
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    halved = special.ndtr(np.exp(0.5 * (a - math.sqrt(a) * nodes))) @ weights / math.sqrt(2 * math.pi)
    assert abs(float(halved) - cdf_one) > 1e-4


@pytest.mark.parametrize("a", [0.0, 0.25, 0.75, 1.5])
def test_mixture_density(a: float) -> None:
    total = integrate.quad(
        lambda t: float(theory.mixture_density(np.array(t), a)), -np.inf, np.inf, limit=400
    )[0]
    assert total == pytest.approx(1.0, abs=1e-8)
    t = np.linspace(-5, 5, 51)
    h = 1e-5
    slope = (theory.mixture_cdf(t + h, a) - theory.mixture_cdf(t - h, a)) / (2 * h)
    assert np.allclose(theory.mixture_density(t, a), slope, rtol=1e-6, atol=1e-9)
    assert np.allclose(theory.mixture_cdf(-t, a), 1 - theory.mixture_cdf(t, a), rtol=0, atol=1e-14)
    assert theory.mixture_cdf(np.zeros((3, 2)), a).shape == (3, 2)


def test_mixture_tends_to_the_standard_normal() -> None:
    t = np.linspace(-6, 6, 121)
    assert np.allclose(theory.mixture_cdf(t, 0.0), special.ndtr(t), rtol=0, atol=1e-15)
    assert np.allclose(theory.mixture_density(t, 0.0), stats.norm.pdf(t), rtol=0, atol=1e-15)
    previous = 1.0
    for a in (1e-2, 1e-4, 1e-6, 1e-8):
        gap = np.abs(theory.mixture_cdf(t, a) - special.ndtr(t)).max()
        assert gap < 0.2 * a**0.5 and gap < previous  # O(a): the scale mixture's variance is e^{2a} − 1 ≈ 2a
        previous = gap


def _reference_bartlett(width, depth, rho0, n, rng, df22=None, norm=None):
    """The reduced Bartlett sampler written as 2×2 matrix products, with a wrong degree of freedom of A_22 or a
    wrong normalisation on request (the power checks); the same draws in the same order as theory."""
    df22 = width - 1 if df22 is None else df22
    norm = width if norm is None else norm
    g = np.broadcast_to(np.linalg.cholesky(np.array([[1.0, rho0], [rho0, 1.0]])).T, (n, 2, 2)).copy()
    for _ in range(depth):
        a = np.zeros((n, 2, 2))
        a[:, 0, 0] = np.sqrt(rng.chisquare(width, n))
        a[:, 1, 0] = rng.standard_normal(n)
        a[:, 1, 1] = np.sqrt(rng.chisquare(df22, n))
        g = np.transpose(a, (0, 2, 1)) @ g / math.sqrt(norm)
    return np.transpose(g, (0, 2, 1)) @ g


def _kernel_z(kernels: np.ndarray, moments: dict[str, float]) -> dict[str, float]:
    """z-scores of the sampler's B, C, E log K11, Var log K11, E K22 = 1 and E log K22 against finite_moments."""
    k11, k12, k22 = kernels[:, 0, 0], kernels[:, 0, 1], kernels[:, 1, 1]
    return {
        "b": _z(k11 * k22, moments["b"]),
        "c": _z(k12 * k12, moments["c"]),
        "log_k11_mean": _z(np.log(k11), moments["log_k_mean"]),
        "log_k11_var": _z_var(np.log(k11), moments["log_k_var"]),
        "k22_mean": _z(k22, 1.0),
        "log_k22_mean": _z(np.log(k22), moments["log_k_mean"]),
    }


@pytest.mark.parametrize(("width", "depth", "rho0"), [(10, 5, 0.3), (40, 10, 0.3), (60, 45, 0.8)])
def test_bartlett_sampler_moments(width: int, depth: int, rho0: float) -> None:
    n = 200_000
    kernels = theory.bartlett_kernels(width, depth, rho0, n, np.random.default_rng(21))
    assert kernels.shape == (n, 2, 2) and np.all(kernels[:, 0, 1] == kernels[:, 1, 0])
    z = _kernel_z(kernels, theory.finite_moments(width, depth, rho0))
    assert max(map(abs, z.values())) < Z_BOUND, z


def test_bartlett_sampler_power() -> None:
    """The matrix form reproduces the sampler draw for draw; A_22 = √χ²_N or a 1/√(N ± 1) normalisation is
    caught by the same z-scores (|z| in the tens to hundreds at 2·10⁵ draws)."""
    width, depth, rho0, n = 40, 10, 0.3, 200_000
    reference = _reference_bartlett(width, depth, rho0, 50, np.random.default_rng(3))
    assert np.allclose(theory.bartlett_kernels(width, depth, rho0, 50, np.random.default_rng(3)), reference)
    moments = theory.finite_moments(width, depth, rho0)
    for wrong in ({"df22": width}, {"norm": width - 1}, {"norm": width + 1}):
        kernels = _reference_bartlett(width, depth, rho0, n, np.random.default_rng(4), **wrong)
        z = _kernel_z(kernels, moments)
        assert max(abs(z["b"]), abs(z["c"])) > 3 * Z_BOUND, (wrong, z)


def test_bartlett_sampler_edge_cases() -> None:
    rng = np.random.default_rng(0)
    kernels = theory.bartlett_kernels(5, 0, 0.3, 3, rng)
    assert np.allclose(kernels, [[1.0, 0.3], [0.3, 1.0]], rtol=0, atol=1e-15)
    assert np.allclose(theory.correlation(theory.bartlett_kernels(5, 7, 1.0, 4, rng)), 1.0)
    with pytest.raises(ValueError):
        theory.bartlett_kernels(1, 3, 0.3, 3, rng)
    with pytest.raises(ValueError):
        theory.bartlett_kernels(5, 3, 1.5, 3, rng)


def test_correlation() -> None:
    kernels = np.array([[[4.0, 1.0], [1.0, 1.0]], [[1.0, -0.5], [-0.5, 9.0]]])
    assert np.allclose(theory.correlation(kernels), [0.5, -0.5 / 3])


@pytest.mark.parametrize(
    ("a", "rho0", "n", "mean", "sd"),
    [
        (0.25, 0.8, 200_000, 0.767392, 0.209799),
        (0.75, 0.3, 50_000, 0.248712, 0.605680),
        (1.5, 0.3, 20_000, 0.22949, 0.73290),
    ],
)
def test_limit_correlation_check_values(a: float, rho0: float, n: int, mean: float, sd: float) -> None:
    draws = theory.limit_correlation_draws(a, rho0, n, 2e-3, np.random.default_rng(31))
    assert draws.shape == (n,) and np.all(np.abs(draws) <= 1)
    se_mean = draws.std() / math.sqrt(n)
    centred = draws - draws.mean()
    se_sd = math.sqrt(((centred**4).mean() - draws.var() ** 2) / n) / (2 * draws.std())
    assert abs(draws.mean() - mean) < Z_BOUND * se_mean + EULER_BIAS
    assert abs(draws.std() - sd) < Z_BOUND * se_sd + EULER_BIAS
    if a == 0.25:  # power: without the Itô drift (r = tanh(artanh ρ0 + W_a)) E r is 0.732
        rng = np.random.default_rng(32)
        wrong = np.tanh(math.atanh(rho0) + math.sqrt(a) * rng.standard_normal(n))
        assert abs(wrong.mean() - mean) > 10 * (Z_BOUND * se_mean + EULER_BIAS)


def test_euler_steps_land_exactly_on_a() -> None:
    """dt = 0.003 does not divide a = 0.25: 83 steps of dt and a last one of 0.001, replayed by hand."""
    a, rho0, dt, n = 0.25, 0.6, 0.003, 7
    draws = theory.limit_correlation_draws(a, rho0, n, dt, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    s = np.full(n, math.atanh(rho0))
    steps = [dt] * 83 + [a - 83 * dt]
    assert sum(steps) == pytest.approx(a, abs=1e-15) and 0 < steps[-1] < dt
    for step in steps:
        s = s + 0.5 * np.tanh(s) * step + math.sqrt(step) * rng.standard_normal(n)
    assert np.allclose(draws, np.tanh(s), rtol=1e-13, atol=0)
    # dt dividing a (up to rounding): no extra sliver of a step
    assert theory._euler_steps(0.25, 2e-3).size == 125
    assert theory._euler_steps(0.25, 2e-3).sum() == pytest.approx(0.25, abs=1e-15)
    assert theory._euler_steps(1e-4, 2e-3).tolist() == [1e-4]


def test_finite_correlation_tends_to_the_limit() -> None:
    """The Bartlett sampler at N = 400, L = 100 against the limit law of r at a = 0.25, ρ0 = 0.8: within
    4 SE + 1/N (the finite-size bias of E r is about −0.06/N at N = 40..400)."""
    width, n = 400, 40_000
    r = theory.correlation(theory.bartlett_kernels(width, 100, 0.8, n, np.random.default_rng(41)))
    assert abs(r.mean() - 0.767392) < Z_BOUND * r.std() / math.sqrt(n) + 1.0 / width
    assert abs(r.std() - 0.209799) < Z_BOUND * r.std() / math.sqrt(2 * n) + 1.0 / width
