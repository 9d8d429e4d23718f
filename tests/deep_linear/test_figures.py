"""The deep-linear figures draw what they say from synthetic but consistent inputs: networks sampled with the
exact reduced (Bartlett) sampler, a comparison table computed from them with the theory's laws.

Every figure has one panel per a (two for the moments), labelled axes, finite data and a legend clear of the
panels; it is written as a non-trivial PNG and PDF; a single a or a single N still draws. The drawn curves are
the laws they claim (checked against the closed forms of docs/deep_linear.md, not against the figure code),
and the histograms are normalised densities, checked with binomial z-scores and a power check.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from deeplin.config import validate_slice
from deeplin.deep_linear import figures, theory
from deeplin.deep_linear.figures import CellSample
from deeplin.plotting import save_figure, set_style
from matplotlib.patches import StepPatch
from scipy import integrate, special, stats

matplotlib.use("Agg")
PLOTS = validate_slice({"plots": {}})["plots"]  # the shared figure style, the schema's defaults
RHO0 = 0.3
RATIOS = (0.25, 0.75)
WIDTHS = (16, 32)
NETWORKS = 2000
UNITS = 2
PATHS = 20_000  # limit-law paths where the test does not look at the limit law itself
KS_MEDIAN = 0.8276  # median of the Kolmogorov distribution
# Largest |z| of a bin count tolerated over ~100 bins: P(max |z| > 4.5) ≈ 100 · 6.8e-6 < 1e-3.
Z_BOUND = 4.5


# --------------------------------------------------------------------------------------------------
# synthetic inputs
# --------------------------------------------------------------------------------------------------


def bartlett_kernels(width: int, depth: int, rho0: float, networks: int, rng) -> np.ndarray:
    """K_L for P = 2 unit inputs of overlap ρ0: G ← AᵀG/√N with A the Bartlett factor of Wishart_2(N, I)."""
    chol = np.linalg.cholesky(np.array([[1.0, rho0], [rho0, 1.0]]))
    g = np.broadcast_to(chol.T, (networks, 2, 2)).copy()
    for _ in range(depth):
        factor = np.zeros((networks, 2, 2))
        factor[:, 0, 0] = np.sqrt(rng.chisquare(width, networks))
        factor[:, 1, 1] = np.sqrt(rng.chisquare(width - 1, networks))
        factor[:, 1, 0] = rng.standard_normal(networks)
        g = np.einsum("nji,njk->nik", factor, g) / math.sqrt(width)
    return np.einsum("nji,njk->nik", g, g)


def sample_cell(a: float, width: int, networks: int, rng, units: int = UNITS) -> CellSample:
    """One cell: kernels K_L and, given them, ``units`` iid N(0, K_L) output rows per network."""
    depth = theory.depth_for(a, width)
    kernels = bartlett_kernels(width, depth, RHO0, networks, rng)
    chol = np.linalg.cholesky(kernels)
    outputs = np.einsum("npq,ndq->ndp", chol, rng.standard_normal((networks, units, 2)))
    return CellSample(outputs=outputs, kernels=kernels, depth=depth)


def mixture_cdf(a: float):
    """The limit mixture's CDF by quadrature of theory.mixture_density (for the synthetic KS distances)."""
    grid = np.linspace(-60.0, 60.0, 48_001)
    cdf = integrate.cumulative_trapezoid(theory.mixture_density(grid, a), grid, initial=0.0)
    return lambda t: np.interp(t, grid, cdf / cdf[-1])


def _ks_row(name: str, result, n: int, m: int | None = None) -> dict:
    effective = n if m is None else n * m / (n + m)
    return {
        "statistic": name,
        "estimate": float(result.statistic),
        "p_value": float(result.pvalue),
        "noise_level": KS_MEDIAN / math.sqrt(effective),
    }


def cell_rows(a: float, width: int, sample: CellSample, rng) -> list[dict]:
    """The table's rows of one cell, as deep_linear.csv holds them (the moments and KS distances drawn)."""
    depth, kernels, output = sample.depth, sample.kernels, sample.outputs[:, 0, 0]
    finite, limit, gp = (
        theory.finite_moments(width, depth, RHO0),
        theory.limit_moments(a, RHO0),
        theory.gp_moments(RHO0),
    )
    r = theory.correlation(kernels)
    moments = {
        "kurtosis": 3 * kernels[:, 0, 0] ** 2,
        "cross_fourth_moment": kernels[:, 0, 0] * kernels[:, 1, 1] + 2 * kernels[:, 0, 1] ** 2,
    }
    rows = []
    for name, values in moments.items():
        estimate, se = values.mean(), values.std(ddof=1) / math.sqrt(len(values))
        laws = {"finite": finite[name], "limit": limit[name], "gaussian_process": gp[name]}
        rows.append({"statistic": name, "estimate": estimate, "se": se, **laws})
    limit_r = theory.limit_correlation_draws(a, RHO0, 4000, 2e-3, rng)
    rows.append(
        {
            "statistic": "corr_mean",
            "estimate": r.mean(),
            "se": r.std(ddof=1) / math.sqrt(len(r)),
            "finite": np.nan,
            "limit": limit_r.mean(),
            "gaussian_process": gp["corr_mean"],
        }
    )
    for row in rows:
        row["z"] = (row["estimate"] - row["finite"]) / row["se"]
    again = sample_cell(a, width, len(output), rng, units=1).outputs[:, 0, 0]
    rows += [
        _ks_row("ks_output_vs_finite", stats.ks_2samp(output, again), len(output), len(again)),
        _ks_row("ks_output_vs_mixture", stats.kstest(output, mixture_cdf(a)), len(output)),
        _ks_row("ks_output_vs_gp", stats.kstest(output, special.ndtr), len(output)),
        _ks_row("ks_corr_vs_limit", stats.ks_2samp(r, limit_r), len(r), len(limit_r)),
    ]
    cell = {"a": a, "N": width, "L": depth, "networks": len(kernels)}
    return [{**cell, **row} for row in rows]


def study(ratios, widths, seed: int = 0) -> tuple[dict, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    cells = {(a, n): sample_cell(a, n, NETWORKS, rng) for a in ratios for n in widths}
    rows = [row for (a, n), sample in cells.items() for row in cell_rows(a, n, sample, rng)]
    return cells, pd.DataFrame(rows)


@pytest.fixture(scope="module")
def synthetic() -> tuple[dict, pd.DataFrame]:
    set_style(PLOTS["context"], PLOTS["palette"])
    return study(RATIOS, WIDTHS)


def draw(name: str, cells, table, paths: int = PATHS):
    palette = PLOTS["palette"]
    return {
        "output_density": lambda: figures.output_density_figure(cells, palette),
        "moments": lambda: figures.moments_figure(table, palette),
        "correlation": lambda: figures.correlation_figure(cells, RHO0, palette, paths=paths),
        "ks_vs_width": lambda: figures.ks_figure(table, palette),
    }[name]()


FIGURES = ("output_density", "moments", "correlation", "ks_vs_width")


# --------------------------------------------------------------------------------------------------
# every figure: panels, labels, finite data, legend, files
# --------------------------------------------------------------------------------------------------


def _panels(fig) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def _overlap(a, b, pad: float = 0.5) -> bool:
    return a.x0 < b.x1 - pad and b.x0 < a.x1 - pad and a.y0 < b.y1 - pad and b.y0 < a.y1 - pad


def _assert_drawn(fig, panels: int) -> None:
    """The panels, each labelled and titled, with only finite data; a legend clear of every panel; no tick
    labels or titles running together."""
    axes = _panels(fig)
    assert len(axes) == panels
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title(), ax.get_title()
        lines = [line for line in ax.get_lines() if len(line.get_xydata())]
        steps = [patch for patch in ax.patches if isinstance(patch, StepPatch)]
        assert lines or steps, ax.get_title()
        for line in lines:
            assert np.isfinite(line.get_xydata()).all(), (ax.get_title(), line.get_gid())
        for patch in steps:
            values, edges, _ = patch.get_data()
            assert np.isfinite(values).all() and np.isfinite(edges).all(), ax.get_title()
    assert fig.legends and fig.legends[0].get_texts()
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for legend in fig.legends:
        for ax in axes:
            assert not _overlap(legend.get_window_extent(renderer), ax.get_window_extent(renderer))
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_text()]
            assert not any(_overlap(a, b) for a, b in itertools.combinations(boxes, 2)), ax.get_title()
    titles = [ax.title.get_window_extent(renderer) for ax in axes]
    assert not any(_overlap(a, b) for a, b in itertools.combinations(titles, 2))


@pytest.mark.parametrize("name", FIGURES)
def test_each_figure_has_its_panels_labels_finite_data_and_a_legend(synthetic, name: str) -> None:
    fig = draw(name, *synthetic)
    _assert_drawn(fig, 2 if name == "moments" else len(RATIOS))
    matplotlib.pyplot.close(fig)


def test_each_figure_is_saved_as_a_non_trivial_png_and_pdf(synthetic, tmp_path: Path) -> None:
    for name in FIGURES:
        paths = save_figure(draw(name, *synthetic), tmp_path / name, PLOTS["dpi"])
        assert [p.suffix for p in paths] == [".png", ".pdf"]
        assert all(p.stat().st_size > 10_000 for p in paths), [p.stat().st_size for p in paths]
        assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and paths[1].read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("ratios, widths", [((0.5,), WIDTHS), (RATIOS, (24,)), ((0.5,), (24,))])
def test_a_single_a_or_a_single_width_still_draws(ratios, widths) -> None:
    set_style(PLOTS["context"], PLOTS["palette"])
    cells, table = study(ratios, widths, seed=1)
    for name in FIGURES:
        fig = draw(name, cells, table)
        _assert_drawn(fig, 2 if name == "moments" else len(ratios))
        matplotlib.pyplot.close(fig)


def test_empty_inputs_draw_a_message() -> None:
    empty = pd.DataFrame(columns=["a", "N", "L", "statistic", "estimate", "se", "noise_level"])
    for fig in (
        figures.output_density_figure({}, "colorblind"),
        figures.correlation_figure({}, RHO0, "colorblind"),
        figures.moments_figure(empty, "colorblind"),
        figures.ks_figure(empty, "colorblind"),
    ):
        assert any(text.get_text() for ax in fig.axes for text in ax.texts)
        matplotlib.pyplot.close(fig)


# --------------------------------------------------------------------------------------------------
# what is drawn is what is claimed
# --------------------------------------------------------------------------------------------------


def _by_gid(ax, gid: str):
    found = [artist for artist in [*ax.get_lines(), *ax.patches] if artist.get_gid() == gid]
    assert found, (gid, [artist.get_gid() for artist in [*ax.get_lines(), *ax.patches]])
    return found[0]


def _bin_z(counts: np.ndarray, probabilities: np.ndarray, n: int) -> np.ndarray:
    """Binomial z-scores of the bin counts of ``n`` draws, over the bins expecting at least 20 counts."""
    used = n * probabilities >= 20
    p = probabilities[used]
    return (counts[used] - n * p) / np.sqrt(n * p * (1 - p))


def test_output_histogram_is_the_density_of_the_outputs_and_the_curves_are_the_two_laws() -> None:
    """Outputs drawn exactly from the limit law f = e^{ξ/2}Z, ξ ~ N(−a, 2a), one unit per network (so
    independent): the histogram's bins match the mixture within |z| < 4.5. Power: against N(0, 1), or with
    the heights off by 10 % (a wrong normalisation), the same bound fails."""
    a, n = 0.75, 200_000
    rng = np.random.default_rng(7)
    f = np.exp(rng.normal(-a, math.sqrt(2 * a), n) / 2) * rng.standard_normal(n)
    sample = CellSample(outputs=f[:, None, None] * np.ones((1, 1, 2)), kernels=np.ones((n, 2, 2)), depth=45)
    fig = figures.output_density_figure({(a, 60): sample}, "colorblind")
    ax = _panels(fig)[0]
    heights, edges, _ = _by_gid(ax, "histogram").get_data()
    widths = np.diff(edges)
    counts = heights * widths * n
    assert np.allclose(counts, np.round(counts)) and counts.sum() == pytest.approx(n, rel=1e-3)

    def bins(density) -> np.ndarray:  # the law's mass in each bin (Simpson on 21 points per bin)
        points = np.linspace(edges[:-1], edges[1:], 21)
        return integrate.simpson(density(points), x=points, axis=0)

    mixture = bins(lambda t: theory.mixture_density(t.ravel(), a).reshape(t.shape))
    assert np.abs(_bin_z(counts, mixture, n)).max() < Z_BOUND
    assert np.abs(_bin_z(counts, bins(stats.norm.pdf), n)).max() > Z_BOUND  # the GP does not fit
    assert np.abs(_bin_z(1.1 * counts, mixture, n)).max() > Z_BOUND  # nor a density off by 10 %
    # The curves: the mixture E_K N(0, K)(t) with log K ~ N(−a, 2a) (Gauss–Hermite here) and N(0, 1).
    t, drawn = _by_gid(ax, "limit").get_data()
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    k = np.exp(-a + math.sqrt(2 * a) * nodes)
    normal = np.exp(-(t[:, None] ** 2) / (2 * k)) / np.sqrt(2 * math.pi * k)
    expected = normal @ weights / weights.sum()
    assert np.allclose(drawn, expected, rtol=1e-6, atol=1e-12)
    t, drawn = _by_gid(ax, "gaussian_process").get_data()
    assert np.allclose(drawn, np.exp(-(t**2) / 2) / math.sqrt(2 * math.pi))
    # Tails: beyond |f| = 3 the histogram and the mixture lie far above the GP.
    centres = (edges[:-1] + edges[1:]) / 2
    tail = (np.abs(centres) > 3.5) & (np.abs(centres) < 4.5)
    assert (heights[tail] > 5 * stats.norm.pdf(centres[tail])).all()
    matplotlib.pyplot.close(fig)


def test_moment_curves_are_the_finite_limit_and_gp_values_and_the_bars_two_se(synthetic) -> None:
    """Finite curves: 3(1 + 2/N)^L and (1 + 2ρ0²)(1 + 2/N)^L with L = max(1, round(aN)), through the
    table's finite values at the simulated a; limit: 3e^{2a} and (1 + 2ρ0²)e^{2a}; GP: 3 and 1 + 2ρ0²
    (docs/deep_linear.md, 'Finite-size moments', 'The limit L/N → a'). Power: a depth off by one moves the
    curve by the factor 1 + 2/N, far beyond the 1e-9 tolerance."""
    cells, table = synthetic
    fig = figures.moments_figure(table, "colorblind")
    kurtosis, cross = _panels(fig)
    for ax, key, gp in ((kurtosis, "kurtosis", 3.0), (cross, "cross_fourth_moment", 1 + 2 * RHO0**2)):
        scale = 3.0 if key == "kurtosis" else 1 + 2 * RHO0**2
        a, limit = _by_gid(ax, "limit").get_data()
        assert np.allclose(limit, scale * np.exp(2 * a), rtol=1e-12)
        assert np.allclose(_by_gid(ax, "gaussian_process").get_ydata(), gp)
        for width in WIDTHS:
            a, finite = _by_gid(ax, f"finite N={width}").get_data()
            depth = np.maximum(1, np.floor(a * width + 0.5))  # round half up, one layer at least
            if key == "kurtosis":  # the cross moment's closed form is B + 2C = (1 + 2ρ0²)(1 + 2/N)^L too
                assert np.allclose(finite, 3 * (1 + 2 / width) ** depth, rtol=1e-12)
            else:
                assert np.allclose(finite, (1 + 2 * RHO0**2) * (1 + 2 / width) ** depth, rtol=1e-12)
            rows = table[(table["statistic"] == key) & (table["N"] == width)]
            for _, row in rows.iterrows():
                at = np.flatnonzero(a == row["a"])
                assert len(at) == 1 and finite[at[0]] == pytest.approx(row["finite"], rel=1e-9)
                off_by_one = scale * (1 + 2 / width) ** (row["L"] + 1)
                assert abs(off_by_one / row["finite"] - 1) > 1e-3
    # The points are the estimates, their bars ± 2 SE (cut at the axis, never past it).
    for ax, key in ((kurtosis, "kurtosis"), (cross, "cross_fourth_moment")):
        bottom, top = ax.get_ylim()
        for width in WIDTHS:
            rows = table[(table["statistic"] == key) & (table["N"] == width)].sort_values("a")
            assert np.allclose(_by_gid(ax, f"estimate N={width}").get_ydata(), rows["estimate"])
        spans = np.concatenate([c.lines[2][0].get_segments() for c in ax.containers])[:, :, 1]
        rows = table[table["statistic"] == key].sort_values(["N", "a"])
        low = np.maximum(rows["estimate"] - 2 * rows["se"], bottom)
        high = np.minimum(rows["estimate"] + 2 * rows["se"], top)
        assert np.allclose(np.sort(spans.min(1)), np.sort(low)) and np.allclose(
            np.sort(spans.max(1)), np.sort(high)
        )
    legend = " | ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "± 2 SE" in legend and "unreliable" in legend
    matplotlib.pyplot.close(fig)


def test_correlation_histograms_are_densities_and_the_limit_law_has_its_check_moments() -> None:
    """(a, ρ0) = (0.75, 0.3): the limit law of r has E r = 0.248712, sd 0.605680 (docs/deep_linear.md, 'Check
    values'). From the drawn histogram of 2·10⁵ paths: SE of the mean 0.6057/√(2·10⁵) = 0.0014 (of the sd
    about as much), and the bin centres (width 0.05) move mean and sd by ≲ 1e-3 (Sheppard: w²/12 = 2e-4 on
    the variance); bounds 0.008 and 0.01, over 5 SE. Power: the GP's r = ρ0 = 0.3 misses the mean by 0.05."""
    set_style(PLOTS["context"], PLOTS["palette"])
    rng = np.random.default_rng(3)
    cells = {(0.75, 24): sample_cell(0.75, 24, 4000, rng)}
    fig = figures.correlation_figure(cells, RHO0, "colorblind")
    ax = _panels(fig)[0]
    density, edges, _ = _by_gid(ax, "limit").get_data()
    mass = density * np.diff(edges)
    centres = (edges[:-1] + edges[1:]) / 2
    mean = float((mass * centres).sum())
    sd = math.sqrt(float((mass * centres**2).sum()) - mean**2)
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    assert abs(mean - 0.248712) < 0.008 and abs(sd - 0.605680) < 0.01
    assert abs(RHO0 - 0.248712) > 0.008
    simulated, edges, _ = _by_gid(ax, "simulation N=24").get_data()
    assert (simulated * np.diff(edges)).sum() == pytest.approx(1.0, abs=1e-12)
    assert np.allclose(_by_gid(ax, "gaussian_process").get_xdata(), RHO0)
    matplotlib.pyplot.close(fig)


def test_ks_points_are_the_table_distances_with_their_noise_levels(synthetic) -> None:
    cells, table = synthetic
    fig = figures.ks_figure(table, "colorblind")
    for ax, a in zip(_panels(fig), RATIOS, strict=True):
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        rows = table[table["a"] == a].sort_values("N")
        for name in ("ks_output_vs_mixture", "ks_corr_vs_limit", "ks_output_vs_gp"):
            expected = rows[rows["statistic"] == name]
            assert np.allclose(_by_gid(ax, name).get_ydata(), expected["estimate"])
        for gid, name in (("noise output", "ks_output_vs_mixture"), ("noise corr", "ks_corr_vs_limit")):
            noise = rows[rows["statistic"] == name]["noise_level"]
            assert np.allclose(_by_gid(ax, gid).get_ydata(), noise)
        # At a = 0.75 the GP's N(0, 1) is 0.085 from the mixture in KS distance: far above the noise 0.019.
        gp = rows[rows["statistic"] == "ks_output_vs_gp"]
        assert a < 0.5 or (gp["estimate"] > 2.5 * gp["noise_level"]).all()
    matplotlib.pyplot.close(fig)
