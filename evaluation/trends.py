"""Trend of vocational uptake over the review period, with projections against the targets.

Model (``glm_binomial``)
    A binomial GLM with logit link on school-year counts (two-column endog: successes,
    failures = trials - successes), regressors: a constant, the year (linear, centred on the
    first year) and an indicator of the dip years (default 2020-2021, the COVID cohorts).
    It is a population-averaged model of the district rate; standard errors are
    cluster-robust by school (statsmodels ``cov_type="cluster"``, with its default
    small-sample correction).
Estimand
    The **average marginal effect of one more year** on the rate, in percentage points per
    year: AME = sum_i n_i * beta_year * p_i (1 - p_i) / sum_i n_i, where p_i is the fitted rate of
    school-year i at its observed year and dip indicator and n_i its graduates (so it averages
    over graduates, as a district rate does). It is the derivative of the fitted rate with
    respect to the year, not a discrete difference.
Interval
    Delta method with the **analytic gradient** of the AME with respect to the GLM parameters:
    dAME/dbeta_k = sum_i n_i [1{k=year} p_i(1-p_i) + beta_year p_i(1-p_i)(1-2p_i) x_ik] / sum_i n_i,
    Var(AME) = g' V g with V the cluster-robust covariance of the parameters. Intervals use
    the t distribution with G - 1 degrees of freedom (G = schools), which is wider than the
    normal one when there are few schools.
Robustness row (``lpm``)
    Weighted least squares of the school-year rate on the same regressors with graduates as
    weights (a linear probability model on the students), cluster-robust by school; its
    year coefficient is already a change in the rate per year.
Projection
    ``TrendResults.project(years)`` extrapolates the GLM: rate(year) = expit(b0 + b_year (year -
    origin) + b_dip dip), the interval formed on the logit scale with the delta method
    (x' V x) and transformed back, so it stays within 0..1. A straight-line extrapolation of a
    short series: read it as "if the trend of the period continued".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.special import expit

from .results import EstimateResults
from .status import NotEstimable

TREND_COLUMNS: tuple[str, ...] = ("level", "model", "estimate_pp_per_year", "std_error", "ci_low", "ci_high",
                                  "p_value", "n_obs", "n_clusters")
PROJECTION_COLUMNS: tuple[str, ...] = ("level", "model", "year", "estimate", "ci_low", "ci_high", "se_logit", "dip")
MODELS: tuple[str, ...] = ("glm_binomial", "lpm")


def ame_and_gradient(params: np.ndarray, exog: np.ndarray, weights: np.ndarray, col: int) -> tuple[float, np.ndarray]:
    """Weighted average marginal effect of regressor ``col`` in a logit model and its gradient.

    AME = sum_i w_i b_col p_i (1-p_i) / sum_i w_i with p_i = expit(x_i' b); the gradient is
    analytic (see the module docstring). Units: outcome (fraction) per unit of the regressor.
    """
    params = np.asarray(params, dtype="float64")
    p = expit(exog @ params)
    w = np.asarray(weights, dtype="float64") / np.sum(weights)
    v = p * (1.0 - p)
    ame = float(params[col] * np.sum(w * v))
    grad = params[col] * (exog.T @ (w * v * (1.0 - 2.0 * p)))
    grad[col] += np.sum(w * v)
    return ame, grad


@dataclass(frozen=True)
class TrendResults(EstimateResults):
    """Trend of the rate: ``params`` indexed by model (``glm_binomial``, ``lpm``), each the change
    of the rate per year [fraction per year; ``to_frame(pp=True)`` or ``trend_frame()`` give
    percentage points]. ``model`` holds the two statsmodels results by name; ``info`` holds
    n_obs, n_clusters, n_graduates, year_origin, years, dip_years, dip_in_model, level."""

    def trend_frame(self, *, level: float = 0.95) -> pd.DataFrame:
        """The evidence table ``trend``: columns ``TREND_COLUMNS`` (percentage points per year)."""
        tidy = self.to_frame(pp=True, level=level)
        return pd.DataFrame({
            "level": self.info.get("level"),
            "model": tidy["term"].to_numpy(),
            "estimate_pp_per_year": tidy["estimate_pp"].to_numpy(),
            "std_error": tidy["std_error"].to_numpy(),
            "ci_low": tidy["ci_low"].to_numpy(),
            "ci_high": tidy["ci_high"].to_numpy(),
            "p_value": tidy["p_value"].to_numpy(),
            "n_obs": self.info["n_obs"],
            "n_clusters": self.info["n_clusters"],
        }).loc[:, list(TREND_COLUMNS)]

    def project(self, years: Iterable[int], *, dip: bool = False, level: float = 0.95) -> pd.DataFrame:
        """Predicted district rate in ``years`` [fraction] from the binomial GLM.

        ``dip=True`` sets the dip indicator on (a year like 2020-2021). The 95 % interval is
        expit(eta +/- q se(eta)) with se(eta) = sqrt(x' V x) from the cluster-robust covariance and
        q the quantile of the results' reference distribution. Columns ``PROJECTION_COLUMNS``.
        """
        res = self.model["glm_binomial"]
        b = np.asarray(res.params, dtype="float64")
        V = np.asarray(res.cov_params(), dtype="float64")
        yrs = np.asarray(list(years), dtype="float64")
        X = np.column_stack([np.ones_like(yrs), yrs - self.info["year_origin"]])
        if self.info["dip_in_model"]:
            X = np.column_stack([X, np.full_like(yrs, 1.0 if dip else 0.0)])
        eta = X @ b
        se = np.sqrt(np.einsum("ij,jk,ik->i", X, V, X))
        q = self._dist().ppf(0.5 + level / 2)
        return pd.DataFrame({
            "level": self.info.get("level"), "model": "glm_binomial", "year": yrs.astype("int64"),
            "estimate": expit(eta), "ci_low": expit(eta - q * se), "ci_high": expit(eta + q * se),
            "se_logit": se, "dip": bool(dip and self.info["dip_in_model"]),
        }).loc[:, list(PROJECTION_COLUMNS)]


def fit_trend(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates", time: str = "year",
              cluster: str = "school_id", dip_years: Sequence[int] = (2020, 2021),
              start_year: int | None = None) -> TrendResults:
    """Fit the trend of ``successes / trials`` over ``time`` (see the module docstring).

    ``panel`` is a school-year panel (or any frame of counts such as student cells, one row
    per cell): columns ``successes``, ``trials``, ``time`` and ``cluster``. Rows with no trials
    are left out; ``start_year`` drops earlier years. Use ``successes="voc_target"`` for the rate
    as the targets define it. The dip indicator is left out when no (or every) row falls in
    ``dip_years``. Returns a ``TrendResults`` (params in fraction per year).
    """
    need = [successes, trials, time, cluster]
    missing = [c for c in need if c not in panel.columns]
    if missing:
        raise ValueError(f"fit_trend: the frame has no column(s) {', '.join(missing)}")
    d = panel.loc[panel[trials].astype("float64") > 0, need + (["level"] if "level" in panel.columns else [])]
    if start_year is not None:
        d = d.loc[d[time] >= start_year]
    if d.empty:
        raise NotEstimable("không có học sinh tốt nghiệp để ước lượng xu hướng",
                           "fit_trend: no rows with graduates to fit", code="no_graduates")
    y = d[successes].to_numpy(dtype="float64")
    n = d[trials].to_numpy(dtype="float64")
    if np.any(y < 0) or np.any(y > n):
        i = int(np.flatnonzero((y < 0) | (y > n))[0])
        raise ValueError(f"fit_trend: row {d.index[i]}, column {successes}, value {y[i]:g}: expected 0..{trials} ({n[i]:g})")
    t = d[time].to_numpy(dtype="float64")
    if np.unique(t).size < 2:
        raise NotEstimable(f"chỉ có số liệu của một năm ({t[0]:g}); xu hướng cần ít nhất hai năm",
                           f"fit_trend: column {time} has a single value ({t[0]:g}); a trend needs two years or more",
                           code="one_cohort")
    origin = float(t.min())
    groups = pd.factorize(d[cluster])[0]
    n_clusters = int(groups.max() + 1)
    if n_clusters < 2:
        raise NotEstimable("chỉ có một trường: sai số chuẩn theo cụm trường cần ít nhất hai trường",
                           f"fit_trend: column {cluster} has a single cluster; cluster-robust errors need two or more",
                           code="too_few_schools")
    dip = np.isin(t, np.asarray(list(dip_years), dtype="float64")).astype("float64")
    use_dip = 0 < dip.sum() < len(dip)
    cols = {"const": np.ones_like(t), "year": t - origin}
    if use_dip:
        cols["dip"] = dip
    X = pd.DataFrame(cols, index=d.index)
    endog = np.column_stack([y, n - y])
    glm = sm.GLM(endog, X, family=sm.families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": groups})
    b = np.asarray(glm.params)
    V = np.asarray(glm.cov_params())
    Xa = X.to_numpy()
    ame, grad = ame_and_gradient(b, Xa, n, col=1)
    se_ame = float(np.sqrt(grad @ V @ grad))
    info_dip = {}
    if use_dip:
        dip_ame, dip_grad = ame_and_gradient(b, Xa, n, col=2)
        info_dip = {"dip_ame_pp": 100 * dip_ame, "dip_ame_se_pp": 100 * float(np.sqrt(dip_grad @ V @ dip_grad))}

    lpm = sm.WLS(y / n, X, weights=n).fit(cov_type="cluster", cov_kwds={"groups": groups})
    level = None
    if "level" in d.columns and d["level"].nunique() == 1:
        level = str(d["level"].iloc[0])
    info = {"level": level, "n_obs": int(len(d)), "n_clusters": n_clusters, "n_graduates": int(n.sum()),
            "year_origin": origin, "years": f"{int(t.min())}-{int(t.max())}",
            "dip_years": tuple(int(v) for v in dip_years), "dip_in_model": bool(use_dip),
            "successes": successes, "trials": trials, **info_dip}
    return TrendResults(
        estimator="trend", estimand=f"change in {successes}/{trials} per year (average marginal effect)",
        params=pd.Series({"glm_binomial": ame, "lpm": float(lpm.params["year"])}),
        std_errors=pd.Series({"glm_binomial": se_ame, "lpm": float(lpm.bse["year"])}),
        df=n_clusters - 1, cov_type=f"cluster ({cluster})", info=info,
        notes=("glm_binomial: logit GLM on school-year counts, AME of the year weighted by graduates, "
               "delta-method SE with the analytic gradient and the school-clustered covariance",
               "lpm: graduates-weighted linear model of the rate, school-clustered SE",
               f"intervals: t with {n_clusters - 1} df",
               *((f"only {n_clusters} clusters: cluster-robust intervals can be too narrow; read them with care",)
                 if n_clusters < 20 else ())),
        model={"glm_binomial": glm, "lpm": lpm},
    )


def trend_by_group(data: pd.DataFrame, *, by: str | Sequence[str], **fit_options: Any) -> pd.DataFrame:
    """``fit_trend`` on each group of ``by`` (e.g. ``"level"``, ``["level", "ethnic_boarding"]``,
    ``["level", "sex"]`` on student cells), stacked.

    Returns the ``by`` columns + ``TREND_COLUMNS`` (+ ``note``): one row per group and model.
    A group that cannot be fitted (one year, one school, no graduates) gets NaN estimates and
    the reason in ``note``. The ``level`` column, when in ``by``, is the group's level.
    """
    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for key, sub in data.groupby(keys, observed=True, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        try:
            tf = fit_trend(sub, **fit_options).trend_frame()
            tf["note"] = ""
        except (ValueError, np.linalg.LinAlgError) as exc:
            tf = pd.DataFrame({"model": list(MODELS), "note": str(exc)})
            for c in TREND_COLUMNS:
                if c not in tf.columns:
                    tf[c] = np.nan
        tf = tf.drop(columns="level")
        for k, v in zip(keys, key):
            tf[k] = v
        if "level" not in keys:
            tf["level"] = sub["level"].iloc[0] if "level" in sub.columns and sub["level"].nunique() == 1 else None
        rows.append(tf)
    out = pd.concat(rows, ignore_index=True)
    return out.loc[:, [*keys, *[c for c in TREND_COLUMNS if c not in keys], "note"]]
