"""Two-way fixed-effects (school and year) estimators of the effect of counseling coverage.

Public entry points
-------------------
``twfe``            graduate-weighted linear probability model (``model="lpm"``) or binomial logit
                    with average marginal effect (``model="logit"``), unit and time effects absorbed.
``dose_response``   the same linear model with a continuous exposure (trained counselors per 100
                    graduates, or share of students counseled).
``heterogeneity``   the effect by subgroup and a test that the subgroup effects are equal.

Fixed effects are never built as dummy columns: they are *absorbed* by weighted alternating
projections (the within transformation, iterated to a tolerance of 1e-10 on the largest change
in a sweep). For one set of effects one sweep is exact; for a balanced two-way panel two sweeps.

Cluster-robust covariance (CRV1) and its small-sample correction
-----------------------------------------------------------------
``V = c * (X'WX)^-1 (sum_g s_g s_g') (X'WX)^-1`` with ``s_g = sum_{i in g} w_i x~_i e_i`` (the
within-transformed regressors x~ and the residuals e) and

    c = G/(G-1) * (N-1)/(N-K)

where N is the number of observations used, G the number of clusters and K is counted as
fixest counts it by default (``ssc(fixef.K = "nested")``, pyfixest ``ssc(k_fixef="nonnested")``,
the same as Stata's ``reghdfe``): the non-absorbed regressors, plus the levels of every fixed
effect that is *not* nested in the clusters, minus one per additional fixed effect (the
redundant level), while a fixed effect nested in the clusters (school effects with errors
clustered by school) adds only 1 instead of its number of levels. With school and year
effects, errors clustered by school: ``K = k + T`` (k regressors, T years), *not*
``k + S + T - 1`` (the count statsmodels would use on a dummy design, which inflates the
standard errors by 7-8 % with 35 schools and 8 years). ``ssc_fixef_k="none"`` instead counts
only the non-absorbed regressors (``K = k``; pyfixest ``k_fixef="none"``). p-values and
intervals use a t distribution with G-1 degrees of freedom, as fixest does.

Singleton observations (alone in a fixed-effect level) are dropped first, iteratively, as
fixest/pyfixest/reghdfe do by default: they carry no information on the slope but would count
in N.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, special, stats

from evaluation.results import EstimateResults, TestResult

__all__ = ["twfe", "dose_response", "heterogeneity", "TwfeResults", "ESTIMAND_TWFE",
           "small_sample_factor", "FixedEffectsFit"]

ESTIMAND_TWFE = "ATT under homogeneous effects; biased under staggered adoption with dynamic effects"
DEFAULT_TOL = 1e-10
SSC_CONVENTIONS = ("nested", "none")


# ----------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------
def _require_columns(data: pd.DataFrame, columns: Sequence[str | None], *, where: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{where}: data must be a pandas DataFrame (the analysis panel), got {type(data).__name__}")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise ValueError(f"{where}: column(s) {missing} not in the data; columns present: {list(data.columns)}")


def _numeric(data: pd.DataFrame, column: str, *, where: str) -> np.ndarray:
    s = data[column]
    if s.dtype == bool or str(s.dtype) == "boolean":
        s = s.astype("float64")
    try:
        return pd.to_numeric(s, errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (ValueError, TypeError):
        bad = pd.to_numeric(s, errors="coerce").isna() & s.notna()
        row = bad.idxmax()
        raise ValueError(f"{where}: column {column!r} must be numeric; row {_py(row)!r} has value "
                         f"{_py(s.loc[row])!r}") from None


def _py(v: Any) -> Any:
    """A numpy scalar as the plain Python value (for readable messages)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _estimation_sample(data: pd.DataFrame, *, numeric: Sequence[str], keys: Sequence[str],
                       weights: str | None, where: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows usable for estimation: no missing value in the used columns, positive weight.

    Returns the sample (a copy with a fresh index kept as ``_row``) and counts of dropped rows.
    """
    cols = list(dict.fromkeys([*numeric, *keys, *([weights] if weights else [])]))
    _require_columns(data, cols, where=where)
    frame = pd.DataFrame({"_row": data.index})
    for c in dict.fromkeys([*numeric, *([weights] if weights else [])]):
        frame[c] = _numeric(data, c, where=where)
    for c in keys:
        if c not in frame.columns:
            frame[c] = data[c].to_numpy()
    dropped = {}
    miss = frame[cols].isna().any(axis=1).to_numpy()
    dropped["missing"] = int(miss.sum())
    if weights:
        w = frame[weights].to_numpy()
        neg = np.flatnonzero(w < 0)
        if neg.size:
            r = neg[0]
            raise ValueError(f"{where}: weight column {weights!r} must be >= 0; row {_py(frame['_row'].iloc[r])!r} "
                             f"has value {_py(w[r])!r}")
        zero = (w == 0) & ~miss
        dropped["zero_weight"] = int(zero.sum())
        miss = miss | zero
    frame = frame.loc[~miss].reset_index(drop=True)
    if frame.empty:
        raise ValueError(f"{where}: no usable rows (all rows have a missing value in {cols} or zero weight)")
    return frame, dropped


def _codes(values: pd.Series | np.ndarray) -> np.ndarray:
    return pd.factorize(pd.Series(values), sort=True)[0].astype(np.int64)


def _singleton_mask(fe_codes: Sequence[np.ndarray]) -> np.ndarray:
    """Rows kept after iteratively removing observations alone in a fixed-effect level."""
    keep = np.ones(len(fe_codes[0]) if fe_codes else 0, dtype=bool)
    if not fe_codes:
        return keep
    while True:
        changed = False
        for c in fe_codes:
            counts = np.bincount(c[keep], minlength=c.max() + 1)
            single = keep & (counts[c] == 1)
            if single.any():
                keep &= ~single
                changed = True
        if not changed:
            return keep


# ----------------------------------------------------------------------------------------
# absorbing fixed effects
# ----------------------------------------------------------------------------------------
class Absorber:
    """Weighted within transformation for one or more sets of fixed effects.

    ``demean(X)`` returns X minus its weighted projection on the fixed-effect dummies,
    computed by alternating projections (subtract the weighted mean within each level of each
    fixed effect in turn) until the largest change in a full sweep is below ``tol``.
    """

    def __init__(self, fe_codes: Sequence[np.ndarray], weights: np.ndarray, *, tol: float = DEFAULT_TOL,
                 maxiter: int = 10_000):
        self.fe_codes = [np.asarray(c, dtype=np.int64) for c in fe_codes]
        self.weights = np.asarray(weights, dtype=float)
        self.tol, self.maxiter = tol, maxiter
        n = len(self.weights)
        self._agg = []
        for c in self.fe_codes:
            L = int(c.max()) + 1
            S = sparse.csr_matrix((self.weights, (c, np.arange(n))), shape=(L, n))
            denom = np.asarray(S.sum(axis=1)).ravel()
            self._agg.append((S, denom, c))
        self.iterations = 0

    def demean(self, X: np.ndarray) -> np.ndarray:
        X = np.array(X, dtype=float, copy=True)
        vec = X.ndim == 1
        if vec:
            X = X[:, None]
        if not self._agg:
            return X.ravel() if vec else X
        for it in range(1, self.maxiter + 1):
            change = 0.0
            for S, denom, c in self._agg:
                means = (S @ X) / denom[:, None]
                X -= means[c]
                change = max(change, float(np.max(np.abs(means))) if means.size else 0.0)
            if len(self._agg) == 1 or change < self.tol:
                break
        else:
            raise RuntimeError(f"fixed effects not absorbed to tolerance {self.tol} within {self.maxiter} sweeps "
                               f"(last change {change:.3g}): the design may be badly connected")
        self.iterations = it
        return X.ravel() if vec else X


def _is_nested(fe: np.ndarray, cluster: np.ndarray) -> bool:
    """True when every level of ``fe`` lies in a single cluster."""
    pairs = np.unique(fe * (int(cluster.max()) + 1) + cluster)
    return len(pairs) == len(np.unique(fe))


def small_sample_factor(*, n_obs: int, k: int, fe_codes: Sequence[np.ndarray], cluster_codes: np.ndarray,
                        convention: str = "nested") -> tuple[float, int]:
    """Small-sample factor ``G/(G-1) * (N-1)/(N-K)`` of the CRV1 covariance and the K it uses.

    ``convention="nested"`` (fixest's default, pyfixest ``k_fixef="nonnested"``, reghdfe):
    ``K = k + sum_f L_f - (F-1) - sum_{f nested} L_f + #nested`` where the sums run over the F
    absorbed fixed effects with L_f levels and "nested" means every level of f lies in one
    cluster. ``convention="none"``: ``K = k``.
    """
    if convention not in SSC_CONVENTIONS:
        raise ValueError(f"ssc_fixef_k must be one of {SSC_CONVENTIONS}, got {convention!r}")
    G = int(len(np.unique(cluster_codes)))
    if G < 2:
        raise ValueError(f"cluster-robust errors need at least 2 clusters; the data have {G}")
    if convention == "none" or not fe_codes:
        K = k
    else:
        levels = [int(len(np.unique(c))) for c in fe_codes]
        nested = [_is_nested(c, cluster_codes) for c in fe_codes]
        F = len(fe_codes)
        K = k + sum(levels) - (F - 1)
        if any(nested):
            K += -sum(L for L, nst in zip(levels, nested) if nst) + sum(nested)
    if n_obs - K <= 0:
        raise ValueError(f"too few observations ({n_obs}) for {K} parameters in the small-sample correction")
    return G / (G - 1) * (n_obs - 1) / (n_obs - K), K


def _cluster_sums(values: np.ndarray, cluster_codes: np.ndarray, G: int) -> np.ndarray:
    n = len(cluster_codes)
    S = sparse.csr_matrix((np.ones(n), (cluster_codes, np.arange(n))), shape=(G, n))
    return np.asarray(S @ values)


def _crv1(Xt: np.ndarray, score_weights: np.ndarray, bread: np.ndarray, cluster_codes: np.ndarray,
          factor: float) -> np.ndarray:
    G = int(cluster_codes.max()) + 1
    sg = _cluster_sums(Xt * score_weights[:, None], cluster_codes, G)
    return factor * bread @ (sg.T @ sg) @ bread


@dataclass(frozen=True)
class FixedEffectsFit:
    """What a fixed-effects fit keeps: the estimation sample and the arrays behind the numbers.

    ``frame`` holds the rows used (with ``_row``, the index of the row in the caller's data),
    ``names`` the column roles; ``beta``/``vcov`` are on the model scale (for the logit: log-odds).
    """

    frame: pd.DataFrame
    names: dict
    beta: pd.Series
    vcov: pd.DataFrame
    resid: np.ndarray
    fitted: np.ndarray
    ssc: float
    ssc_k: int
    ssc_fixef_k: str
    fe_iterations: int
    n_dropped: dict
    extra: dict


def _fit_lpm(frame: pd.DataFrame, *, outcome: str, regressors: Sequence[str], unit: str, time: str,
             weights: str | None, cluster: str, ssc_fixef_k: str, tol: float, where: str) -> FixedEffectsFit:
    y = frame[outcome].to_numpy(dtype=float)
    X = frame[list(regressors)].to_numpy(dtype=float)
    w = frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame))
    fe = [frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()]
    cl = frame["_cluster"].to_numpy()
    ab = Absorber(fe, w, tol=tol)
    Z = ab.demean(np.column_stack([y, X]))
    yt, Xt = Z[:, 0], Z[:, 1:]
    XtWX = Xt.T @ (Xt * w[:, None])
    scale = np.sqrt(np.diag(XtWX))
    raw = np.sqrt(np.einsum("ij,ij,i->j", X - np.average(X, axis=0, weights=w), X - np.average(X, axis=0, weights=w), w))
    absorbed = [r for r, s, s0 in zip(regressors, scale, raw) if s <= 1e-9 * max(s0, 1e-300)]
    if absorbed:
        raise ValueError(f"{where}: regressor(s) {absorbed} do not vary within units and years once unit and "
                         "time effects are absorbed: no effect can be estimated")
    if np.linalg.cond(XtWX / np.outer(scale, scale)) > 1e12:
        raise ValueError(f"{where}: regressors {list(regressors)} are collinear once unit and time effects are "
                         "absorbed (e.g. an event study without never-treated units needs a second omitted period)")
    bread = np.linalg.inv(XtWX)
    beta = bread @ (Xt.T @ (w * yt))
    e = yt - Xt @ beta
    factor, K = small_sample_factor(n_obs=len(frame), k=X.shape[1], fe_codes=fe, cluster_codes=cl,
                                    convention=ssc_fixef_k)
    V = _crv1(Xt, w * e, bread, cl, factor)
    names = list(regressors)
    return FixedEffectsFit(frame=frame, names=dict(outcome=outcome, regressors=names, unit=unit, time=time,
                                                   weights=weights, cluster=cluster),
                           beta=pd.Series(beta, index=names), vcov=pd.DataFrame(V, index=names, columns=names),
                           resid=e, fitted=y - e, ssc=factor, ssc_k=K, ssc_fixef_k=ssc_fixef_k,
                           fe_iterations=ab.iterations, n_dropped={}, extra={})


def _prepare(data: pd.DataFrame, *, outcome: str, regressors: Sequence[str], unit: str, time: str,
             weights: str | None, cluster: str | None, drop_singletons: bool, where: str,
             extra_numeric: Sequence[str] = (), extra_keys: Sequence[str] = ()) -> tuple[pd.DataFrame, dict]:
    cluster = cluster or unit
    keys = list(dict.fromkeys([unit, time, cluster, *extra_keys]))
    frame, dropped = _estimation_sample(data, numeric=[outcome, *regressors, *extra_numeric], keys=keys,
                                        weights=weights, where=where)
    frame["_fe_unit"] = _codes(frame[unit])
    frame["_fe_time"] = _codes(frame[time])
    if drop_singletons:
        keep = _singleton_mask([frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()])
        dropped["singletons"] = int((~keep).sum())
        if not keep.all():
            frame = frame.loc[keep].reset_index(drop=True)
            frame["_fe_unit"] = _codes(frame[unit])
            frame["_fe_time"] = _codes(frame[time])
    if frame.empty:
        raise ValueError(f"{where}: no rows left after dropping singleton observations (every {unit} or {time} "
                         "level has a single row): unit and time effects cannot be estimated")
    frame["_cluster"] = _codes(frame[cluster])
    return frame, dropped


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------
class TwfeResults(EstimateResults):
    """Results of :func:`twfe` / :func:`dose_response` (read-only).

    Beyond ``EstimateResults``: ``vcov`` (cluster-robust covariance of the reported terms),
    ``wald_test(terms)`` and ``wild_bootstrap(...)`` (wild cluster bootstrap-t per term, linear
    model only). ``model`` is the :class:`FixedEffectsFit` (estimation sample and arrays).
    """

    @property
    def vcov(self) -> pd.DataFrame:
        """Cluster-robust covariance of the reported terms (logit: the AME's variance)."""
        if self.info.get("model") == "logit":
            se = self.std_errors
            return pd.DataFrame(np.diag(se.to_numpy() ** 2), index=se.index, columns=se.index)
        return self.model.vcov.copy()

    def wald_test(self, terms: Sequence[str] | None = None, *, name: str = "joint Wald test") -> TestResult:
        """F test that the given terms are all zero (cluster-robust vcov, F(q, G-1))."""
        terms = list(terms or self.params.index)
        return _wald_F(self.params[terms], self.vcov.loc[terms, terms], int(self.info["n_clusters"]), name=name,
                       null=f"{', '.join(terms)} all zero")

    def wild_bootstrap(self, *, reps: int = 999, seed: int = 2025, weights_type: str = "rademacher",
                       level: float = 0.95, impose_null: bool = True, pp: bool = False) -> pd.DataFrame:
        """Wild cluster bootstrap-t (WCR by default) for every term, beside the analytic interval.

        Columns: term, estimate(_pp), ci_low, ci_high, p_value (bootstrap), analytic_ci_low,
        analytic_ci_high, analytic_p_value, reps, weights_type. See
        :func:`evaluation.effects.bootstrap.wild_cluster_bootstrap`.
        """
        if self.info.get("model") == "logit":
            raise ValueError("wild_bootstrap: the wild cluster bootstrap is implemented for the linear model "
                             "(model='lpm'); refit with model='lpm'")
        return _bootstrap_table(self, reps=reps, seed=seed, weights_type=weights_type, level=level,
                                impose_null=impose_null, pp=pp)


def _bootstrap_table(res: EstimateResults, *, reps: int, seed: int, weights_type: str, level: float,
                     impose_null: bool, pp: bool, terms: Sequence[str] | None = None) -> pd.DataFrame:
    from evaluation.effects.bootstrap import wild_cluster_bootstrap

    fit: FixedEffectsFit = res.model
    n = fit.names
    rows = []
    k = 100.0 if pp else 1.0
    for term in (terms or list(res.params.index)):
        b = wild_cluster_bootstrap(fit.frame, outcome=n["outcome"], regressors=n["regressors"], unit="_fe_unit",
                                   time="_fe_time", weights=n["weights"], cluster="_cluster", param=term,
                                   reps=reps, weights_type=weights_type, seed=seed, impose_null=impose_null,
                                   level=level, ssc_fixef_k=fit.ssc_fixef_k, drop_singletons=False)
        ci = res.conf_int(level).loc[term]
        rows.append({"term": term, "estimate": b.estimate * k, "ci_low": b.ci_low * k, "ci_high": b.ci_high * k,
                     "p_value": b.p_value, "analytic_ci_low": ci["ci_low"] * k,
                     "analytic_ci_high": ci["ci_high"] * k, "analytic_p_value": float(res.pvalues[term]),
                     "reps": b.reps, "weights_type": b.weights_type})
    out = pd.DataFrame(rows)
    return out.rename(columns={"estimate": "estimate_pp"}) if pp else out


def _wald_F(b: pd.Series, V: pd.DataFrame, G: int, *, name: str, null: str) -> TestResult:
    bv = b.to_numpy(dtype=float)
    q = len(bv)
    stat = float(bv @ np.linalg.solve(V.to_numpy(dtype=float), bv)) / q
    return TestResult(name=name, statistic=stat, p_value=float(stats.f.sf(stat, q, G - 1)), df=(q, G - 1),
                      null=null, distribution="F")


def _info(frame: pd.DataFrame, *, unit: str, cluster: str, weights: str | None, cov_type: str, fit_ssc: float,
          ssc_k: int, ssc_fixef_k: str, dropped: dict, model: str, iterations: int) -> dict[str, Any]:
    return {"model": model, "n_obs": int(len(frame)), "n_units": int(frame["_fe_unit"].nunique()),
            "n_periods": int(frame["_fe_time"].nunique()), "n_clusters": int(frame["_cluster"].nunique()),
            "cluster": cluster, "cov_type": cov_type, "weights": weights or "none",
            "ssc": f"G/(G-1)*(N-1)/(N-K), K={ssc_k} (fixef K '{ssc_fixef_k}'), factor {fit_ssc:.6f}",
            "fe_sweeps": iterations,
            "dropped_rows": ", ".join(f"{k}={v}" for k, v in dropped.items()) or "none"}


# ----------------------------------------------------------------------------------------
# twfe
# ----------------------------------------------------------------------------------------
def twfe(data: pd.DataFrame, *, outcome: str = "rate", treatment: str = "treated", unit: str = "school_id",
         time: str = "year", weights: str | None = "graduates", cluster: str | None = "school_id",
         model: str = "lpm", covariates: Sequence[str] = (), cov_type: str = "cluster",
         ssc_fixef_k: str = "nested", drop_singletons: bool = True, tol: float = DEFAULT_TOL) -> TwfeResults:
    """Two-way (unit and time) fixed-effects estimate of the effect of ``treatment`` on ``outcome``.

    ``model="lpm"``: weighted least squares of the rate (a fraction 0..1) on the treatment with
    unit and time effects absorbed; weights are the graduates of the school-year, so the
    estimate is the effect on the probability that a graduate goes to vocational training,
    in outcome units (``to_frame(pp=True)`` for percentage points).

    ``model="logit"``: binomial logit on (successes = rate x weights, trials = weights) with unit
    and time effects, fitted by IRLS with the effects absorbed in the working regression at every
    step (no dummies, scales to national panels). Units whose rate is 0 or 1 in every year (their
    effect is infinite) are dropped first. The reported ``treated`` term is the *average marginal
    effect* in probability units: the trials-weighted mean over all school-years of
    ``Lambda(eta with treatment=1) - Lambda(eta with treatment=0)`` (a binary treatment), or of
    ``beta * Lambda'(eta)`` (a continuous one). Its standard error is the delta method on the
    cluster-robust covariance of the log-odds coefficient with the fixed effects profiled out
    (d eta / d beta = the IRLS-weighted within-transformed regressor), conditional on the sample's
    covariates, as Stata's ``margins``. The coefficient on the log-odds scale is in
    ``info["coef_logodds"]``/``info["se_logodds"]``.

    Covariance: ``cov_type="cluster"`` (CRV1, by ``cluster``; the only type offered), with the
    small-sample factor described in the module docstring (``ssc_fixef_k``). The estimand is the
    ATT only when effects are homogeneous; under staggered adoption with effects that change
    with exposure TWFE is biased (use ``staggered_did``).
    """
    where = "twfe"
    if model not in ("lpm", "logit"):
        raise ValueError(f"{where}: model must be 'lpm' or 'logit', got {model!r}")
    if cov_type != "cluster":
        raise ValueError(f"{where}: cov_type must be 'cluster' (cluster-robust CRV1), got {cov_type!r}")
    cluster = cluster or unit
    regressors = [treatment, *covariates]
    frame, dropped = _prepare(data, outcome=outcome, regressors=regressors, unit=unit, time=time, weights=weights,
                              cluster=cluster, drop_singletons=drop_singletons, where=where)
    if model == "lpm":
        fit = _fit_lpm(frame, outcome=outcome, regressors=regressors, unit=unit, time=time, weights=weights,
                       cluster=cluster, ssc_fixef_k=ssc_fixef_k, tol=tol, where=where)
        fit = _replace(fit, n_dropped=dropped)
        params, se = fit.beta, np.sqrt(np.diag(fit.vcov.to_numpy()))
        info = _info(fit.frame, unit=unit, cluster=cluster, weights=weights, cov_type="CRV1", fit_ssc=fit.ssc,
                     ssc_k=fit.ssc_k, ssc_fixef_k=ssc_fixef_k, dropped=dropped, model="lpm",
                     iterations=fit.fe_iterations)
        info["estimand"] = ESTIMAND_TWFE
        return TwfeResults(estimator="twfe", estimand=ESTIMAND_TWFE, params=params,
                           std_errors=pd.Series(se, index=params.index), df=info["n_clusters"] - 1,
                           cov_type="cluster-robust (CRV1) by " + cluster, info=info,
                           notes=(f"Graduate-weighted linear probability model; {unit} and {time} effects absorbed; "
                                  f"t({info['n_clusters'] - 1}) reference distribution.",),
                           model=fit)
    return _twfe_logit(frame, dropped, outcome=outcome, regressors=regressors, unit=unit, time=time,
                       weights=weights, cluster=cluster, ssc_fixef_k=ssc_fixef_k, tol=tol)


def _replace(fit: FixedEffectsFit, **kw) -> FixedEffectsFit:
    from dataclasses import replace

    return replace(fit, **kw)


def _drop_perfect_fit(frame: pd.DataFrame, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Rows kept after iteratively dropping unit/time levels whose outcome is all 0 or all 1."""
    keep = np.ones(len(frame), dtype=bool)
    codes = [frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()]
    while True:
        changed = False
        for c in codes:
            L = c.max() + 1
            succ = np.bincount(c[keep], weights=(n * y)[keep], minlength=L)
            tot = np.bincount(c[keep], weights=n[keep], minlength=L)
            bad = (succ <= 1e-12 * np.maximum(tot, 1)) | (succ >= tot * (1 - 1e-12))
            rows = keep & bad[c]
            if rows.any():
                keep &= ~rows
                changed = True
        if not changed:
            return keep


def _twfe_logit(frame: pd.DataFrame, dropped: dict, *, outcome: str, regressors: list[str], unit: str, time: str,
                weights: str | None, cluster: str, ssc_fixef_k: str, tol: float) -> TwfeResults:
    where = "twfe(model='logit')"
    y = frame[outcome].to_numpy(dtype=float)
    bad = np.flatnonzero((y < 0) | (y > 1))
    if bad.size:
        r = bad[0]
        raise ValueError(f"{where}: outcome {outcome!r} must be a proportion in 0..1; row "
                         f"{_py(frame['_row'].iloc[r])!r} has value {_py(y[r])!r}")
    n = frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame))
    keep = _drop_perfect_fit(frame, y, n)
    dropped["perfect_fit"] = int((~keep).sum())
    if not keep.all():
        frame = frame.loc[keep].reset_index(drop=True)
        frame["_fe_unit"] = _codes(frame[unit])
        frame["_fe_time"] = _codes(frame[time])
        frame["_cluster"] = _codes(frame[cluster])
        y, n = y[keep], n[keep]
    X = frame[regressors].to_numpy(dtype=float)
    fe = [frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()]
    cl = frame["_cluster"].to_numpy()
    eta = special.logit((n * y + 0.5) / (n + 1.0))
    dev_old = np.inf
    sweeps = 0
    for it in range(1, 201):
        p = special.expit(eta)
        v = np.clip(p * (1 - p), 1e-12, None)
        W = n * v
        z = eta + (y - p) / v
        ab = Absorber(fe, W, tol=tol)
        Z = ab.demean(np.column_stack([z, X]))
        sweeps += ab.iterations
        zt, Xt = Z[:, 0], Z[:, 1:]
        XtWX = Xt.T @ (Xt * W[:, None])
        beta = np.linalg.solve(XtWX, Xt.T @ (W * zt))
        eta = z - (zt - Xt @ beta)
        p = special.expit(eta)
        with np.errstate(divide="ignore", invalid="ignore"):
            dev = 2 * np.sum(n * (special.xlogy(y, y) - special.xlogy(y, p)
                                  + special.xlogy(1 - y, 1 - y) - special.xlogy(1 - y, 1 - p)))
        if abs(dev - dev_old) / (0.1 + abs(dev)) < 1e-12:
            break
        dev_old = dev
    else:
        raise RuntimeError(f"{where}: IRLS did not converge in 200 iterations")
    # final quantities at the converged linear predictor
    p = special.expit(eta)
    W = n * p * (1 - p)
    Xt = Absorber(fe, W, tol=tol).demean(X)
    Xt = Xt.reshape(len(frame), -1)
    bread = np.linalg.inv(Xt.T @ (Xt * W[:, None]))
    factor, K = small_sample_factor(n_obs=len(frame), k=X.shape[1], fe_codes=fe, cluster_codes=cl,
                                    convention=ssc_fixef_k)
    V = _crv1(Xt, n * (y - p), bread, cl, factor)
    # average marginal effect of the first regressor (the treatment), trials-weighted
    d = X[:, 0]
    b = beta[0]
    binary = bool(np.all(np.isin(d, (0.0, 1.0))))
    dl = Xt[:, 0]  # d eta / d beta for the fitted linear predictor (fixed effects profiled out)
    if binary:
        eta1, eta0 = eta + b * (1 - d), eta - b * d
        p1, p0 = special.expit(eta1), special.expit(eta0)
        ame = np.sum(n * (p1 - p0)) / n.sum()
        grad0 = np.sum(n * (p1 * (1 - p1) * (dl - d + 1) - p0 * (1 - p0) * (dl - d))) / n.sum()
        # gradient with respect to the other regressors' coefficients (their own profiled paths)
        grad = np.zeros(len(beta))
        grad[0] = grad0
        for j in range(1, len(beta)):
            dj = Xt[:, j]
            grad[j] = np.sum(n * (p1 * (1 - p1) - p0 * (1 - p0)) * dj) / n.sum()
    else:
        lam1 = p * (1 - p)
        lam2 = lam1 * (1 - 2 * p)
        ame = b * np.sum(n * lam1) / n.sum()
        grad = np.zeros(len(beta))
        grad[0] = np.sum(n * (lam1 + b * lam2 * dl)) / n.sum()
        for j in range(1, len(beta)):
            grad[j] = b * np.sum(n * lam2 * Xt[:, j]) / n.sum()
    se_ame = float(np.sqrt(grad @ V @ grad))
    names = list(regressors)
    fit = FixedEffectsFit(frame=frame, names=dict(outcome=outcome, regressors=names, unit=unit, time=time,
                                                  weights=weights, cluster=cluster),
                          beta=pd.Series(beta, index=names), vcov=pd.DataFrame(V, index=names, columns=names),
                          resid=y - p, fitted=p, ssc=factor, ssc_k=K, ssc_fixef_k=ssc_fixef_k,
                          fe_iterations=sweeps, n_dropped=dropped,
                          extra={"eta": eta, "irls_iterations": it, "deviance": float(dev), "ame_gradient": grad})
    info = _info(frame, unit=unit, cluster=cluster, weights=weights, cov_type="CRV1", fit_ssc=factor, ssc_k=K,
                 ssc_fixef_k=ssc_fixef_k, dropped=dropped, model="logit", iterations=sweeps)
    info.update({"estimand": ESTIMAND_TWFE + " (average marginal effect of a logit with unit and time effects)",
                 "coef_logodds": float(b), "se_logodds": float(np.sqrt(V[0, 0])), "irls_iterations": it,
                 "ame": "binary treatment: mean of Lambda(eta|d=1)-Lambda(eta|d=0)" if binary
                        else "continuous: mean of beta*Lambda'(eta)"})
    return TwfeResults(estimator="twfe_logit", estimand=info["estimand"],
                       params=pd.Series({regressors[0]: ame}), std_errors=pd.Series({regressors[0]: se_ame}),
                       df=info["n_clusters"] - 1, cov_type="cluster-robust (CRV1) by " + cluster + ", delta method",
                       info=info, notes=("Binomial logit on (vocational, graduates) counts with absorbed unit and "
                                         "time effects; the estimate is the average marginal effect in "
                                         "probability units.",), model=fit)


# ----------------------------------------------------------------------------------------
# dose
# ----------------------------------------------------------------------------------------
DOSE_ASSUMPTIONS = (
    "linearity: each additional unit of dose changes the rate by the same amount at every dose level",
    "no anticipation: the rate does not respond to a dose before it is received",
    "strong parallel trends (Callaway, Goodman-Bacon & Sant'Anna 2024): units at every dose would have "
    "followed the same trend as units at every other dose had they received it, so that comparisons across "
    "doses identify causal responses rather than selection into dose",
    "effects do not vary with time since first exposure (otherwise the two-way regression weights them "
    "with possibly negative weights, as with binary staggered adoption)",
)


def dose_response(data: pd.DataFrame, *, outcome: str = "rate", dose: str = "counselors_per_100",
                  unit: str = "school_id", time: str = "year", weights: str | None = "graduates",
                  cluster: str | None = "school_id", ssc_fixef_k: str = "nested",
                  drop_singletons: bool = True) -> TwfeResults:
    """Continuous-exposure two-way fixed-effects slope: change in the rate per unit of ``dose``.

    ``dose`` is the analysis panel's ``counselors_per_100`` (trained counselors per 100
    graduates) or ``share_counseled`` (students counseled / graduates, a fraction). The slope is
    in outcome units per dose unit (a rate per counselor per 100 graduates, or per 100 % of
    students counseled); ``to_frame(pp=True)`` gives percentage points per dose unit. Rows with a
    missing dose (counseling row missing) are dropped and counted in ``info["dropped_rows"]``.

    The slope is a causal average response only under these assumptions (stated in the notes):
    linearity; no anticipation; *strong* parallel trends across doses (Callaway, Goodman-Bacon &
    Sant'Anna 2024, "Difference-in-differences with a continuous treatment") -- standard parallel
    trends only identifies the average effect of the dose received, and slope comparisons then mix
    causal responses with selection into dose; and effects that do not change with exposure time.
    Same estimator and covariance as :func:`twfe` with ``model="lpm"``.
    """
    res = twfe(data, outcome=outcome, treatment=dose, unit=unit, time=time, weights=weights, cluster=cluster,
               model="lpm", ssc_fixef_k=ssc_fixef_k, drop_singletons=drop_singletons)
    estimand = f"average causal response: change in {outcome} per unit of {dose} (linear, strong parallel trends)"
    info = dict(res.info)
    info["estimand"] = estimand
    return TwfeResults(estimator="twfe_dose", estimand=estimand, params=res.params, std_errors=res.std_errors,
                       df=res.df, cov_type=res.cov_type, info=info,
                       notes=res.notes + tuple("Assumption: " + a for a in DOSE_ASSUMPTIONS), model=res.model)


# ----------------------------------------------------------------------------------------
# heterogeneity
# ----------------------------------------------------------------------------------------
HETEROGENEITY_COLUMNS = ("by", "group", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "n_obs",
                         "n_units", "n_clusters", "equal_effects_statistic", "equal_effects_p_value", "note")


def heterogeneity(data: pd.DataFrame, *, by: str, estimator: Callable[..., EstimateResults] = twfe,
                  term: str | None = None, level: float = 0.95, **kw: Any) -> pd.DataFrame:
    """The effect in each group of ``by`` (e.g. ``ethnic_boarding``, a Khmer-majority flag) and a test of equality.

    Each group's estimate comes from ``estimator(subset, **kw)`` (its ``term``, by default the
    first parameter). The test of equal effects:

    * for the linear estimators (:func:`twfe` with ``model="lpm"``, :func:`dose_response`): one
      pooled, fully interacted regression -- ``treatment x 1{group=g}`` for every group with
      unit x group and time x group effects absorbed, which reproduces the split estimates
      exactly -- and a cluster-robust Wald F test (q = groups - 1, G-1 df) that the interaction
      coefficients are equal. This allows clusters shared across groups.
    * any other estimator: a chi-square Wald test treating the group estimates as independent,
      valid only when no cluster spans two groups (checked; otherwise the test is left empty).

    Returns one row per group with columns ``HETEROGENEITY_COLUMNS`` (estimates in outcome units);
    the test is repeated on every row and is also in ``.attrs["equal_effects_test"]``. A group
    where the estimator fails (e.g. a single school: its effect is absorbed) gets an empty row
    whose ``note`` says why; the test then compares the other groups (none if fewer than two).
    A column with a single value gives one empty row whose note says there is nothing to compare.
    """
    where = "heterogeneity"
    _require_columns(data, [by], where=where)
    groups = data[by]
    if groups.isna().all():
        raise ValueError(f"{where}: column {by!r} has no non-missing value")
    levels = sorted(groups.dropna().unique().tolist(), key=str)
    if len(levels) < 2:  # e.g. a district without a Khmer commune: say so, don't fail the review
        out = pd.DataFrame([{"by": by, "group": levels[0], "term": term, "estimate": np.nan, "std_error": np.nan,
                             "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n_obs": int(len(data)),
                             "n_units": np.nan, "n_clusters": np.nan, "equal_effects_statistic": np.nan,
                             "equal_effects_p_value": np.nan,
                             "note": f"nothing to compare: every row has {by} = {levels[0]!r}"}])
        out = out[list(HETEROGENEITY_COLUMNS)]
        out.attrs["equal_effects_test"] = None
        return out
    rows, results = [], {}
    for g in levels:
        sub = data.loc[groups == g]
        try:
            r = estimator(sub, **kw)
        except ValueError as exc:  # e.g. a group of one school: report it, estimate the others
            rows.append({"by": by, "group": g, "term": term, "estimate": np.nan, "std_error": np.nan,
                         "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan, "n_obs": int(len(sub)),
                         "n_units": np.nan, "n_clusters": np.nan, "note": f"not estimable: {exc}"})
            continue
        t = term or r.params.index[0]
        ci = r.conf_int(level).loc[t]
        rows.append({"by": by, "group": g, "term": t, "estimate": float(r.params[t]),
                     "std_error": float(r.std_errors[t]), "ci_low": float(ci["ci_low"]),
                     "ci_high": float(ci["ci_high"]), "p_value": float(r.pvalues[t]),
                     "n_obs": r.info.get("n_obs"), "n_units": r.info.get("n_units"),
                     "n_clusters": r.info.get("n_clusters"), "note": ""})
        results[g] = r
    estimable = [g for g in levels if g in results]
    test = None
    if len(estimable) >= 2:
        data = data.loc[groups.isin(estimable)]
        test = _equal_effects_test(data, by=by, levels=estimable, estimator=estimator, results=results,
                                   rows=[r for r in rows if r["group"] in results], kw=kw)
    out = pd.DataFrame(rows)
    out["equal_effects_statistic"] = test.statistic if test else np.nan
    out["equal_effects_p_value"] = test.p_value if test else np.nan
    out = out[list(HETEROGENEITY_COLUMNS)]
    out.attrs["equal_effects_test"] = test
    return out


def _equal_effects_test(data, *, by, levels, estimator, results, rows, kw) -> TestResult | None:
    first = next(iter(results.values()))
    linear = estimator in (twfe, dose_response) and first.info.get("model") == "lpm"
    if linear:
        fit: FixedEffectsFit = first.model
        n = fit.names
        treat = n["regressors"][0]
        covs = list(n["regressors"][1:])
        unit, time, weights, cluster = n["unit"], n["time"], n["weights"], n["cluster"]
        frame, _ = _prepare(data.loc[data[by].notna()], outcome=n["outcome"], regressors=[treat, *covs], unit=unit,
                            time=time, weights=weights, cluster=cluster, drop_singletons=False, where="heterogeneity",
                            extra_keys=[by])
        g = frame[by].astype(str)
        frame["_fe_unit"] = _codes(frame[unit].astype(str) + "\x1f" + g)
        frame["_fe_time"] = _codes(frame[time].astype(str) + "\x1f" + g)
        keep = _singleton_mask([frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()])
        frame = frame.loc[keep].reset_index(drop=True)
        g = frame[by]
        frame["_fe_unit"] = _codes(frame[unit].astype(str) + "\x1f" + g.astype(str))
        frame["_fe_time"] = _codes(frame[time].astype(str) + "\x1f" + g.astype(str))
        frame["_cluster"] = _codes(frame[cluster])
        names = []
        for lv in levels:
            nm = f"{treat}:{by}={lv}"
            frame[nm] = frame[treat] * (g == lv).to_numpy(dtype=float)
            names.append(nm)
        for c in covs:  # covariates interacted too, so the pooled fit equals the split fits
            for lv in levels:
                nm = f"{c}:{by}={lv}"
                frame[nm] = frame[c] * (g == lv).to_numpy(dtype=float)
                names.append(nm)
        pooled = _fit_lpm(frame, outcome=n["outcome"], regressors=names, unit=unit, time=time, weights=weights,
                          cluster=cluster, ssc_fixef_k=fit.ssc_fixef_k, tol=DEFAULT_TOL, where="heterogeneity")
        tn = names[:len(levels)]
        b = pooled.beta[tn].to_numpy()
        V = pooled.vcov.loc[tn, tn].to_numpy()
        R = np.column_stack([-np.ones(len(levels) - 1), np.eye(len(levels) - 1)])
        G = int(frame["_cluster"].nunique())
        rb = R @ b
        stat = float(rb @ np.linalg.solve(R @ V @ R.T, rb)) / len(rb)
        return TestResult(name=f"equal effects across {by}", statistic=stat,
                          p_value=float(stats.f.sf(stat, len(rb), G - 1)), df=(len(rb), G - 1),
                          null=f"the effect of {treat} is the same in every group of {by}", distribution="F")
    # generic: independent groups (clusters must not span groups)
    cl = kw.get("cluster") or kw.get("unit") or "school_id"
    if cl in data.columns:
        spans = data.dropna(subset=[by]).groupby(cl, observed=True)[by].nunique()
        if (spans > 1).any():
            return None
    est = np.array([r["estimate"] for r in rows])
    se = np.array([r["std_error"] for r in rows])
    R = np.column_stack([-np.ones(len(levels) - 1), np.eye(len(levels) - 1)])
    V = np.diag(se ** 2)
    rb = R @ est
    stat = float(rb @ np.linalg.solve(R @ V @ R.T, rb))
    return TestResult(name=f"equal effects across {by} (independent groups)", statistic=stat,
                      p_value=float(stats.chi2.sf(stat, len(rb))), df=len(rb),
                      null=f"the effect is the same in every group of {by}", distribution="chi2")
