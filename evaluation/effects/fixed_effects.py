"""The fixed-effects engine: absorption, singletons, small-sample factors, CRV1, Wald tests.

Every fixed-effects estimator of the toolkit (TWFE, event study, dose response, heterogeneity, the wild
cluster bootstrap, equity gaps) fits through this module; it knows nothing of any one estimator.

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
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from evaluation.results import TestResult
from evaluation.status import NotEstimable

__all__ = ["Absorber", "FixedEffectsFit", "small_sample_factor", "DEFAULT_TOL", "SSC_CONVENTIONS"]

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
        raise NotEstimable(f"sai số chuẩn theo cụm cần ít nhất 2 trường (có {G})",
                           f"cluster-robust errors need at least 2 clusters; the data have {G}", code="too_few_schools")
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
        raise NotEstimable(f"quá ít quan sát ({n_obs}) cho {K} tham số",
                           f"too few observations ({n_obs}) for {K} parameters in the small-sample correction",
                           code="too_few_schools")
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
        raise NotEstimable("không có biến thiên để ước lượng tác động sau khi loại hiệu ứng trường và năm (mọi trường "
                           "được bao phủ cùng lúc, hoặc không trường nào được bao phủ)",
                           f"{where}: regressor(s) {absorbed} do not vary within units and years once unit and "
                           "time effects are absorbed: no effect can be estimated", code="no_variation")
    if np.linalg.cond(XtWX / np.outer(scale, scale)) > 1e12:
        raise NotEstimable("các biến giải thích trùng lặp tuyến tính sau khi loại hiệu ứng trường và năm",
                           f"{where}: regressors {list(regressors)} are collinear once unit and time effects are "
                           "absorbed (e.g. an event study without never-treated units needs a second omitted period)",
                           code="collinear")
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
        raise NotEstimable("không đủ dữ liệu: mỗi trường hoặc mỗi năm chỉ có một quan sát",
                           f"{where}: no rows left after dropping singleton observations (every {unit} or {time} "
                           "level has a single row): unit and time effects cannot be estimated", code="too_few_schools")
    frame["_cluster"] = _codes(frame[cluster])
    return frame, dropped



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



def _replace(fit: FixedEffectsFit, **kw) -> FixedEffectsFit:
    from dataclasses import replace

    return replace(fit, **kw)

