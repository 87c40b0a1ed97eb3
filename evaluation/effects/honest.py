"""Pre-trend sensitivity in the style of Rambachan & Roth (2023), "A More Credible Approach to Parallel Trends".

A pre-trend test that does not reject does not prove parallel trends: with 7-28 schools it has little power.
Rambachan & Roth instead bound the effect under explicit limits on how far the trends could diverge after
coverage, relative to what the pre-periods show. Inputs: event-study coefficients ``betahat`` (pre periods
e = -numPre..-2, the reference e = -1 omitted, then post periods e = 0..numPost-1) and their covariance
``sigma``; the target is ``theta = l' tau_post`` (``l`` = e_0 for the first covered year, or equal weights
for the average post effect). ``delta`` is the bias (difference in trends) with delta_{-1} = 0.

Relative magnitudes, Delta^RM(Mbar)
    every post-period change |delta_{t+1} - delta_t| (t >= -1) is at most Mbar times the largest pre-period
    change m = max_{s < -1} |delta_{s+1} - delta_s|. Identified set (population): theta in
    l' beta_post +- Mbar m S with S = sum_j |sum_{t >= j} l_t| (each post change moves delta by at most
    Mbar m). Confidence interval: the method and defaults of HonestDiD's ``computeConditionalCS_DeltaRM`` (the R
    package's default for Delta^RM, "C-LF"). Delta^RM(Mbar) is the union over the location and sign of the
    largest pre-period change; for one location the restriction is linear, and a candidate theta is tested on
    the moments that involve the post periods (the package's ``postPeriodMomentsOnly``)
    y(theta) = A betahat - a theta - X nu <= 0, nu the rest of tau_post (a nuisance), with the
    conditional-least-favourable hybrid test of Andrews, Roth & Pakes: statistic
    eta* = min_nu max_i (y_i - X_i nu) / sd_i; the first stage rejects when eta* exceeds the least-favourable
    critical value (the 1 - kappa quantile of eta* at mean zero, kappa = alpha / 10, simulated with the
    package's 1000 draws of numpy's RandomState(0)); otherwise eta* is compared with the 1 - (alpha - kappa) /
    (1 - kappa) quantile of a normal truncated to where the same dual vertex stays optimal (and, with more than
    one post period, below the first-stage value; the package does not truncate there with one post period,
    and neither do we). theta is in the set when some location accepts it; the interval runs from the smallest
    to the largest accepted point of the package's grid (1000 points on +-20 se(l' beta_post)). The linear
    program is solved by enumerating the vertices of its dual (at most C(2 numPost, numPost)), vectorised over
    the grid: a whole Mbar grid takes a fraction of a second where the package takes 15-60 s per Mbar. One
    deviation: while an end point of the grid is accepted we test the next block of points beyond it (the
    package then reports its grid's end and warns that the interval is open). Tested against the package
    (``tests/data/honestdid_rm/``: the same grid points, to within one grid step, on 6 examples) and for
    ~95 % coverage at Mbar = 0.
Smoothness, Delta^SD(M)
    the slope of the differential trend changes by at most M between consecutive periods:
    |(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M (M = 0: a linear pre-trend extrapolated).
    Interval: the optimal fixed-length confidence interval (FLCI, the paper's method for Delta^SD): among
    affine estimators l' beta_post + w' beta_pre, the one whose worst-case bias b(w) over Delta^SD(M) (closed
    form: M ||(A^+)' v||_1, A the second-difference operator) and standard error s(w) give the shortest half-length s(w) cv_alpha(b(w) / s(w)), cv_alpha(t) the
    1 - alpha quantile of |N(t, 1)|. Tested against ``honestdid.find_optimal_flci`` (fixture in tests/data).
No restriction (``none``)
    the usual interval l' beta_post +- z se under exact parallel trends.

Finding: the breakdown value of Mbar -- the largest Mbar on the grid whose interval still excludes 0 -- gives
"the effect stays positive unless post-period violations exceed Mbar = ... times the largest pre-period one".
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

__all__ = ["rm_identified_set", "rm_interval", "original_interval", "RM_MAX_POST", "sd_flci", "sensitivity",
           "pretrend_sensitivity_frame", "breakdown_mbar", "sensitivity_sentences", "PRETREND_SENSITIVITY_COLUMNS", "MBAR_GRID", "M_GRID_PP",
           "event_study_inputs", "HonestInputs", "cs_pretrend_sensitivity"]

PRETREND_SENSITIVITY_COLUMNS = ("level", "estimand", "restriction", "M", "ci_low", "ci_high", "status",
                                "reason_vi", "reason_en")
#: Relative-magnitude grid (Mbar, multiples of the largest pre-period change).
MBAR_GRID = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
#: Smoothness grid (M, percentage points of change in the slope per year).
M_GRID_PP = (0.0, 0.25, 0.5, 1.0, 2.0)


# ------------------------------------------------------------------------------------------------------------
# building blocks
# ------------------------------------------------------------------------------------------------------------
def _full(delta_pre_post: np.ndarray, num_pre: int) -> np.ndarray:
    """Insert delta_{-1} = 0 between the pre and post parts."""
    return np.insert(delta_pre_post, num_pre, 0.0)


def _first_diff_matrix(num_pre: int, num_post: int) -> np.ndarray:
    """Rows: delta_{t+1} - delta_t over the full sequence (reference included), columns the free deltas."""
    T = num_pre + num_post
    A = np.zeros((T, T + 1))
    for r in range(T):
        A[r, r], A[r, r + 1] = -1.0, 1.0
    return np.delete(A, num_pre, axis=1)


def _second_diff_matrix(num_pre: int, num_post: int) -> np.ndarray:
    T = num_pre + num_post
    A = np.zeros((T - 1, T + 1))
    for r in range(T - 1):
        A[r, r], A[r, r + 1], A[r, r + 2] = 1.0, -2.0, 1.0
    return np.delete(A, num_pre, axis=1)


def _check(betahat, sigma, num_pre: int, num_post: int, l_vec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = np.asarray(betahat, dtype=float).ravel()
    S = np.asarray(sigma, dtype=float)
    l = np.asarray(l_vec, dtype=float).ravel()
    if num_pre < 1 or num_post < 1:
        raise ValueError(f"pre-trend sensitivity: needs at least one pre and one post period (got {num_pre}, {num_post})")
    if len(b) != num_pre + num_post or S.shape != (len(b), len(b)) or len(l) != num_post:
        raise ValueError(f"pre-trend sensitivity: betahat ({len(b)}), sigma {S.shape} and l_vec ({len(l)}) do not "
                         f"match {num_pre} pre and {num_post} post periods")
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(S))):
        raise ValueError("pre-trend sensitivity: betahat or sigma has a missing value")
    return b, S, l


def _rm_slack(l: np.ndarray) -> float:
    """S = sum_j |sum_{t >= j} l_t|: the largest |l' delta_post| when every post change is at most 1."""
    return float(np.sum(np.abs(np.cumsum(l[::-1])[::-1])))


def rm_identified_set(beta, num_pre: int, num_post: int, l_vec, mbar: float) -> tuple[float, float]:
    """Identified set of theta = l' tau under Delta^RM(mbar) when the coefficients ``beta`` are known."""
    b, _, l = _check(beta, np.zeros((len(np.ravel(beta)),) * 2), num_pre, num_post, l_vec)
    d = _first_diff_matrix(num_pre, 0) @ b[:num_pre]  # the num_pre pre-period changes (last: 0 - delta_{-2})
    m = float(np.max(np.abs(d)))
    c = float(l @ b[num_pre:])
    half = mbar * m * _rm_slack(l)
    return c - half, c + half


def original_interval(betahat, sigma, num_pre: int, num_post: int, l_vec, alpha: float = 0.05) -> tuple[float, float]:
    """The usual interval under exact parallel trends: l' beta_post +- z_{1 - alpha/2} se (the table's ``none`` row;
    the package's ``constructOriginalCS``)."""
    b, S, l = _check(betahat, sigma, num_pre, num_post, l_vec)
    c = float(l @ b[num_pre:])
    half = float(stats.norm.ppf(1 - alpha / 2) * np.sqrt(l @ S[num_pre:, num_pre:] @ l))
    return c - half, c + half


#: Largest number of post periods for the Delta^RM interval: its test enumerates the C(2 numPost, numPost)
#: candidate vertices of a small linear program's dual (924 at 6; the review uses 3).
RM_MAX_POST = 6


def _rm_post_moments(num_pre: int, num_post: int, mbar: float, r: int, sign: float) -> np.ndarray:
    """The moments of Delta^RM(mbar) that involve the post periods, with the largest pre-period change at row ``r``
    of the first differences (pre change r: delta_{r+1} - delta_r over pre periods and reference) and of sign ``sign``:
    +-(delta_{t+1} - delta_t) - mbar sign (pre change r) <= 0 for t = -1..numPost-2, the + rows first (the
    package's order: the simulated first-stage value depends on it). Columns are the free deltas (reference
    dropped), so the moments of the data are this matrix times betahat minus theta's part."""
    D = _first_diff_matrix(num_pre, num_post)
    post = D[num_pre:]
    v = sign * D[r]
    return np.vstack([post - mbar * v, -post - mbar * v])


def _dual_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Vertices of {lam >= 0 : lam' sd = 1, X' lam = 0}, one a row (duplicates removed).

    eta*(y) = min_{tau, e} {e : y - X tau <= e sd} = max over these vertices of lam' y (LP duality), so the test
    statistic, its argmax and the argmax's region all come from a small matrix product; every vertex is a basic
    solution W_B' lam_B = e_1 of W = [sd, X] on n = 1 + X's columns rows B."""
    W = np.column_stack([sd, X])
    m, n = W.shape
    subsets = np.array(list(combinations(range(m), n)))
    WB = W[subsets]  # (k, n, n): rows B of W
    scale = np.prod(np.linalg.norm(WB, axis=2), axis=1)
    ok = np.abs(np.linalg.det(WB)) > 1e-10 * scale
    subsets, WB = subsets[ok], WB[ok]
    e1 = np.zeros((len(WB), n, 1))
    e1[:, 0] = 1.0
    lamB = np.linalg.solve(np.swapaxes(WB, 1, 2), e1)[..., 0]
    keep = np.all(lamB >= -1e-9 * np.abs(lamB).max(axis=1, keepdims=True), axis=1)
    lam = np.zeros((int(keep.sum()), m))
    np.put_along_axis(lam, subsets[keep], np.clip(lamB[keep], 0.0, None), axis=1)
    return np.unique(np.round(lam, 12), axis=0)


@dataclass(frozen=True)
class _RMLocation:
    """The C-LF test of Delta^RM at one location (largest pre change r, sign) for every theta: moments
    y(theta) = Y - a theta - X nu <= 0, covariance ``SigmaY``, ``lam`` the dual vertices of the program in nu,
    ``lf_cv`` the first stage's critical value; ``nuisance``: more than one post period (X has columns)."""

    Y: np.ndarray
    a: np.ndarray
    SigmaY: np.ndarray
    lam: np.ndarray
    lf_cv: float
    nuisance: bool

    def accepts(self, theta: np.ndarray, alpha: float, kappa: float) -> np.ndarray:
        lam = self.lam
        V = (lam @ self.Y)[:, None] - (lam @ self.a)[:, None] * theta[None, :]  # lam_v' y(theta)
        j = np.argmax(V, axis=0)
        cols = np.arange(len(theta))
        eta = V[j, cols]                                   # the statistic eta*(theta)
        C = lam @ self.SigmaY @ lam.T
        var = np.diag(C)[j]                                # variance of the maximising lam' y
        # conditional on the maximiser staying the maximiser along y = c eta + z (c = Sigma lam / var): every other
        # vertex mu must keep mu' y <= eta, i.e. (mu' c - 1) eta <= -mu' z -> truncation [vlo, vup] of eta
        safe = np.where(var > 0, var, 1.0)
        A = C[:, j] / safe[None, :]                        # mu' c
        B = V - A * eta[None, :]                           # mu' z
        with np.errstate(divide="ignore", invalid="ignore"):
            q = B / (1.0 - A)
        low, high = A < 1 - 1e-10, A > 1 + 1e-10
        vlo = np.where(low, q, -np.inf).max(axis=0)
        vup = np.where(high, q, np.inf).min(axis=0)
        if self.nuisance:  # the second stage conditions on passing the first (the package: with nuisance only)
            vup = np.minimum(vup, self.lf_cv)
        sd = np.sqrt(safe)
        zlo, zup, stat = vlo / sd, vup / sd, eta / sd
        size = (alpha - kappa) / (1 - kappa)
        cv = np.maximum(0.0, _truncnorm_quantile(1 - size, zlo, zup))
        reject = stat > cv
        if self.nuisance:  # outside its own truncation (rounding only) the package does not reject
            reject &= (zlo <= stat) & (stat <= zup)
        reject = np.where(var > np.finfo(float).eps, reject, eta > 0)  # a degenerate lam' y: reject if positive
        return ~(reject | (eta > self.lf_cv))               # first stage: the least-favourable test at kappa


def _truncnorm_quantile(p: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """p-quantile of N(0, 1) truncated to [lo, hi] (lo when the interval is empty or a point)."""
    out = np.array(lo, dtype=float, copy=True)
    both = np.isneginf(lo) & np.isposinf(hi)
    out[both] = stats.norm.ppf(p)
    mid = (lo < hi) & ~both
    if mid.any():
        out[mid] = stats.truncnorm.ppf(p, lo[mid], hi[mid])
    return out


def _rm_locations(b: np.ndarray, S: np.ndarray, num_pre: int, num_post: int, l: np.ndarray, mbar: float,
                  kappa: float, lf_sims: int, seed: int) -> list[_RMLocation]:
    # theta = l' tau_post; the rest of tau_post is the nuisance: tau = l theta / l'l + N nu with N a basis of l's
    # orthogonal complement (any basis: the test depends only on the column space of X)
    N = np.linalg.svd(l[None, :])[2][1:].T
    out = []
    # at mbar = 0 the moments do not involve the pre periods: every location gives the same test
    for r in range(num_pre if mbar else 1):
        for sign in (1.0, -1.0) if mbar else (1.0,):
            A = _rm_post_moments(num_pre, num_post, mbar, r, sign)
            Apost = A[:, num_pre:]
            SigmaY = A @ S @ A.T
            sd = np.sqrt(np.clip(np.diag(SigmaY), 0, None))
            if np.any(sd <= 0):
                raise ValueError("pre-trend sensitivity: a relative-magnitude moment has no variance")
            X = Apost @ N
            lam = _dual_vertices(sd, X)
            # least-favourable critical value: the 1 - kappa quantile of eta* at mean zero, simulated as the
            # package does (numpy RandomState(seed), lf_sims draws), so the two agree draw for draw
            xi = np.random.RandomState(seed).multivariate_normal(np.zeros(len(A)), SigmaY, size=lf_sims)
            lf_cv = float(np.quantile((xi @ lam.T).max(axis=1), 1 - kappa))
            out.append(_RMLocation(A @ b, Apost @ l / float(l @ l), SigmaY, lam, lf_cv, nuisance=num_post > 1))
    return out


def rm_interval(betahat, sigma, num_pre: int, num_post: int, l_vec, mbar: float, alpha: float = 0.05, *,
                grid_points: int = 1000, grid: tuple[float, float] | None = None, hybrid_kappa: float | None = None,
                lf_sims: int = 1000, seed: int = 0) -> tuple[float, float]:
    """Confidence interval for theta = l' tau under Delta^RM(mbar): the conditional-least-favourable hybrid test
    of Andrews, Roth & Pakes inverted over a theta grid, the union over the location and sign of the largest
    pre-period change -- the method and defaults of HonestDiD's ``computeConditionalCS_DeltaRM`` (module
    docstring). ``grid`` (default +-20 se(l' beta_post) around 0, ``grid_points`` points) is extended by blocks of
    the same spacing while an end point is accepted. Returns the smallest and largest accepted grid points;
    (nan, nan) when none is accepted, (-inf or inf) when the set stays open after 100 blocks."""
    b, S, l = _check(betahat, sigma, num_pre, num_post, l_vec)
    if not mbar >= 0:
        raise ValueError(f"pre-trend sensitivity: Mbar must be 0 or more (got {mbar})")
    if num_post > RM_MAX_POST:
        raise ValueError(f"pre-trend sensitivity: the relative-magnitude interval takes at most {RM_MAX_POST} post "
                         f"periods (got {num_post})")
    kappa = alpha / 10 if hybrid_kappa is None else float(hybrid_kappa)
    locations = _rm_locations(b, S, num_pre, num_post, l, float(mbar), kappa, lf_sims, seed)

    def accepted(theta: np.ndarray) -> np.ndarray:
        ok = np.zeros(len(theta), dtype=bool)
        for loc in locations:
            ok |= loc.accepts(theta, alpha, kappa)
        return ok

    if grid is None:
        half = 20 * float(np.sqrt(l @ S[num_pre:, num_pre:] @ l))
        grid = (-half, half)
    theta = np.linspace(grid[0], grid[1], grid_points)
    ok = accepted(theta)
    points = [theta[ok]]
    step = theta[1] - theta[0]
    still_open = []
    for edge, is_open, direction in ((theta[0], ok[0], -1.0), (theta[-1], ok[-1], 1.0)):
        for _ in range(100):  # the set reaches the grid's end (the package stops there): test the next block
            if not is_open:
                break
            block = edge + direction * step * np.arange(1, grid_points + 1)
            ok_block = accepted(block)
            points.append(block[ok_block])
            edge, is_open = block[-1], bool(ok_block[-1])
        still_open.append(is_open)
    accepted_points = np.concatenate(points)
    if len(accepted_points) == 0:
        return float("nan"), float("nan")
    return (-np.inf if still_open[0] else float(accepted_points.min()),
            np.inf if still_open[1] else float(accepted_points.max()))


def _cv_folded(t: float, alpha: float) -> float:
    """1 - alpha quantile of |N(t, 1)|: the c with Phi(c - t) - Phi(-c - t) = 1 - alpha."""
    t = abs(float(t))
    if t == 0:
        return float(stats.norm.ppf(1 - alpha / 2))
    f = lambda c: stats.norm.cdf(c - t) - stats.norm.cdf(-c - t) - (1 - alpha)  # noqa: E731
    return float(optimize.brentq(f, t, t + 10.0, xtol=1e-12))


def _bias_operator(num_pre: int, num_post: int) -> np.ndarray:
    """P with max_{delta in Delta^SD(M)} v' delta = M ||P v||_1 for v orthogonal to the linear trends.

    The second differences eta = A delta (A of full row rank T - 1, its null space the linear trends through
    the reference) range freely over [-M, M]^(T-1), and delta = A^+ eta + k * trend; so v' delta =
    (A^+' v)' eta and the maximum is M times the l1 norm of A^+' v."""
    A = _second_diff_matrix(num_pre, num_post)
    return np.linalg.pinv(A).T


def sd_flci(betahat, sigma, num_pre: int, num_post: int, l_vec, M: float,
            alpha: float = 0.05) -> tuple[float, float]:
    """Optimal FLCI for theta under Delta^SD(M) (module docstring). Returns (ci_low, ci_high)."""
    b, S, l = _check(betahat, sigma, num_pre, num_post, l_vec)
    P = _bias_operator(num_pre, num_post)
    # linear trends through the reference (delta_t = k (t + 1)) are in Delta^SD(M) for every M: the estimator's
    # weights must not load on them, else the bias is unbounded -> one linear constraint on w
    et = np.r_[np.arange(-num_pre - 1, -1), np.arange(0, num_post)].astype(float) + 1.0  # t + 1
    lin_pre, lin_post = et[:num_pre], et[num_pre:]
    target = -float(l @ lin_post)
    # w = w0 + N z with w0 the least-norm solution of lin_pre' w = target and N a basis of its null space
    w0 = lin_pre * target / float(lin_pre @ lin_pre)
    N = np.linalg.svd(lin_pre[None, :])[2][1:].T if num_pre > 1 else np.zeros((1, 0))

    def parts(z: np.ndarray) -> tuple[float, float, np.ndarray]:
        w = w0 + (N @ z if N.shape[1] else 0.0)
        v = np.r_[w, l]
        sd = float(np.sqrt(max(v @ S @ v, 1e-300)))
        return float(M * np.abs(P @ v).sum()), sd, v

    def half_length(z: np.ndarray) -> float:
        bias, sd, _ = parts(z)
        return sd * _cv_folded(bias / sd, alpha) if np.isfinite(bias) else 1e300

    k = N.shape[1]
    best = None
    starts = [np.zeros(k)] + ([np.linalg.lstsq(N, -w0, rcond=None)[0]] if k else [])
    for z0 in starts:
        if k == 0:
            best = (half_length(z0), z0)
            break
        r = optimize.minimize(half_length, z0, method="Nelder-Mead",
                              options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 2000 * k, "maxfev": 4000 * k})
        if best is None or r.fun < best[0]:
            best = (float(r.fun), r.x)
    chi, z = best
    _, _, v = parts(z)
    centre = float(v @ b)
    return centre - chi, centre + chi


# ------------------------------------------------------------------------------------------------------------
# from an event study to the table
# ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HonestInputs:
    """Event-study coefficients in the Rambachan-Roth layout: ``betahat`` (pre e < -1 ascending, then post
    e >= 0), ``sigma``, ``event_times`` (same order), ``num_pre``, ``num_post``."""

    betahat: np.ndarray
    sigma: np.ndarray
    event_times: tuple[int, ...]
    num_pre: int
    num_post: int


def event_study_inputs(estimates: Sequence[float], vcov: np.ndarray, event_times: Sequence[int], *,
                       max_post: int | None = None, min_pre: int | None = None) -> HonestInputs:
    """Arrange event-time estimates and covariance (any order, the reference e = -1 absent or with estimate 0) into
    ``HonestInputs``. Pre periods must be consecutive up to e = -2 and post periods consecutive from e = 0;
    ``max_post`` keeps e <= max_post and ``min_pre`` e >= min_pre (the extreme event times rest on few cohorts)."""
    e = np.asarray(event_times, dtype=float)
    est = np.asarray(estimates, dtype=float)
    V = np.asarray(vcov, dtype=float)
    keep = (e != -1) & np.isfinite(est) & np.isfinite(np.diag(V))
    if max_post is not None:
        keep &= e <= max_post
    if min_pre is not None:
        keep &= e >= min_pre
    idx = np.flatnonzero(keep)
    idx = idx[np.argsort(e[idx])]
    ee = e[idx].astype(int)
    pre, post = ee[ee < -1], ee[ee >= 0]
    if len(pre) == 0 or len(post) == 0:
        raise ValueError("pre-trend sensitivity: needs event times before -1 and from 0 on")
    if not (np.array_equal(pre, np.arange(pre.min(), -1)) and np.array_equal(post, np.arange(0, post.max() + 1))):
        raise ValueError(f"pre-trend sensitivity: event times must be consecutive around the reference -1, got {list(ee)}")
    return HonestInputs(est[idx], V[np.ix_(idx, idx)], tuple(int(x) for x in ee), len(pre), len(post))


def _targets(num_post: int) -> dict[str, np.ndarray]:
    return {"e0": np.r_[1.0, np.zeros(num_post - 1)], "post_average": np.full(num_post, 1.0 / num_post)}


def sensitivity(inputs: HonestInputs, *, target: str = "post_average", mbar_grid: Sequence[float] = MBAR_GRID,
                m_grid: Sequence[float] = tuple(x / 100 for x in M_GRID_PP), alpha: float = 0.05) -> pd.DataFrame:
    """Bounds on the target under both restrictions: rows (restriction, M, ci_low, ci_high) in outcome units;
    restriction ``none`` (the original interval), ``relative_magnitude`` (M = Mbar) and ``smoothness`` (M)."""
    l = _targets(inputs.num_post)[target]
    b, S, npre, npost = inputs.betahat, inputs.sigma, inputs.num_pre, inputs.num_post
    def bounds(fn, m: float) -> tuple[float, float]:
        try:  # a numerically degenerate case (e.g. no root for the folded-normal critical value) is a row
            return fn(b, S, npre, npost, l, m, alpha)  # without bounds (not_estimable), not a failed review
        except (ValueError, np.linalg.LinAlgError, FloatingPointError):
            return float("nan"), float("nan")

    rows = [("none", 0.0, *original_interval(b, S, npre, npost, l, alpha))]
    rows += [("relative_magnitude", float(m), *bounds(rm_interval, float(m))) for m in mbar_grid]
    rows += [("smoothness", float(m), *bounds(sd_flci, float(m))) for m in m_grid]
    return pd.DataFrame(rows, columns=["restriction", "M", "ci_low", "ci_high"]).assign(estimand=target)


def breakdown_mbar(table: pd.DataFrame) -> tuple[float | None, str]:
    """The largest Mbar of the relative-magnitude rows whose interval excludes 0, and the sign of the effect
    there (``positive``/``negative``); (None, "") when even Mbar = 0 includes 0."""
    rm = table.loc[table["restriction"] == "relative_magnitude"].sort_values("M")
    best, sign = None, ""
    for r in rm.itertuples(index=False):
        if r.ci_low > 0 or r.ci_high < 0:
            s = "positive" if r.ci_low > 0 else "negative"
            if sign and s != sign:
                break
            best, sign = float(r.M), s
        else:
            break
    return best, sign


def pretrend_sensitivity_frame(level: str, inputs: HonestInputs | None, *, target: str = "post_average",
                               reason: tuple[str, str] | None = None, **options: Any) -> pd.DataFrame:
    """The evidence table ``pretrend_sensitivity`` for one level (columns ``PRETREND_SENSITIVITY_COLUMNS``,
    bounds in percentage points). ``inputs`` None (no event study, too few pre periods): one
    ``not_estimable`` row with ``reason`` = (vi, en)."""
    if inputs is None:
        vi, en = reason or ("không có nghiên cứu sự kiện với giai đoạn trước để phân tích độ nhạy",
                            "no event study with pre-periods to run the sensitivity analysis")
        return pd.DataFrame([{"level": level, "estimand": target, "restriction": "none", "M": 0.0, "ci_low": np.nan,
                              "ci_high": np.nan, "status": "not_estimable", "reason_vi": vi, "reason_en": en}],
                            columns=list(PRETREND_SENSITIVITY_COLUMNS))
    t = sensitivity(inputs, target=target, **options)
    t["ci_low"] *= 100
    t["ci_high"] *= 100
    t.loc[t["restriction"] == "smoothness", "M"] *= 100  # pp per year of change in slope
    ok = np.isfinite(t["ci_low"]) & np.isfinite(t["ci_high"])
    t["status"] = np.where(ok, "ok", "not_estimable")
    t["reason_vi"] = np.where(ok, "", "không tính được khoảng")
    t["reason_en"] = np.where(ok, "", "the interval cannot be computed")
    t["level"] = level
    return t.loc[:, list(PRETREND_SENSITIVITY_COLUMNS)].reset_index(drop=True)


def sensitivity_sentences(table: pd.DataFrame) -> dict[str, list[str]]:
    """One finding per level from ``pretrend_sensitivity`` rows: the breakdown Mbar, in Vietnamese and English."""
    vi: list[str] = []
    en: list[str] = []
    for level, g in table.groupby("level", sort=True):
        if (g["status"] != "ok").all():
            vi.append(f"{level}: {g['reason_vi'].iloc[0]}.")
            en.append(f"{level}: {g['reason_en'].iloc[0]}.")
            continue
        best, sign = breakdown_mbar(g)
        grid_max = float(g.loc[g["restriction"] == "relative_magnitude", "M"].max())
        if best is None:
            vi.append(f"{level}: khoảng tin cậy của tác động đã chứa 0 ngay cả khi xu hướng song song đúng hoàn toàn "
                      "(M̄ = 0): chưa kết luận được về dấu của tác động.")
            en.append(f"{level}: the effect's interval includes 0 even with exactly parallel trends (M̄ = 0): its sign "
                      "is not established.")
            continue
        pos_vi, pos_en = ("dương", "positive") if sign == "positive" else ("âm", "negative")
        more = best >= grid_max
        bv = f"{best:g}".replace(".", ",")
        vi.append(f"{level}: tác động vẫn {pos_vi} trừ khi sai lệch xu hướng sau khi có GV tư vấn vượt quá "
                  f"M̄ = {bv} lần sai lệch lớn nhất của giai đoạn trước" + (" (giá trị lớn nhất đã xét)" if more else "")
                  + " (Rambachan & Roth 2023).")
        en.append(f"{level}: the effect stays {pos_en} unless post-period violations of parallel trends exceed "
                  f"M̄ = {best:g} times the largest pre-period one" + (" (the largest value examined)" if more else "")
                  + " (Rambachan & Roth 2023).")
    return {"vi": vi, "en": en}


def cs_pretrend_sensitivity(panel: pd.DataFrame, level: str, *, control: str = "notyet", inference: str | None = None,
                            outcome: str = "rate", unit: str = "school_id", time: str = "year",
                            group: str = "first_covered", max_post: int | None = 2, min_pre: int | None = -4,
                            target: str = "post_average", **options: Any) -> pd.DataFrame:
    """``pretrend_sensitivity`` rows of one level from the review's Callaway-Sant'Anna event study.

    The event study is refitted with a **universal** base year (every coefficient relative to e = -1, as
    Rambachan & Roth require; the varying base of R did's default makes pre-period coefficients short
    differences) with the review's comparison group and inference (default ``RECOMMENDED_INFERENCE``: the
    jackknife covariance), aggregated by event time; the window e = ``min_pre``..``max_post`` (default -4..2,
    the event study's window; the extreme event times rest on one or two cohorts) bounds the average effect of
    the first three covered years. A fit that cannot be made, or an event study without pre periods, gives one
    ``not_estimable`` row with the reason.
    """
    import warnings

    from .did import RECOMMENDED_INFERENCE, staggered_did

    inference = inference or RECOMMENDED_INFERENCE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = staggered_did(panel, outcome=outcome, unit=unit, time=time, group=group, control=control,
                                base_period="universal", inference=inference)
            dyn = fit.aggregate("dynamic")
        comp = dyn.to_frame()
        inputs = event_study_inputs(comp["estimate"].to_numpy(), dyn.vcov, comp["event_time"].to_numpy(),
                                    max_post=max_post, min_pre=min_pre)
    except (ValueError, np.linalg.LinAlgError) as exc:
        why_vi = getattr(exc, "reason_vi", None) or "mô hình không ước lượng được trên dữ liệu này"
        why_en = getattr(exc, "reason_en", None) or str(exc)
        return pretrend_sensitivity_frame(level, None, target=target, reason=(
            f"không phân tích được độ nhạy: {why_vi}", f"the sensitivity analysis cannot be run: {why_en}"))
    return pretrend_sensitivity_frame(level, inputs, target=target, **options)
