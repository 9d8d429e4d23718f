"""The convex reformulations of two-layer ReLU training with a vanishing weight decay, over a set of
activation patterns D_j (columns of a 0/1 matrix), solved with cvxpy: the relaxed group lasso and the exact
cone-constrained program (Pilanci & Ergen 2020, arXiv 2002.10553, eq. (8) and its relaxation; with the skip
connection as in Wang, Hua, Candès, Pilanci 2022, arXiv 2209.15265)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

PROGRAMS = ("relaxed", "exact")
# Statuses that count as solved; cvxpy's optimal_inaccurate and every other status are solver failures.
SOLVED = ("optimal",)


@dataclass(frozen=True)
class Solution:
    """One solve: status, which solver gave it, objective, the skip weights w0 (None without skip), the
    positive neurons U (d, P) and negative ones U' (d, P; zero for the relaxed program), seconds."""

    status: str
    solver: str
    objective: float
    w0: np.ndarray | None
    u: np.ndarray | None
    u_neg: np.ndarray | None
    seconds: float

    @property
    def solved(self) -> bool:
        return self.status in SOLVED


def _problem(x: np.ndarray, y: np.ndarray, masks: np.ndarray, program: str, skip: bool):
    """The cvxpy problem and its variables.

    relaxed: min |w0| + Σ_j |u_j|  s.t.  X w0 + Σ_j D_j X u_j = y;
    exact:   min |w0| + Σ_j (|u_j| + |u'_j|)  s.t.  X w0 + Σ_j D_j X (u_j − u'_j) = y,
             (2D_j − I) X u_j >= 0, (2D_j − I) X u'_j >= 0  (the neurons keep their pattern).
    Σ_j D_j X u_j is the row sum of masks ⊙ (X U), so the program stays vectorised over the P groups."""
    import cvxpy as cp

    n, d = x.shape
    patterns = masks.shape[1]
    d_mat = masks.astype(float)
    u = cp.Variable((d, patterns))
    w0 = cp.Variable(d) if skip else None
    fit = cp.sum(cp.multiply(d_mat, x @ u), axis=1)
    norm = cp.sum(cp.norm(u, 2, axis=0))
    u_neg = None
    constraints = []
    if program == "exact":
        u_neg = cp.Variable((d, patterns))
        fit = fit - cp.sum(cp.multiply(d_mat, x @ u_neg), axis=1)
        norm = norm + cp.sum(cp.norm(u_neg, 2, axis=0))
        sign = 2.0 * d_mat - 1.0
        constraints += [cp.multiply(sign, x @ u) >= 0, cp.multiply(sign, x @ u_neg) >= 0]
    elif program != "relaxed":
        raise ValueError(f"unknown program {program!r} (one of {', '.join(PROGRAMS)})")
    if skip:
        fit = fit + x @ w0
        norm = norm + cp.norm(w0, 2)
    constraints.insert(0, fit == y)
    return cp.Problem(cp.Minimize(norm), constraints), w0, u, u_neg


def _solver_options(name: str, solver: Mapping) -> dict:
    """cvxpy keyword options of one solver from the section's solver settings."""
    if name == "CLARABEL":
        tol = float(solver["tolerance"])
        return {
            "max_iter": int(solver["max_iterations"]),
            "tol_gap_abs": tol,
            "tol_gap_rel": tol,
            "tol_feas": tol,
        }
    if name == "SCS":
        eps = float(solver["scs_eps"])
        return {"eps_abs": eps, "eps_rel": eps, "max_iters": int(solver["scs_max_iterations"])}
    raise ValueError(f"unknown solver {name!r}")


def _solve_with(problem, name: str, solver: Mapping) -> str:
    """Solve with one solver; its status (a SolverError is the status 'solver_error')."""
    import warnings

    import cvxpy as cp

    try:
        with warnings.catch_warnings():  # an inaccurate solution is recorded by its status, not a warning
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver=name, **_solver_options(name, solver))
    except cp.error.SolverError:
        return "solver_error"
    return str(problem.status)


def solve_program(
    x: np.ndarray, y: np.ndarray, masks: np.ndarray, program: str, skip: bool, solver: Mapping
) -> Solution:
    """Solve one program with the primary solver, and with the fallback (SCS at a tight eps) when the primary
    does not report 'optimal'. A status other than 'optimal' is returned as it is: the caller records it as
    a solver failure, never as a failed recovery."""
    start = time.perf_counter()
    problem, w0, u, u_neg = _problem(x, y, masks, program, skip)
    used = solver["name"]
    status = _solve_with(problem, used, solver)
    if status not in SOLVED and solver["fallback"] != "none":
        used = solver["fallback"]
        status = _solve_with(problem, used, solver)

    def value(variable):
        if variable is None:
            return None
        if variable.value is None:
            return np.full(variable.shape, np.nan)
        return np.asarray(variable.value, dtype=float)

    objective = float(problem.value) if problem.value is not None else float("nan")
    u_value = value(u)
    neg = value(u_neg) if u_neg is not None else np.zeros_like(u_value)
    return Solution(status, used, objective, value(w0), u_value, neg, time.perf_counter() - start)


def planted_weights(
    d: int, patterns: int, w: np.ndarray, skip: bool, planted: int | None
) -> tuple[np.ndarray | None, np.ndarray]:
    """The planted model as the programs' variables: (w0, U) = (w, 0) with skip, else (None, U) with
    column ``planted`` of U equal to w."""
    u = np.zeros((d, patterns))
    if skip:
        return np.asarray(w, dtype=float), u
    u[:, planted] = w
    return None, u


def recovered(solution: Solution, w: np.ndarray, skip: bool, planted: int | None, atol: float) -> bool:
    """The recovery criterion: every variable within ``atol`` (entrywise; numpy.allclose, rtol 1e-5) of the
    planted model — w0 = w and U = U' = 0 with skip, U = w in the planted pattern's column and 0 elsewhere
    without. Only meaningful for a solved program."""
    d, patterns = solution.u.shape
    w0, u = planted_weights(d, patterns, w, skip, planted)
    close = np.allclose(solution.u, u, atol=atol) and np.allclose(solution.u_neg, 0.0, atol=atol)
    if skip:
        close = close and np.allclose(solution.w0, w0, atol=atol)
    return bool(close)


def distance(solution: Solution, w: np.ndarray, skip: bool, planted: int | None) -> float:
    """|w0 − w| with skip, |u_* − u'_* − w| (the planted pattern's net neuron) without."""
    if skip:
        return float(np.linalg.norm(solution.w0 - w))
    return float(np.linalg.norm(solution.u[:, planted] - solution.u_neg[:, planted] - w))
