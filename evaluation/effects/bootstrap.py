"""Wild cluster bootstrap-t for one coefficient of the absorbed-fixed-effects weighted linear model.

Why: with about 35 schools (clusters) the analytic cluster-robust t test over-rejects; the wild
cluster bootstrap with the null imposed (WCR, "restricted") keeps close to its nominal size with
as few as 10-12 clusters (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017; Roodman,
MacKinnon, Nielsen & Webb 2019, "Fast and wild").

Algorithm (WCR, bootstrap-t, one coefficient j, null ``beta_j = b0``):

1. The model is ``rate ~ regressors + unit effects + time effects`` weighted by ``weights``. Fixed
   effects nested in the clusters (school effects, errors clustered by school) are absorbed by the
   within transformation -- exact, because a wild weight is constant within a cluster and so
   commutes with that demeaning; the others (the ~8 year effects) enter as explicit dummy columns
   so that every bootstrap residual is the exact residual of the full model. Everything is then
   multiplied by sqrt(weight) and is ordinary least squares.
2. Restricted fit: regress ``y - x_j b0`` on the other columns; residuals ``u``.
3. For each draw of cluster weights ``v_g`` (Rademacher +-1, or Webb's six-point distribution):
   ``y* = restricted fit + x_j b0 + v_g u``; refit and compute
   ``t* = (beta*_j - b0) / se*_j`` with the same CRV1 formula and small-sample factor as the
   analytic t (:func:`evaluation.effects.fixed_effects.small_sample_factor`). This is done in closed form
   (each t* is a ratio of a linear and the root of a quadratic form in v), never by refitting.
4. p-value: the share of draws with ``|t*| >= |t|`` (symmetric). Ties are counted (to a relative
   1e-9): under WCR the draws v = +1 and v = -1 reproduce the observed statistic exactly, and
   counting them, as a randomization test counts the observed sample, keeps the test from
   over-rejecting when all sign vectors are enumerated. (``wildboottest`` compares with a strict
   ``<`` and so counts them or not depending on rounding.) With Rademacher weights and
   ``2**G <= reps`` all ``2**G`` sign vectors are enumerated instead of drawn (deterministic).
5. Confidence interval: by test inversion -- the set of ``b0`` whose WCR p-value is at least
   ``1 - level``, found by bisection on each side with the same draws (the p-value function is a
   step function, so bounds are exact to the bisection tolerance, 1e-8 standard errors).
   With ``impose_null=False`` (WCU) the interval is the symmetric percentile-t interval
   ``beta +- q*_|t|(level) se`` instead (no inversion needed because the bootstrap DGP does not
   depend on ``b0``); WCR is the default because it has better size with few clusters.

Results are reproducible: ``seed`` fixes the draws (``numpy.random.default_rng(seed)``).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from itertools import product
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.results import EstimateResults, Reported, Summary
from evaluation.effects.fixed_effects import Absorber, _is_nested, _prepare, small_sample_factor

__all__ = ["wild_cluster_bootstrap", "BootstrapResult", "WEIGHT_TYPES", "draw_weights"]

WEIGHT_TYPES = ("rademacher", "webb")
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
_CHUNK = 256
_MAX_DUMMIES = 2000


@dataclass(frozen=True)
class BootstrapResult:
    """A wild cluster bootstrap-t test of one coefficient, with its bootstrap interval (read-only).

    ``estimate`` and the bounds are in the outcome's units; ``t_boot`` holds the bootstrap t
    statistics at the tested null (``null``).
    """

    param: str
    estimate: float
    std_error: float
    null: float
    t_stat: float
    p_value: float
    ci_low: float
    ci_high: float
    level: float
    reps: int
    weights_type: str
    impose_null: bool
    enumerated: bool
    seed: int | None
    n_obs: int
    n_clusters: int
    analytic_p_value: float
    analytic_ci_low: float
    analytic_ci_high: float
    t_boot: np.ndarray = field(repr=False, compare=False)
    ci_method: str = ""

    def __post_init__(self) -> None:
        t = np.array(self.t_boot, dtype=float, copy=True)
        t.flags.writeable = False
        object.__setattr__(self, "t_boot", t)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "t_boot"}
        return d

    def to_frame(self, *, pp: bool = False) -> pd.DataFrame:
        """One row: term, estimate(_pp), ci_low, ci_high, p_value and the analytic counterparts."""
        k = 100.0 if pp else 1.0
        out = pd.DataFrame([{"term": self.param, "estimate": self.estimate * k, "ci_low": self.ci_low * k,
                             "ci_high": self.ci_high * k, "p_value": self.p_value,
                             "analytic_ci_low": self.analytic_ci_low * k, "analytic_ci_high": self.analytic_ci_high * k,
                             "analytic_p_value": self.analytic_p_value, "reps": self.reps,
                             "weights_type": self.weights_type}])
        return out.rename(columns={"estimate": "estimate_pp"}) if pp else out

    # -- the results interface (evaluation.results.Results) -------------------------------
    @property
    def params(self) -> pd.Series:
        return pd.Series({self.param: self.estimate}, dtype=float)

    @property
    def std_errors(self) -> pd.Series:
        return pd.Series({self.param: self.std_error}, dtype=float)

    @property
    def pvalues(self) -> pd.Series:
        """The bootstrap p-value of the tested null."""
        return pd.Series({self.param: self.p_value}, dtype=float)

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """The bootstrap interval (at the level it was computed at; another level is an error)."""
        if level is not None and abs(level - self.level) > 1e-12:
            raise ValueError(f"conf_int: the bootstrap interval was computed at level {self.level}, not {level}")
        return pd.DataFrame({"ci_low": [self.ci_low], "ci_high": [self.ci_high]}, index=[self.param])

    @property
    def summary(self) -> Summary:
        return Summary(title=f"Wild cluster bootstrap-t of {self.param}", table=self.to_frame().set_index("term"),
                       notes=tuple(str(self).split("\n")[1:]))

    def reported(self, kind: str = "simple") -> Reported:
        """The bootstrap estimate and interval in percentage points; facts: draws, clusters, method."""
        facts = EstimateResults(estimator="wild_cluster_bootstrap", estimand=self.param, params=self.params,
                                std_errors=self.std_errors, cov_type=self.ci_method,
                                info={"n_obs": self.n_obs, "n_clusters": self.n_clusters, "reps": self.reps,
                                      "weights_type": self.weights_type})
        return Reported(self.to_frame(pp=True), facts)

    def __str__(self) -> str:
        kind = "WCR (null imposed)" if self.impose_null else "WCU (null not imposed)"
        enum = ", all sign vectors enumerated" if self.enumerated else ""
        return (f"Wild cluster bootstrap-t, {kind}, {self.weights_type} weights, {self.reps} draws{enum}, "
                f"G={self.n_clusters}, seed={self.seed}\n"
                f"  {self.param}: estimate {self.estimate:.6g}, t = {self.t_stat:.4g} (H0: = {self.null:g})\n"
                f"  bootstrap p = {self.p_value:.4g}; {self.level:.0%} interval [{self.ci_low:.6g}, {self.ci_high:.6g}]"
                f" ({self.ci_method})\n"
                f"  analytic  p = {self.analytic_p_value:.4g}; interval [{self.analytic_ci_low:.6g}, "
                f"{self.analytic_ci_high:.6g}] (t with G-1 df)")

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(str(self)) + "</pre>"


def draw_weights(weights_type: str, n_clusters: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster weights, shape (n_clusters, reps): Rademacher (+-1 w.p. 1/2) or Webb (six points, 1/6 each)."""
    if weights_type == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=(reps, n_clusters)).T
    if weights_type == "webb":
        return rng.choice(_WEBB, size=(reps, n_clusters)).T
    raise ValueError(f"weights_type must be one of {WEIGHT_TYPES}, got {weights_type!r}")


def _design(frame: pd.DataFrame, *, outcome: str, regressors: Sequence[str], weights: str | None):
    """Weighted OLS design after absorbing the fixed effects nested in the clusters."""
    fe = {"unit": frame["_fe_unit"].to_numpy(), "time": frame["_fe_time"].to_numpy()}
    cl = frame["_cluster"].to_numpy()
    nested = {k: _is_nested(c, cl) for k, c in fe.items()}
    absorbed = [fe[k] for k in ("unit", "time") if nested[k]]
    explicit = [k for k in ("unit", "time") if not nested[k]]
    cols = []
    for i, k in enumerate(explicit):
        c = fe[k]
        L = int(c.max()) + 1
        if L > _MAX_DUMMIES:
            raise ValueError(f"wild_cluster_bootstrap: the {k} effects ({L} levels) are not nested in the clusters "
                             f"and too many to enter as dummies; cluster at the {k} level or coarser")
        start = 0 if (not absorbed and i == 0) else 1
        for lv in range(start, L):
            cols.append((c == lv).astype(float))
    w = frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame))
    y = frame[outcome].to_numpy(dtype=float)
    X = frame[list(regressors)].to_numpy(dtype=float)
    M = np.column_stack([y, X, *cols]) if cols else np.column_stack([y, X])
    M = Absorber(absorbed, w).demean(M) if absorbed else M
    M = M * np.sqrt(w)[:, None]
    return M[:, 0], M[:, 1:], cl


def wild_cluster_bootstrap(data: pd.DataFrame, *, outcome: str = "rate", regressors: Sequence[str] = ("treated",),
                           unit: str = "school_id", time: str = "year", weights: str | None = "graduates",
                           cluster: str | None = "school_id", param: str | None = None, reps: int = 999,
                           weights_type: str = "rademacher", seed: int | None = 2025, impose_null: bool = True,
                           level: float = 0.95, null: float = 0.0, ssc_fixef_k: str = "nested",
                           drop_singletons: bool = True) -> BootstrapResult:
    """Wild cluster bootstrap-t p-value and interval for ``param`` in the absorbed-FE weighted LPM.

    The model and analytic covariance are those of :func:`evaluation.effects.twfe.twfe` with
    ``model="lpm"`` (``regressors`` are the treatment, or the event-study indicators, plus any
    covariates; ``param`` defaults to the first). See the module docstring for the algorithm.
    ``reps`` bootstrap draws (999 by default; all ``2**G`` Rademacher sign vectors when that is
    no more), ``weights_type`` ``"rademacher"`` or ``"webb"`` (better with fewer than ~12
    clusters), ``seed`` for reproducibility, ``impose_null`` WCR (default) or WCU.
    """
    where = "wild_cluster_bootstrap"
    if weights_type not in WEIGHT_TYPES:
        raise ValueError(f"{where}: weights_type must be one of {WEIGHT_TYPES}, got {weights_type!r}")
    if not 0 < level < 1:
        raise ValueError(f"{where}: level must be in (0, 1), got {level!r}")
    if int(reps) < 1:
        raise ValueError(f"{where}: reps must be a positive integer, got {reps!r}")
    regressors = list(regressors)
    param = param or regressors[0]
    if param not in regressors:
        raise ValueError(f"{where}: param {param!r} is not one of the regressors {regressors}")
    cluster = cluster or unit
    frame, _ = _prepare(data, outcome=outcome, regressors=regressors, unit=unit, time=time, weights=weights,
                        cluster=cluster, drop_singletons=drop_singletons, where=where)
    y, Z, cl = _design(frame, outcome=outcome, regressors=regressors, weights=weights)
    G = int(cl.max()) + 1
    ssc, _ = small_sample_factor(n_obs=len(frame), k=len(regressors),
                                 fe_codes=[frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()],
                                 cluster_codes=cl, convention=ssc_fixef_k)
    j = regressors.index(param)
    ZtZi = np.linalg.pinv(Z.T @ Z)
    beta = ZtZi @ (Z.T @ y)
    uhat = y - Z @ beta
    q = Z @ ZtZi[:, j]

    def csum(a: np.ndarray) -> np.ndarray:
        a2 = a if a.ndim == 2 else a[:, None]
        out = np.zeros((G, a2.shape[1]))
        np.add.at(out, cl, a2)
        return out if a.ndim == 2 else out[:, 0]

    se = float(np.sqrt(ssc * np.sum(csum(q * uhat) ** 2)))
    bj = float(beta[j])
    dist = stats.t(G - 1)
    crit = float(dist.ppf(0.5 + level / 2))

    # residual pieces, linear in b0: u(b0) = ua - b0 * ub (WCR) or uhat (WCU)
    if impose_null:
        Zr = np.delete(Z, j, axis=1)
        Pr = np.linalg.pinv(Zr.T @ Zr)
        def mres(v: np.ndarray) -> np.ndarray:
            return v - Zr @ (Pr @ (Zr.T @ v))
        ua, ub = mres(y), mres(Z[:, j])
    else:
        ua, ub = uhat, np.zeros_like(uhat)
    C = csum(q[:, None] * Z)  # G x m
    A_a, A_b = csum(q * ua), csum(q * ub)
    D_a, D_b = csum(Z * ua[:, None]), csum(Z * ub[:, None])

    enumerated = weights_type == "rademacher" and 2 ** G <= reps
    rng = np.random.default_rng(seed)
    if enumerated:
        V_all = np.array(list(product([-1.0, 1.0], repeat=G))).T
        B = V_all.shape[1]
    else:
        V_all, B = None, int(reps)
    na, nb = np.empty(B), np.empty(B)
    saa, sab, sbb = np.empty(B), np.empty(B), np.empty(B)
    for s in range(0, B, _CHUNK):
        b = min(_CHUNK, B - s)
        V = V_all[:, s:s + b] if enumerated else draw_weights(weights_type, G, b, rng)
        na[s:s + b], nb[s:s + b] = A_a @ V, A_b @ V
        Sa = A_a[:, None] * V - C @ (ZtZi @ (D_a.T @ V))
        Sb = A_b[:, None] * V - C @ (ZtZi @ (D_b.T @ V))
        saa[s:s + b], sab[s:s + b], sbb[s:s + b] = (Sa * Sa).sum(0), (Sa * Sb).sum(0), (Sb * Sb).sum(0)

    def tboot(b0: float) -> np.ndarray:
        num = (na - b0 * nb) if impose_null else na
        den2 = ssc * ((saa - 2 * b0 * sab + b0 * b0 * sbb) if impose_null else saa)
        with np.errstate(divide="ignore", invalid="ignore"):
            return num / np.sqrt(np.maximum(den2, 0.0))

    def pval(b0: float) -> float:
        t0 = abs(bj - b0) / se
        tb = np.abs(tboot(b0))
        return float(np.mean(tb >= t0 * (1 - 1e-9)))

    t_obs = (bj - null) / se
    p = pval(null)
    alpha = 1 - level
    if impose_null:
        lo = _invert(pval, bj, -se, crit, alpha)
        hi = _invert(pval, bj, se, crit, alpha)
        method = "inversion of the WCR test"
    else:
        qstar = float(np.quantile(np.abs(tboot(0.0)), level))
        lo, hi = bj - qstar * se, bj + qstar * se
        method = "WCU symmetric percentile-t"
    return BootstrapResult(param=param, estimate=bj, std_error=se, null=float(null), t_stat=float(t_obs), p_value=p,
                           ci_low=float(lo), ci_high=float(hi), level=level, reps=B, weights_type=weights_type,
                           impose_null=impose_null, enumerated=enumerated, seed=seed, n_obs=len(frame), n_clusters=G,
                           analytic_p_value=float(2 * dist.sf(abs(t_obs))), analytic_ci_low=bj - crit * se,
                           analytic_ci_high=bj + crit * se, t_boot=tboot(null), ci_method=method)


def _invert(pval, bj: float, step: float, crit: float, alpha: float) -> float:
    """The bound of {b0 : p(b0) >= alpha} on the side of ``step`` (bisection between accept and reject)."""
    inside = bj
    outside = bj + step * crit
    k = 0
    while pval(outside) >= alpha:
        inside = outside
        outside = bj + step * crit * 2 ** (k + 1)
        k += 1
        if k > 60:
            return float(np.inf * np.sign(step))
    for _ in range(200):
        mid = 0.5 * (inside + outside)
        if pval(mid) >= alpha:
            inside = mid
        else:
            outside = mid
        if abs(outside - inside) <= 1e-8 * abs(step):
            break
    return 0.5 * (inside + outside)
