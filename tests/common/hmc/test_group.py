"""deeplin.hmc.group: points sampled side by side in one chain tensor give each the numbers of a lone run.

Three Gaussian points of one shape (different means and scales, so that their adaptation and their stopping
differ), each with its own device seed and one shared trajectory-length seed: the grouped run's draws,
adaptation, counts and potentials equal three separate `deeplin.hmc.sample` runs bit for bit, also when the
points stop at different blocks and when the group resumes from a mid-run checkpoint.
"""

from __future__ import annotations

import io

import pytest
import torch
from deeplin.hmc import HMCConfig, autograd_potential_and_grad, on_draw, sample
from deeplin.hmc.driver import SamplerState
from deeplin.hmc.group import GroupState, point_states, sample_group

CHAINS, DIM = 3, 5
SCALES = (0.5, 1.0, 3.0)  # point k: N(k, scale_k² I)
SEEDS = (11, 12, 13)
JITTER_SEED = 99
RESULT_FIELDS = (
    "step_size",
    "inv_mass",
    "accept_rate",
    "mean_accept_prob",
    "mean_accept_prob_warmup",
    "divergences_warmup",
    "divergences",
    "potential",
)


def _potential(k: int):
    def u(theta: torch.Tensor) -> torch.Tensor:
        return 0.5 * (((theta - k) / SCALES[k]) ** 2).sum(-1)

    return autograd_potential_and_grad(u)


def _group_potential(points: tuple[int, ...]):
    """Each point's potential on its block of rows, the blocks in `points` order."""
    fns = [_potential(k) for k in points]

    def potential_and_grad(theta: torch.Tensor):
        parts = [fn(block) for fn, block in zip(fns, theta.split(CHAINS), strict=True)]
        return torch.cat([u for u, _ in parts]), torch.cat([g for _, g in parts])

    return potential_and_grad


def _init(k: int) -> torch.Tensor:
    return torch.linspace(-1.0, 1.0, CHAINS * DIM, dtype=torch.float64).reshape(CHAINS, DIM) + 0.1 * k


def _stop_after(blocks: int):
    """A criterion that passes at its `blocks`-th check (a stand-in for a diagnostics threshold)."""
    return lambda state: state.blocks >= blocks


def _alone(k: int, config: HMCConfig, stop=None):
    draws: dict[int, torch.Tensor] = {}
    result = sample(
        _potential(k),
        _init(k),
        config,
        SEEDS[k],
        [on_draw(lambda i, x: draws.__setitem__(i, x.clone()))],
        stop=stop,
        jitter_seed=JITTER_SEED,
    )
    return draws, result


def _recorder(draws: list[dict[int, torch.Tensor]]):
    def hook(group: GroupState) -> None:
        index = group.kept_index
        if index is not None:
            for k, member in enumerate(group.members):
                draws[member.point][index] = group.kernel.position[group.rows(k)].clone()

    return hook


def _assert_same(grouped, alone) -> None:
    (g_draws, g_result), (a_draws, a_result) = grouped, alone
    assert g_draws.keys() == a_draws.keys()
    for i in a_draws:
        assert torch.equal(g_draws[i], a_draws[i]), i
    for name in RESULT_FIELDS:
        assert torch.equal(getattr(g_result, name), getattr(a_result, name)), name
    assert (g_result.n_gradients, g_result.samples, g_result.blocks, g_result.stopped) == (
        a_result.n_gradients,
        a_result.samples,
        a_result.blocks,
        a_result.stopped,
    )


CONFIG = HMCConfig(warmup=40, samples=20, thin=2, max_samples=80, block=15, leapfrog_steps=6, progress=False)


@pytest.mark.parametrize("fixed", [True, False])
def test_grouped_points_get_the_numbers_of_lone_runs(fixed: bool) -> None:
    """Fixed length, and by a criterion under which point 0 stops first, point 1 later, point 2 on its budget."""
    stops = None if fixed else [_stop_after(1), _stop_after(3), _stop_after(99)]
    draws: list[dict[int, torch.Tensor]] = [{} for _ in SCALES]
    results = sample_group(
        _group_potential,
        [_init(k) for k in range(3)],
        CONFIG,
        SEEDS,
        JITTER_SEED,
        [_recorder(draws)],
        stops=stops,
    )
    for k in range(3):
        _assert_same((draws[k], results[k]), _alone(k, CONFIG, None if fixed else stops[k]))
    if not fixed:
        assert [r.samples for r in results] == [20, 50, 80]
        assert [r.stopped for r in results] == ["converged", "converged", "budget"]
    # power: the trajectory lengths are shared, so a lone run with another jitter seed differs
    other = sample(_potential(0), _init(0), CONFIG, SEEDS[0], stop=stops and stops[0], jitter_seed=1)
    assert not torch.equal(other.potential, results[0].potential)


def test_a_points_numbers_do_not_depend_on_its_companions() -> None:
    """Point 1 grouped with point 0 or with point 2 (other positions in the tensor) samples the same."""
    stops = [_stop_after(1), _stop_after(2), _stop_after(4)]
    runs = []
    for pair in ((0, 1), (1, 2)):
        draws: list[dict[int, torch.Tensor]] = [{} for _ in pair]

        def potential(points: tuple[int, ...], pair=pair):
            return _group_potential(tuple(pair[p] for p in points))

        results = sample_group(
            potential,
            [_init(k) for k in pair],
            CONFIG,
            [SEEDS[k] for k in pair],
            JITTER_SEED,
            [_recorder(draws)],
            stops=[stops[k] for k in pair],
        )
        slot = pair.index(1)
        runs.append((draws[slot], results[slot]))
    _assert_same(runs[0], runs[1])


@pytest.mark.parametrize("checkpoint_at", [1, 30, 61, 75])
def test_a_resumed_group_continues_bit_identically(checkpoint_at: int) -> None:
    """Save every point's state through torch.save mid-run (before and after point 0 has left), resume."""
    stops = [_stop_after(1), _stop_after(3), _stop_after(99)]
    saved: dict[str, bytes] = {}

    def checkpoint(group: GroupState) -> None:
        if group.iteration == checkpoint_at:
            buffer = io.BytesIO()
            torch.save([s.state_dict() for s in point_states(group)], buffer)
            saved["states"] = buffer.getvalue()

    inits = [_init(k) for k in range(3)]
    full = sample_group(_group_potential, inits, CONFIG, SEEDS, JITTER_SEED, [checkpoint], stops=stops)
    states = [
        SamplerState.from_state_dict(d) for d in torch.load(io.BytesIO(saved["states"]), weights_only=True)
    ]
    assert all(s.iteration == checkpoint_at for s in states if not s.stopped)
    resumed = sample_group(_group_potential, inits, CONFIG, (0, 0, 0), 0, resume=states, stops=stops)
    for a, b in zip(full, resumed, strict=True):
        for name in RESULT_FIELDS:
            assert torch.equal(getattr(a, name), getattr(b, name)), name
        assert (a.samples, a.blocks, a.stopped) == (b.samples, b.blocks, b.stopped)


def test_points_with_other_trajectory_streams_are_refused() -> None:
    lone = [sample(_potential(k), _init(k), CONFIG, SEEDS[k], jitter_seed=k).final_state for k in range(2)]
    fresh = [s._replace(stopped="", iteration=0) for s in lone]
    with pytest.raises(ValueError, match="trajectory-length stream"):
        sample_group(_group_potential, [], CONFIG, (), 0, resume=fresh)
