"""Trend of vocational uptake over the review period, with projections against the targets.

Recommended model (``annual_ols``) -- the row the findings cite
    Ordinary least squares on the **annual district rates** r_t = sum_s successes / sum_s trials
    (one point per year): r_t = a + b (t - t0) + d dip_t + e_t, intervals from t(T - k) with T the
    years and k the coefficients (3 with the dip, else 2). A district-wide shock in a year (a
    provincial instruction, a flood, COVID) moves every school at once; the year, not the school,
    is then the unit of independent information about the trend, and with 8 years the slope's
    uncertainty comes mostly from the years. Chosen by simulation (``benchmarks/monte_carlo.py
    --study trend``, results in ``benchmarks/results/trend_monte_carlo.md``) among (a) this
    annual regression, (b) two-way clustering by school and year (Cameron-Gelbach-Miller, CRV1
    factors, t(min(G, T) - 1)) and (c) a random year effect (linear mixed model, normal
    intervals): see ``TREND_RULE_EVIDENCE``. Its estimand is the change of the expected district
    rate per year [fraction per year].
Projection (``TrendResults.project``, default ``model="annual_ols"``)
    A **prediction interval** for the district rate of a future year: the annual regression's
    yhat +/- t(T - k) s sqrt(1 + x'(X'X)^-1 x), so that it carries the new year's own shock as
    well as the uncertainty of the line; clipped to 0..1.

Model (``glm_binomial``, robustness row)
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
Projection of the GLM (``TrendResults.project(years, model="glm_binomial")``)
    extrapolates the GLM: rate(year) = expit(b0 + b_year (year -
    origin) + b_dip dip), the interval formed on the logit scale with the delta method
    (x' V x) and transformed back, so it stays within 0..1. A straight-line extrapolation of a
    short series: read it as "if the trend of the period continued". Its interval is a confidence
    interval of the line clustered by school only: it leaves out the year shocks and is not the
    interval the review reports.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from scipy.special import expit

from .results import EstimateResults
from .status import NotEstimable

TREND_COLUMNS: tuple[str, ...] = ("level", "model", "estimate_pp_per_year", "std_error", "ci_low", "ci_high",
                                  "p_value", "n_obs", "n_clusters")
#: Extra columns of ``trend_frame``: ``df`` of the t reference, ``recommended`` (exactly one row per level: the
#: row findings cite), ``status`` (ok / not_estimable) and its reasons.
TREND_EXTRA: tuple[str, ...] = ("df", "recommended", "status", "reason_vi", "reason_en")
PROJECTION_COLUMNS: tuple[str, ...] = ("level", "model", "year", "estimate", "ci_low", "ci_high", "se_logit", "dip")
MODELS: tuple[str, ...] = ("annual_ols", "glm_binomial", "lpm")
#: The model whose row is ``recommended`` (see the module docstring and ``TREND_RULE_EVIDENCE``).
RECOMMENDED_TREND_MODEL = "annual_ols"
#: Evidence for the rule (``benchmarks/results/trend_monte_carlo.md``, 300 districts per cell).
TREND_RULE_EVIDENCE = (
    "Chosen on iid school noise with 0/1/2 pp year shocks (28 and 7 schools): worst |coverage - 0.95| 0.017 for "
    "the annual regression, 0.050 for a random year effect (unstable with 7 schools), 0.177 for two-way "
    "clustering. Out of sample (AR(1) school noise, unequal sizes, 10 % school-years missing): coverage "
    "0.943-0.960 with 28 schools, 0.920-0.957 with 7; the school-clustered intervals fell to 0.74-0.76 with "
    "2 pp shocks.")


def annual_series(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates",
                  time: str = "year") -> pd.DataFrame:
    """The district's annual pooled rates: year, successes, trials, rate (= successes / trials), n_units (rows)."""
    d = panel.loc[panel[trials].astype("float64") > 0]
    g = d.groupby(time, sort=True).agg(successes=(successes, "sum"), trials=(trials, "sum"), n_units=(trials, "size"))
    g["rate"] = g["successes"] / g["trials"]
    return g.reset_index().rename(columns={time: "year"})


@dataclass(frozen=True)
class AnnualTrend:
    """OLS of the annual district rates on the year (and the dip): the recommended trend.

    ``slope``/``se`` in fraction per year, ``df`` = T - k; ``beta``/``XtX_inv``/``s2`` the fit (for
    prediction intervals); ``status`` ``ok`` or ``not_estimable`` (then NaN and the reasons)."""

    slope: float
    se: float
    df: int
    beta: np.ndarray
    XtX_inv: np.ndarray
    s2: float
    origin: float
    dip_in_model: bool
    n_years: int
    status: str = "ok"
    reason_vi: str = ""
    reason_en: str = ""

    def conf_int(self, level: float = 0.95) -> tuple[float, float]:
        if self.status != "ok":
            return float("nan"), float("nan")
        q = stats.t(self.df).ppf(0.5 + level / 2)
        return self.slope - q * self.se, self.slope + q * self.se

    def p_value(self) -> float:
        if self.status != "ok" or not self.se > 0:
            return float("nan")
        return float(2 * stats.t(self.df).sf(abs(self.slope / self.se)))

    def predict(self, years: Iterable[int], *, dip: bool = False, level: float = 0.95) -> pd.DataFrame:
        """Prediction of the annual rate with its prediction interval (new year's shock included): year,
        estimate, std_error (of the prediction), ci_low, ci_high [fractions, clipped to 0..1]."""
        yrs = np.asarray(list(years), dtype="float64")
        if self.status != "ok":
            nan = np.full(len(yrs), np.nan)
            return pd.DataFrame({"year": yrs.astype("int64"), "estimate": nan, "std_error": nan, "ci_low": nan,
                                 "ci_high": nan})
        X = np.column_stack([np.ones_like(yrs), yrs - self.origin])
        if self.dip_in_model:
            X = np.column_stack([X, np.full_like(yrs, 1.0 if dip else 0.0)])
        est = X @ self.beta
        se = np.sqrt(self.s2 * (1.0 + np.einsum("ij,jk,ik->i", X, self.XtX_inv, X)))
        q = stats.t(self.df).ppf(0.5 + level / 2)
        return pd.DataFrame({"year": yrs.astype("int64"), "estimate": est, "std_error": se,
                             "ci_low": np.clip(est - q * se, 0.0, 1.0), "ci_high": np.clip(est + q * se, 0.0, 1.0)})


def annual_trend(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates",
                 time: str = "year", dip_years: Sequence[int] = (2020, 2021)) -> AnnualTrend:
    """Fit the recommended trend (module docstring): OLS of the annual pooled rates, t(T - k) inference.

    The dip indicator enters when some but not all years are dip years and at least 2 residual degrees
    of freedom remain (T >= 5 with the dip); with fewer than 3 years the trend is ``not_estimable``.
    """
    a = annual_series(panel, successes=successes, trials=trials, time=time)
    t = a["year"].to_numpy(dtype="float64")
    r = a["rate"].to_numpy(dtype="float64")
    T = len(a)
    origin = float(t.min()) if T else float("nan")
    if T < 3:
        nan = float("nan")
        return AnnualTrend(nan, nan, 0, np.full(2, np.nan), np.full((2, 2), np.nan), nan, origin, False, T,
                           status="not_estimable",
                           reason_vi=f"chỉ có {T} năm: xu hướng theo năm cần ít nhất 3 năm để có khoảng tin cậy",
                           reason_en=f"only {T} year(s): the annual trend needs 3 years or more for an interval")
    dip = np.isin(t, np.asarray(list(dip_years), dtype="float64")).astype("float64")
    use_dip = 0 < dip.sum() < T and T - 3 >= 2
    X = np.column_stack([np.ones(T), t - origin] + ([dip] if use_dip else []))
    XtX_inv = np.linalg.inv(X.T @ X)
    beta = XtX_inv @ (X.T @ r)
    resid = r - X @ beta
    df = T - X.shape[1]
    s2 = float(resid @ resid / df)
    se = float(np.sqrt(s2 * XtX_inv[1, 1]))
    return AnnualTrend(float(beta[1]), se, int(df), beta, XtX_inv, s2, origin, bool(use_dip), T)


def twoway_cluster_trend(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates",
                         time: str = "year", cluster: str = "school_id",
                         dip_years: Sequence[int] = (2020, 2021)) -> tuple[float, float, int]:
    """Candidate (b): graduate-weighted LPM of the school-year rate on the year (and the dip) with
    two-way cluster-robust errors (Cameron, Gelbach & Miller 2011): V = V_school + V_year - V_school-year,
    each a CRV1 sandwich with its own factor c/(c-1) (N-1)/(N-k); a non-positive variance falls back
    to V_school + V_year. Returns (slope [fraction/year], se, df = min(G, T) - 1)."""
    d = panel.loc[panel[trials].astype("float64") > 0]
    n = d[trials].to_numpy(dtype="float64")
    y = d[successes].to_numpy(dtype="float64") / n
    t = d[time].to_numpy(dtype="float64")
    dip = np.isin(t, np.asarray(list(dip_years), dtype="float64")).astype("float64")
    cols = [np.ones_like(t), t - t.min()] + ([dip] if 0 < dip.sum() < len(dip) else [])
    X = np.column_stack(cols)
    W = n / n.mean()
    A = np.linalg.inv((X * W[:, None]).T @ X)
    b = A @ ((X * W[:, None]).T @ y)
    u = y - X @ b
    sc = X * (W * u)[:, None]
    N, k = X.shape

    def crv(codes: np.ndarray) -> np.ndarray:
        G = int(codes.max()) + 1
        S = np.zeros((G, k))
        np.add.at(S, codes, sc)
        return G / max(G - 1, 1) * (N - 1) / (N - k) * (A @ (S.T @ S) @ A)

    cs = pd.factorize(d[cluster])[0]
    ct = pd.factorize(d[time])[0]
    cst = np.arange(N)  # one school-year per row
    V = crv(cs) + crv(ct) - crv(cst)
    if V[1, 1] <= 0:
        V = crv(cs) + crv(ct)
    G, T = int(cs.max()) + 1, int(ct.max()) + 1
    return float(b[1]), float(np.sqrt(V[1, 1])), int(min(G, T) - 1)


def random_year_trend(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates",
                      time: str = "year", dip_years: Sequence[int] = (2020, 2021)) -> tuple[float, float, None]:
    """Candidate (c): linear mixed model of the school-year rate with a random year intercept (statsmodels
    ``MixedLM``, REML), fixed year slope and dip; normal (Wald) intervals as the package reports them.
    Returns (slope [fraction/year], se, None)."""
    import warnings

    d = panel.loc[panel[trials].astype("float64") > 0]
    y = d[successes].to_numpy(dtype="float64") / d[trials].to_numpy(dtype="float64")
    t = d[time].to_numpy(dtype="float64")
    dip = np.isin(t, np.asarray(list(dip_years), dtype="float64")).astype("float64")
    cols = [np.ones_like(t), t - t.min()] + ([dip] if 0 < dip.sum() < len(dip) else [])
    X = np.column_stack(cols)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.MixedLM(y, X, groups=d[time].to_numpy()).fit(reml=True)
    return float(fit.fe_params[1]), float(fit.bse_fe[1]), None


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
        """The evidence table ``trend``: columns ``TREND_COLUMNS`` + ``TREND_EXTRA`` (percentage points per year).

        One row per model: ``annual_ols`` first, the recommended row (``recommended`` true; its
        ``n_obs`` counts years and ``n_clusters`` is empty), then the school-clustered
        ``glm_binomial`` and ``lpm`` robustness rows (``recommended`` false).
        """
        tidy = self.to_frame(pp=True, level=level)
        other = pd.DataFrame({
            "level": self.info.get("level"),
            "model": tidy["term"].to_numpy(),
            "estimate_pp_per_year": tidy["estimate_pp"].to_numpy(),
            "std_error": tidy["std_error"].to_numpy(),
            "ci_low": tidy["ci_low"].to_numpy(),
            "ci_high": tidy["ci_high"].to_numpy(),
            "p_value": tidy["p_value"].to_numpy(),
            "n_obs": self.info["n_obs"],
            "n_clusters": self.info["n_clusters"],
            "df": float(self.df), "recommended": False, "status": "ok", "reason_vi": "", "reason_en": "",
        })
        an: AnnualTrend = self.annual
        lo, hi = an.conf_int(level)
        row = pd.DataFrame([{
            "level": self.info.get("level"), "model": "annual_ols", "estimate_pp_per_year": 100 * an.slope,
            "std_error": 100 * an.se, "ci_low": 100 * lo, "ci_high": 100 * hi, "p_value": an.p_value(),
            "n_obs": an.n_years, "n_clusters": np.nan, "df": float(an.df), "recommended": True,
            "status": an.status, "reason_vi": an.reason_vi, "reason_en": an.reason_en}])
        out = pd.concat([row, other], ignore_index=True)
        out["n_clusters"] = out["n_clusters"].astype("float64")
        return out.loc[:, [*TREND_COLUMNS, *TREND_EXTRA]]

    @property
    def annual(self) -> AnnualTrend:
        """The recommended annual regression (module docstring)."""
        return self.model["annual_ols"]

    def project(self, years: Iterable[int], *, dip: bool = False, level: float = 0.95,
                model: str = RECOMMENDED_TREND_MODEL) -> pd.DataFrame:
        """Predicted district rate in ``years`` [fraction]. Columns ``PROJECTION_COLUMNS`` + ``interval``.

        ``model="annual_ols"`` (default, the review's): the annual regression's **prediction interval**
        (``interval`` = ``"prediction"``; the new year's shock included; ``se_logit`` empty).
        ``model="glm_binomial"``: the GLM line with a confidence interval clustered by school only
        (``interval`` = ``"confidence"``): expit(eta +/- q se(eta)) with se(eta) = sqrt(x' V x), q the
        results' reference quantile. ``dip=True`` sets the dip indicator on (a year like 2020-2021).
        """
        if model == "annual_ols":
            an = self.annual
            pr = an.predict(years, dip=dip, level=level)
            return pd.DataFrame({
                "level": self.info.get("level"), "model": "annual_ols", "year": pr["year"].to_numpy(),
                "estimate": pr["estimate"].to_numpy(), "ci_low": pr["ci_low"].to_numpy(),
                "ci_high": pr["ci_high"].to_numpy(), "se_logit": np.nan, "dip": bool(dip and an.dip_in_model),
                "interval": "prediction"}).loc[:, [*PROJECTION_COLUMNS, "interval"]]
        if model != "glm_binomial":
            raise ValueError(f"project: model {model!r}: expected 'annual_ols' or 'glm_binomial'")
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
            "se_logit": se, "dip": bool(dip and self.info["dip_in_model"]), "interval": "confidence",
        }).loc[:, [*PROJECTION_COLUMNS, "interval"]]


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
    annual = annual_trend(d, successes=successes, trials=trials, time=time, dip_years=dip_years)
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
        notes=(f"annual_ols (recommended): OLS of the {annual.n_years} annual district rates, t({annual.df}) "
               "intervals; carries district-wide year shocks",
               "glm_binomial: logit GLM on school-year counts, AME of the year weighted by graduates, "
               "delta-method SE with the analytic gradient and the school-clustered covariance",
               "lpm: graduates-weighted linear model of the rate, school-clustered SE",
               f"intervals: t with {n_clusters - 1} df",
               *((f"only {n_clusters} clusters: cluster-robust intervals can be too narrow; read them with care",)
                 if n_clusters < 20 else ())),
        model={"glm_binomial": glm, "lpm": lpm, "annual_ols": annual},
    )


def trend_by_group(data: pd.DataFrame, *, by: str | Sequence[str], **fit_options: Any) -> pd.DataFrame:
    """``fit_trend`` on each group of ``by`` (e.g. ``"level"``, ``["level", "ethnic_boarding"]``,
    ``["level", "sex"]`` on student cells), stacked.

    Returns the ``by`` columns + ``TREND_COLUMNS`` + ``TREND_EXTRA`` (+ ``note``): one row per group
    and model, ``recommended`` true on each group's ``annual_ols`` row.
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
            tf = pd.DataFrame({"model": list(MODELS), "note": str(exc),
                               "recommended": [m == RECOMMENDED_TREND_MODEL for m in MODELS],
                               "status": "not_estimable", "reason_vi": f"không ước lượng được xu hướng: {exc}",
                               "reason_en": f"the trend cannot be estimated: {exc}"})
            for c in (*TREND_COLUMNS, "df"):
                if c not in tf.columns:
                    tf[c] = np.nan
        tf = tf.drop(columns="level")
        for k, v in zip(keys, key):
            tf[k] = v
        if "level" not in keys:
            tf["level"] = sub["level"].iloc[0] if "level" in sub.columns and sub["level"].nunique() == 1 else None
        rows.append(tf)
    out = pd.concat(rows, ignore_index=True)
    return out.loc[:, [*keys, *[c for c in (*TREND_COLUMNS, *TREND_EXTRA) if c not in keys], "note"]]
