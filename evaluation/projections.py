"""The next period: uptake and coverage projected to 2030 against the targets in force, the
coverage increase a target needs, and the minimum detectable effect of the next review.

Projection model (``fit_projection``)
    A graduate-weighted linear probability model of the school-year rate with school fixed
    effects, a linear year trend, a dip indicator (default 2020-2021) and one indicator per
    event time since the school's first covered year (e = 0, 1, ..., the largest observed;
    ``pool_from`` pools the event times from that value on):
    ``rate_it = a_i + b (t - t0) + d dip_t + tau_e(it) + u_it``. Fitted by the within
    transformation (weighted demeaning by school); cluster-robust covariance by school with the
    small-sample factor G/(G-1) (N-1)/(N-K-1), K the slopes (the school fixed effects, nested in
    the clusters, count as one constant, as in fixest and pyfixest; ``model["cov_school"]``), plus the
    year-shock component below (``model["cov_year"]``); ``std_errors`` are from their sum.
    The never-covered and not-yet-covered school-years identify the trend; the effect by event
    time is the one the counseling plan builds on.
Projection (``ProjectionModel.project``) [fraction]
    District rate in year T = sum_i w_i (a_i + b (T - t0) + tau_e_i(T)), over the schools that
    report in the last year of the data, w_i their mean graduates per year (share of the total),
    no dip, and e_i(T) = T - first covered year under a **coverage plan**: ``status_quo`` (no
    school adopts after the data; covered schools stay covered) or ``full_coverage`` (every
    school not covered by the last year is covered from ``plan_year``). Event times beyond the
    largest estimated one keep its effect (the effect stops growing). Variance: c' V c for the
    slopes (c = sum_i w_i (x_i(T) - xbar_i)) plus the binomial noise of the school means that
    estimate a_i, sum_i w_i^2 sum_t n_it p_it (1 - p_it) / N_i^2, plus the year terms below. Read it as "if the trend and the
    effects of the period continued": it does not know about new policies.
Year shocks and the prediction interval
    A district-wide shock in a year moves every school at once, so school-clustered errors miss it.
    Its variance sigma_u^2 is the graduate-weighted mean product of residuals of two different schools
    in the same year (scaled by T / (T - k), k = 3 year-level quantities absorbed, floored at 0); the
    parameters' covariance adds sigma_u^2 A^-1 [sum_t (s_t s_t' - sum_i q_it q_it')] A^-1 (q_it the
    school-year's weighted demeaned regressors, s_t their sum over the year's schools). This covariance
    serves the effects by event time (``plan_effect``, ``coverage_needed``).
    The projection's interval is a **prediction interval** for the realised district rate of the year,
    built as the recommended trend's (chosen out of sample, ``benchmarks/results/trend_monte_carlo.md``):
    the year-level part s^2 (1 + z0' (Z'Z)^-1 z0) from the annual pooled rates of the projected schools
    around the model's district line (Z = 1, year, dip; T - k df), plus the counseling effects' part
    c_e' V c_e; t(T - k).
Coverage (``coverage_projection``) [fraction of schools]
    ``status_quo``: the share of the schools reporting in the last year that are covered
    (counted, not estimated: the interval is the value itself, except that a school whose
    counseling report is missing that year counts as not covered in the estimate and as covered at
    the interval's high end). ``pace``: if the schools not yet
    covered adopted at the period's yearly adoption hazard h = adoptions / school-years at risk,
    coverage(T) = 1 - (1 - c_last) (1 - h)^(T - last year); the 95 % interval plugs in the Wilson
    interval of h.
Coverage needed (``coverage_needed``)
    The share f of the not-yet-covered schools' graduates that must be covered from
    ``plan_year`` for the projected rate to reach a target in year T:
    f = (target - P_status_quo) / (P_full - P_status_quo); the interval takes the plan's effect
    P_full - P_status_quo at its 95 % bounds. ``increase`` = f x the share of schools not
    covered: the rise in coverage (schools) needed, if the schools covered are like the rest.
Minimum detectable effect (``next_review_mde``)
    ``evaluation.power.minimum_detectable_effect`` with the design of the next review taken from
    the data: the schools reporting in the last year, their mean cohort, the ICC of the period.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .indicators import TARGET_MET_VALUES, target_met_status, wilson_interval  # noqa: F401 (TARGET_MET_VALUES re-exported)
from .contract import DESTINATIONS, UNKNOWN, VOCATIONAL_PREFIX
from .reference import shipped_targets, target_in_force
from .results import EstimateResults
from .status import NOT_ESTIMABLE, NOT_INFORMATIVE, OK, NotEstimable, informative_status, status_fields

PROJECTION_COLUMNS: tuple[str, ...] = ("level", "indicator", "year", "estimate", "ci_low", "ci_high", "target")
PROJECTION_EXTRA: tuple[str, ...] = ("measure", "plan", "std_error", "target_met", "target_source", "destinations",
                                     "status", "reason_vi", "reason_en",
                                     "method", "n_schools")
PLANS: tuple[str, ...] = ("status_quo", "full_coverage")

#: Indicators projected: name -> (target indicator in targets.csv, levels, default destinations per level).
MEASURES: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "voc_uptake": ("voc_uptake_target", ("THCS", "THPT"), {}),
    "transition_after_thcs": ("transition_after_thcs", ("THCS",),
                              {"THCS": "thpt;gdtx;voc_intermediate;voc_elementary"}),
}
POST_REVIEW_TARGET_SETS: tuple[str, ...] = ("plan_2030",)


# --------------------------------------------------------------------------------------------
# targets and the outcome counted as the target counts it
# --------------------------------------------------------------------------------------------
def projection_targets(targets: pd.DataFrame, *, default_sets: Sequence[str] = POST_REVIEW_TARGET_SETS) -> pd.DataFrame:
    """The targets a projection is compared with: the review's ``targets`` (shipped sets in force,
    the targets file, the overrides) plus the shipped post-2025 sets ``default_sets`` (the 2030
    plan). A row of ``targets`` with the same indicator, level, area type and period wins."""
    shipped = shipped_targets()
    extra = shipped[shipped["target_set"].isin(list(default_sets))]
    key = ["indicator", "level", "area_type", "year_from", "year_to"]
    return pd.concat([extra, targets], ignore_index=True).drop_duplicates(subset=key, keep="last").reset_index(drop=True)


def _destinations(spec: str) -> tuple[str, ...]:
    return tuple(sorted({d.strip() for d in str(spec or "").split(";") if d.strip()}))


def measure_destinations(measure: str, *, level: str, year: int, targets: pd.DataFrame | None) -> tuple[str, ...]:
    """The destinations a measure counts for ``level``: those of the target in force in ``year``
    (general area) when it names them, else the measure's default (``voc_uptake``: every
    ``voc_*`` destination, given as the empty tuple)."""
    ind, _, default = MEASURES[measure]
    if targets is not None:
        row = target_in_force(targets, indicator=ind, level=level, year=int(year))
        if row is not None and _destinations(row["counted_destinations"]):
            return _destinations(row["counted_destinations"])
    return _destinations(default.get(level, ""))


def add_destination_count(panel: pd.DataFrame, graduates: pd.DataFrame, *, destinations: Sequence[str],
                          name: str = "successes") -> pd.DataFrame:
    """A copy of a one-level school-year ``panel`` with column ``name``: its graduates whose
    destination is in ``destinations`` [students], from the cohort's ``graduates`` table. An empty
    ``destinations`` counts every ``voc_*`` destination (the panel's ``vocational``)."""
    out = panel.copy()
    if not destinations:
        out[name] = out["vocational"].astype("int64")
        return out
    if UNKNOWN in destinations:
        raise ValueError(f"add_destination_count: destinations {list(destinations)}: 'unknown' cannot be counted")
    levels = panel["level"].astype(str).unique()
    if len(levels) != 1:
        raise ValueError(f"add_destination_count: the panel holds levels {', '.join(levels)}; pass one level")
    g = graduates.loc[(graduates["level"].astype(str) == levels[0])
                      & graduates["destination"].astype(str).isin(list(destinations))]
    counts = (g.assign(school_id=g["school_id"].astype(str)).groupby(["school_id", "year"])["students"].sum()
              .rename(name).reset_index())
    out = out.drop(columns=[name], errors="ignore").merge(counts, on=["school_id", "year"], how="left")
    out[name] = out[name].fillna(0).astype("int64")
    if (out[name] > out["graduates"]).any():
        i = int(np.flatnonzero((out[name] > out["graduates"]).to_numpy())[0])
        raise ValueError(f"add_destination_count: school {out['school_id'].iloc[i]}, year {out['year'].iloc[i]}: "
                         f"{out[name].iloc[i]} counted graduates exceed the {out['graduates'].iloc[i]} graduates "
                         "(is unknown_in_denominator false?)")
    return out


# --------------------------------------------------------------------------------------------
# the projection model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectionModel(EstimateResults):
    """The fitted projection model. ``params``: ``trend`` [fraction per year], ``dip`` and
    ``effect_e<k>`` [fraction] (``to_frame(pp=True)`` in percentage points); ``info``: level,
    n_obs, n_clusters, year_origin, last_year, event_times, successes; ``model`` holds the arrays
    a projection needs (school means, weights, first covered years, covariance)."""

    def _school_x(self, year: int, first_covered: np.ndarray) -> np.ndarray:
        m = self.model
        k = len(self.params)
        x = np.zeros((len(first_covered), k))
        x[:, 0] = year - self.info["year_origin"]
        e = np.where(first_covered > 0, year - first_covered, -1)
        ev = list(self.info["event_times"])
        for j, et in enumerate(ev):
            last = j == len(ev) - 1
            hit = (e >= et) if last else (e == et)
            if m["pooled_from"] is not None and et == m["pooled_from"]:
                hit = e >= et
            x[:, 2 + j] = hit & (e >= 0)
        return x

    def project(self, years: Iterable[int], *, plan: str = "status_quo", plan_year: int | None = None,
                level: float = 0.95) -> pd.DataFrame:
        """District rate in ``years`` under a coverage ``plan`` (see the module docstring).

        Columns year, plan, estimate, std_error, ci_low, ci_high [fractions], coverage
        [graduate-weighted share of schools covered in the year under the plan], n_schools.
        The interval is a **prediction interval** for the district rate of that year, built as the
        recommended trend's (``trends.annual_trend``, chosen out of sample): the year-level part is
        s^2 (1 + z0' (Z'Z)^-1 z0), s^2 the residual variance of the projected schools' annual pooled rate
        around the model's district line after a regression on Z = (1, year, dip) (T - k df), z0 the
        projected year; plus the counseling effects' uncertainty c_e' V c_e (school-clustered plus
        year shocks) for the event-time terms the plan puts weight on; t(T - k). Out of sample
        (``benchmarks/results/trend_monte_carlo.md``, estimator ``projection_lpm_prediction``) it covers the
        realised rate as the annual regression does; the previous interval (the parameters' covariance plus
        a new-year noise term, t(min(G - 1, T - k))) covered 0.91 with 2 pp shocks and AR(1) school noise.
        """
        if plan not in PLANS:
            raise ValueError(f"project: plan {plan!r}: expected one of {', '.join(PLANS)}")
        m = self.model
        fc = self._full_coverage(plan_year) if plan == "full_coverage" else m["first_covered"]
        w = m["weights"]
        rows = []
        for year in years:
            x = self._school_x(int(year), fc)
            c = w @ (x - m["xbar"])
            est = float(w @ m["ybar"] + c @ self.params.to_numpy())
            # the year-level part as the recommended trend has it (level, trend, dip and the new year's deviation
            # from the annual rates); the effects' part from the parameters' covariance
            z0 = np.array([1.0, float(year) - self.info["year_origin"], 0.0])[m["annual_columns"]]
            ce = c * m["effect_mask"]
            v = float(ce @ m["cov"] @ ce) + m["annual_s2"] * (1.0 + float(z0 @ m["annual_ZtZ_inv"] @ z0))
            se = float(np.sqrt(v))
            q = stats.t(m["annual_df"]).ppf(0.5 + level / 2)
            cov = float(w @ ((fc > 0) & (fc <= int(year))).astype(float))
            rows.append((int(year), plan, est, se, max(0.0, est - q * se), min(1.0, est + q * se), cov,
                         int((w > 0).sum())))
        return pd.DataFrame(rows, columns=["year", "plan", "estimate", "std_error", "ci_low", "ci_high", "coverage",
                                           "n_schools"])

    def _full_coverage(self, plan_year: int | None) -> np.ndarray:
        """First covered year per school under ``full_coverage``: every school not covered by the last year of
        the data is covered from ``plan_year`` (default the year after)."""
        fc = self.model["first_covered"]
        last = int(self.info["last_year"])
        return np.where((fc == 0) | (fc > last), last + 1 if plan_year is None else int(plan_year), fc)

    def _plan_contrast(self, year: int, plan_year: int | None) -> np.ndarray:
        """c with c' params = projected rate under full coverage minus status quo in ``year``."""
        m = self.model
        return m["weights"] @ (self._school_x(int(year), self._full_coverage(plan_year))
                               - self._school_x(int(year), m["first_covered"]))

    def plan_effect(self, year: int, *, plan_year: int | None = None) -> tuple[float, float]:
        """Projected rate under full coverage minus status quo in ``year`` [fraction], and its SE
        (the school means cancel, only the effects' uncertainty remains)."""
        c = self._plan_contrast(year, plan_year)
        return float(c @ self.params.to_numpy()), float(np.sqrt(c @ self.model["cov"] @ c))

    def plan_effect_df(self, year: int, *, plan_year: int | None = None) -> float:
        """Degrees of freedom of ``plan_effect``: min(G - 1, T - k) when year shocks enter its variance, else G - 1."""
        c = self._plan_contrast(year, plan_year)
        m = self.model
        return float(min(self.df, m["df_year"])) if float(c @ m["cov_year"] @ c) > 0 else float(self.df)


def _year_shock_variance(resid: np.ndarray, n: np.ndarray, ycode: np.ndarray, T: int,
                         k_time: int) -> tuple[float, int]:
    """Variance of a district-wide year shock from within-school residuals: the graduate-weighted mean
    product of residuals of two different schools in the same year, scaled by T / (T - k_time) for the
    year-level quantities the fit absorbed (school means, trend, dip), floored at 0. Returns
    (sigma2, df = T - k_time), the degrees of freedom its uncertainty carries."""
    wr = n * resid
    s1 = np.bincount(ycode, weights=wr, minlength=T)
    s2 = np.bincount(ycode, weights=wr ** 2, minlength=T)
    m1 = np.bincount(ycode, weights=n, minlength=T)
    m2 = np.bincount(ycode, weights=n ** 2, minlength=T)
    den = float(np.sum(m1 ** 2 - m2))
    df = max(T - k_time, 1)
    if den <= 0:
        return 0.0, df
    cov = float(np.sum(s1 ** 2 - s2)) / den
    return max(0.0, cov * T / df), df


def _annual_year_part(model: "ProjectionModel", d: pd.DataFrame, keep: np.ndarray) -> dict[str, Any]:
    """The year-level variance of a projection, as the recommended trend (``trends.annual_trend``) measures it.
    r_t = the annual pooled rate of the schools projected (``keep``: those of the last year) minus the model's
    district line for year t (their fixed weights, each school's coverage as it was), so year shocks and the
    changes in the schools' mix between years stay in r_t as they do in the annual regression; r is regressed
    on Z = (1, year, dip) (the dip only when it varies and leaves two residual degrees of freedom, as in
    ``annual_trend``) and s^2 = RSS / (T - k). Returns ``annual_s2``, ``annual_df``, ``annual_ZtZ_inv`` and
    ``annual_columns`` (which of 1, year, dip Z keeps)."""
    m, info = model.model, model.info
    n = d[info["trials"]].to_numpy(dtype="float64")[keep]
    y = d[info["successes"]].to_numpy(dtype="float64")[keep]
    t = d["year"].to_numpy(dtype="float64")[keep]
    yrs, yc = np.unique(t, return_inverse=True)
    pooled = np.bincount(yc, weights=y) / np.bincount(yc, weights=n)
    base = float(m["weights"] @ m["ybar"])
    b = model.params.to_numpy()
    dip = np.isin(yrs, list(info["dip_years"])).astype(float)
    # _school_x leaves the dip at 0 (a projection has none); the line of a past year has it
    line = np.array([base + (m["weights"] @ (model._school_x(int(yr), m["first_covered"]) - m["xbar"])) @ b
                     for yr in yrs]) + dip * b[1]
    r = pooled - line
    cols = np.array([True, True, bool(0 < dip.sum() < len(dip)) and len(yrs) - 3 >= 2])  # as annual_trend
    Z = np.column_stack([np.ones(len(yrs)), yrs - info["year_origin"], dip])[:, cols]
    df = len(yrs) - Z.shape[1]
    ZtZ_inv = np.linalg.inv(Z.T @ Z)
    res = r - Z @ (ZtZ_inv @ (Z.T @ r))
    return {"annual_s2": float(res @ res) / max(df, 1), "annual_df": max(df, 1), "annual_ZtZ_inv": ZtZ_inv,
            "annual_columns": cols}


def fit_projection(panel: pd.DataFrame, *, successes: str = "vocational", trials: str = "graduates",
                   dip_years: Sequence[int] = (2020, 2021), pool_from: int | None = None) -> ProjectionModel:
    """Fit the projection model (module docstring) on a one-level school-year panel
    (``evaluation.panel.school_year_panel``, columns school_id, year, first_covered, event_time,
    ``successes``, ``trials``). Returns a ``ProjectionModel``."""
    need = ["school_id", "year", "first_covered", "event_time", successes, trials]
    missing = [c for c in need if c not in panel.columns]
    if missing:
        raise ValueError(f"fit_projection: the panel has no column(s) {', '.join(missing)}")
    if "level" in panel.columns and panel["level"].nunique() > 1:
        raise ValueError("fit_projection: the panel holds several levels; fit one level at a time")
    d = panel.loc[panel[trials].astype("float64") > 0].sort_values(["school_id", "year"]).reset_index(drop=True)
    if d["year"].nunique() < 3:
        raise NotEstimable("dự báo cần số liệu của ít nhất ba năm",
                           "fit_projection: a projection needs three years of data or more", code="one_cohort")
    n = d[trials].to_numpy(dtype="float64")
    y = d[successes].to_numpy(dtype="float64") / n
    t = d["year"].to_numpy(dtype="float64")
    origin = float(t.min())
    e = d["event_time"].to_numpy(dtype="float64")
    observed = sorted(int(v) for v in np.unique(e[np.isfinite(e) & (e >= 0)]))
    if pool_from is not None:
        observed = [v for v in observed if v < pool_from] + ([int(pool_from)] if any(v >= pool_from for v in observed) else [])
    cols = {"trend": t - origin, "dip": np.isin(t, list(dip_years)).astype(float)}
    for j, et in enumerate(observed):
        pooled = pool_from is not None and et == pool_from
        cols[f"effect_e{et}"] = ((e >= et) if pooled else (e == et)).astype(float) * np.isfinite(e)
    X = np.column_stack(list(cols.values()))
    names = list(cols)
    keep = X.std(axis=0) > 0
    if not keep[0]:
        raise NotEstimable("năm không thay đổi trong số liệu", "fit_projection: the year does not vary",
                           code="no_variation")
    X, names = X[:, keep], [nm for nm, k in zip(names, keep) if k]
    groups, uniq = pd.factorize(d["school_id"].astype(str))
    G = len(uniq)
    if G < 2:
        raise NotEstimable("chỉ có một trường: dự báo cần ít nhất hai trường",
                           "fit_projection: one school only; cluster-robust errors need two or more",
                           code="too_few_schools")
    Ni = np.bincount(groups, weights=n)
    xbar = np.vstack([np.bincount(groups, weights=n * X[:, j]) / Ni for j in range(X.shape[1])]).T
    ybar = np.bincount(groups, weights=n * y) / Ni
    Xt, yt = X - xbar[groups], y - ybar[groups]
    A = (Xt * n[:, None]).T @ Xt
    if np.linalg.matrix_rank(A) < A.shape[1]:
        raise NotEstimable("xu hướng và số năm kể từ khi bao phủ trùng lặp tuyến tính (mọi trường được bao phủ cùng "
                           "lúc, không có trường so sánh)",
                           "fit_projection: the trend and the event times are collinear (no untreated comparison?)",
                           code="collinear")
    b = np.linalg.solve(A, (Xt * n[:, None]).T @ yt)
    resid = yt - Xt @ b
    scores = np.vstack([np.bincount(groups, weights=n * resid * Xt[:, j], minlength=G) for j in range(X.shape[1])]).T
    Ainv = np.linalg.inv(A)
    N, K = len(d), X.shape[1]
    V_school = Ainv @ (scores.T @ scores) @ Ainv * (G / (G - 1)) * ((N - 1) / (N - K - 1))
    # district-wide year shocks: the covariance of residuals of different schools in the same year
    years_u, ycode = np.unique(t, return_inverse=True)
    T = len(years_u)
    k_time = 1 + int(np.any(np.isin(names, ["trend"]))) + int("dip" in names)  # school means + year-level slopes
    sigma2_year, df_year = _year_shock_variance(resid, n, ycode, T, k_time)
    q_it = Xt * n[:, None]
    S_t = np.zeros((T, K))
    np.add.at(S_t, ycode, q_it)
    cross = S_t.T @ S_t - q_it.T @ q_it  # sum over years of pairs of different schools
    V_year = sigma2_year * (Ainv @ cross @ Ainv)
    V = V_school + V_year
    # a new year's own noise: the shock shared by all schools and each school's idiosyncratic deviation
    dof_resid = max(N - G - K, 1)
    sigma2_school_year = max(0.0, float(np.sum(n * resid ** 2) / np.sum(n)) * N / dof_resid - sigma2_year)
    # schools of the last year: the population the projection is about
    last = int(t.max())
    in_last = np.zeros(G, dtype=bool)
    in_last[np.unique(groups[t == last])] = True
    mean_grads = Ni / np.bincount(groups)
    w = np.where(in_last, mean_grads, 0.0)
    w = w / w.sum()
    fc = d.groupby(groups)["first_covered"].first().to_numpy().astype(int)
    p_fit = np.clip(ybar[groups] + Xt @ b, 0.0, 1.0)
    var_mean = np.bincount(groups, weights=n * p_fit * (1 - p_fit)) / Ni ** 2
    mean_noise = float(np.sum(w ** 2 * var_mean))
    # a new year's deviation of the district rate from the line: the variance of the graduate-weighted annual
    # mean residuals (the shock shared by all schools plus the schools' own noise averaged), T - k_time df
    rbar = np.bincount(ycode, weights=n * resid, minlength=T) / np.bincount(ycode, weights=n, minlength=T)
    new_year_noise = float(max(np.sum(rbar ** 2) / df_year, sigma2_year + np.sum(w ** 2) * sigma2_school_year))
    info = {"level": str(d["level"].iloc[0]) if "level" in d.columns else None, "n_obs": int(N), "n_clusters": int(G),
            "n_schools_projected": int(in_last.sum()), "year_origin": origin, "last_year": last,
            "event_times": tuple(int(nm.split("effect_e")[1]) for nm in names if nm.startswith("effect_e")),
            "dip_years": tuple(int(v) for v in dip_years), "successes": successes, "trials": trials,
            "sigma_year_pp": 100 * float(np.sqrt(sigma2_year)), "df_year": df_year, "n_years": T}
    full_names = ["trend", "dip", *[f"effect_e{et}" for et in info["event_times"]]]
    if names != full_names:  # dip dropped (no dip year in the data): keep its slot at 0
        bb = pd.Series(0.0, index=full_names)
        bb[names] = b
        def pad(M):
            MM = pd.DataFrame(0.0, index=full_names, columns=full_names)
            MM.loc[names, names] = M
            return MM.to_numpy()
        b, V, V_school, V_year, names = bb.to_numpy(), pad(V), pad(V_school), pad(V_year), full_names
        xb = pd.DataFrame(0.0, index=range(G), columns=full_names)
        xb[[nm for nm, k in zip(cols, keep) if k]] = xbar
        xbar = xb.to_numpy()
    effect_mask = np.array([nm.startswith("effect_e") for nm in names], dtype=float)
    model = ProjectionModel(
        estimator="projection_lpm", estimand=f"{successes}/{trials}: trend and effect by event time",
        params=pd.Series(b, index=names), std_errors=pd.Series(np.sqrt(np.diag(V)), index=names),
        df=G - 1, cov_type="cluster (school_id) + district-wide year shocks", info=info,
        notes=("graduate-weighted LPM with school fixed effects (within transformation)",
               f"covariance: school-clustered plus the year-shock component (estimated year-shock SD "
               f"{100 * np.sqrt(sigma2_year):.2f} pp); projections are prediction intervals whose year-level part is the "
               "annual regression's (t(T - k))",
               *((f"only {G} clusters: read the intervals with care",) if G < 20 else ())),
        model={"weights": w, "ybar": ybar, "xbar": xbar, "first_covered": fc, "cov": V, "cov_school": V_school,
               "cov_year": V_year, "sigma2_year": sigma2_year, "df_year": df_year, "new_year_noise": new_year_noise,
               "mean_noise": mean_noise, "pooled_from": pool_from, "school_ids": np.asarray(uniq),
               "effect_mask": effect_mask},
    )
    model.model.update(_annual_year_part(model, d, in_last[groups]))
    return model


# --------------------------------------------------------------------------------------------
# coverage
# --------------------------------------------------------------------------------------------
def _wilson(k: float, n: float, level: float = 0.95) -> tuple[float, float, float]:
    """The share k/n and its Wilson interval (``indicators.wilson_interval``); NaN when n is 0."""
    if n <= 0:
        return float("nan"), float("nan"), float("nan")
    lo, hi = wilson_interval([k], [n], z=float(stats.norm.ppf(0.5 + level / 2)))
    return k / n, float(lo[0]), float(hi[0])


def coverage_projection(panel: pd.DataFrame, years: Iterable[int], *, level: float = 0.95) -> pd.DataFrame:
    """Counseling coverage of a one-level panel's schools in ``years`` (module docstring).

    Returns rows per year and plan (``status_quo``, ``pace``): year, plan, estimate, ci_low,
    ci_high [fraction of the schools reporting in the last year], hazard [adoptions per
    school-year at risk; pace only], n_schools.
    """
    for c in ("school_id", "year", "first_covered"):
        if c not in panel.columns:
            raise ValueError(f"coverage_projection: the panel has no column {c}")
    last = int(panel["year"].max())
    first = int(panel["year"].min())
    schools = panel.loc[panel["year"] == last].drop_duplicates("school_id")
    fc = schools["first_covered"].to_numpy().astype(int)
    is_covered = (fc > 0) & (fc <= last)
    covered = float(np.mean(is_covered))
    # a school whose last-year report is missing (and never covered before) may be covered: the high end
    unknown = 0.0
    if "coverage_status" in schools.columns:
        unknown = float(np.mean((schools["coverage_status"].astype(str).to_numpy() == "missing") & ~is_covered))
    # hazard over the period: schools uncovered at the start of year t (t > first year) and adopting in t
    allfc = panel.drop_duplicates("school_id")["first_covered"].to_numpy().astype(int)
    at_risk = events = 0
    for t in range(first + 1, last + 1):
        risk = (allfc == 0) | (allfc >= t)
        at_risk += int(risk.sum())
        events += int((allfc == t).sum())
    h, h_lo, h_hi = _wilson(events, at_risk, level)
    rows = []
    for year in years:
        k = max(0, int(year) - last)
        rows.append((int(year), "status_quo", covered, covered, covered + unknown, np.nan, len(fc)))
        f = lambda hz, c=covered: 1 - (1 - c) * (1 - hz) ** k  # noqa: E731
        rows.append((int(year), "pace", f(h), f(h_lo), f(h_hi, covered + unknown), h, len(fc)))
    return pd.DataFrame(rows, columns=["year", "plan", "estimate", "ci_low", "ci_high", "hazard", "n_schools"])


# --------------------------------------------------------------------------------------------
# the projections table
# --------------------------------------------------------------------------------------------


def _effective(dests: Sequence[str], level: str) -> frozenset[str]:
    """The destinations of ``level`` a destination list counts (empty: every ``voc_*`` one)."""
    allowed = DESTINATIONS[level]
    return frozenset(d for d in allowed if (d in dests) or (not dests and d.startswith(VOCATIONAL_PREFIX)))


def _target_row(targets, indicator: str, level: str, year: int, dests: tuple[str, ...] | None) -> tuple[float, str]:
    """Target in force (general area) and its source; NaN when none, or when it counts other
    destinations than the projected series (``dests``; None for coverage)."""
    if targets is None:
        return np.nan, ""
    row = target_in_force(targets, indicator=indicator, level=level, year=int(year))
    if row is None:
        return np.nan, ""
    if dests is not None and _effective(_destinations(row["counted_destinations"]), level) != _effective(dests, level):
        return np.nan, ""
    return float(row["target"]), str(row["source"])


def projections(panels: Sequence[pd.DataFrame] | pd.DataFrame, graduates: pd.DataFrame, *, years: Iterable[int],
                targets: pd.DataFrame | None = None, plan_year: int | None = None,
                measures: Sequence[str] = tuple(MEASURES), level: float = 0.95) -> pd.DataFrame:
    """The projections table: one row per level, indicator and year.

    ``panels`` are one-level school-year panels (or one stacked frame), ``graduates`` the
    cohort's graduates table (to count a target's destinations), ``years`` the projection years,
    ``targets`` the targets for the projection (``projection_targets``). Indicators:
    ``<measure>`` (status-quo coverage) and ``<measure>_full_coverage`` for each measure of
    ``MEASURES`` the level has, ``counselor_coverage`` (status quo) and ``counselor_coverage_pace``.
    A measure counts the destinations of its target in force in the last projection year.

    Columns ``PROJECTION_COLUMNS`` [fractions; target empty where none is in force or where it
    counts other destinations] then ``PROJECTION_EXTRA``: measure, plan, std_error,
    target_met (three-valued, ``target_met_status``: ``met`` when even the interval's low end reaches the
    target, ``not_met`` when even its high end falls short, ``not_determined`` when the interval straddles
    it; NA without target), target_source, destinations, status, reason_vi, reason_en, method, n_schools.
    ``status`` (``evaluation.status``): ``not_estimable`` with the reason when the level's projection cannot
    be fitted (one school, fewer than three years, no comparison), ``not_informative`` when the 95 %
    interval is wider than +-10 pp or a linear projection leaves 0..1 (then cut to it), else ``ok``.
    """
    years = [int(y) for y in years]
    if not years:
        raise ValueError("projections: no projection years")
    if isinstance(panels, pd.DataFrame):
        panels = [g for _, g in panels.groupby("level", sort=True)]
    rows = []
    for panel in panels:
        lvl = str(panel["level"].iloc[0])
        for measure in measures:
            ind, levels, _ = MEASURES[measure]
            if lvl not in levels:
                continue
            dests = measure_destinations(measure, level=lvl, year=max(years), targets=targets)
            p = add_destination_count(panel, graduates, destinations=dests, name="_counted")
            try:
                model = fit_projection(p, successes="_counted")
            except NotEstimable as exc:  # a row per plan and year saying why, not a failed review
                for plan in PLANS:
                    for y in years:
                        rows.append({"level": lvl, "indicator": measure if plan == "status_quo" else f"{measure}_{plan}",
                                     "year": y, "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                     "target": _target_row(targets, ind, lvl, y, dests)[0], "measure": measure,
                                     "plan": plan, "std_error": np.nan, "target_source": "",
                                     "destinations": ";".join(dests) or "voc_*", "method": "projection_lpm",
                                     "n_schools": int(panel["school_id"].nunique()), "status": NOT_ESTIMABLE,
                                     "reason_vi": exc.reason_vi, "reason_en": exc.reason_en})
                continue
            for plan in PLANS:
                pr = model.project(years, plan=plan, plan_year=plan_year, level=level)
                for r in pr.itertuples(index=False):
                    tgt, src = _target_row(targets, ind, lvl, r.year, dests)
                    rows.append({"level": lvl, "indicator": measure if plan == "status_quo" else f"{measure}_{plan}",
                                 "year": r.year, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                                 "target": tgt, "measure": measure, "plan": plan, "std_error": r.std_error,
                                 "target_source": src, "destinations": ";".join(dests) or "voc_*",
                                 "method": "projection_lpm", "n_schools": r.n_schools})
        cov = coverage_projection(panel, years, level=level)
        for r in cov.itertuples(index=False):
            tgt, src = _target_row(targets, "counselor_coverage", lvl, r.year, None)
            rows.append({"level": lvl, "indicator": "counselor_coverage" if r.plan == "status_quo" else "counselor_coverage_pace",
                         "year": r.year, "estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                         "target": tgt, "measure": "counselor_coverage", "plan": r.plan, "std_error": np.nan,
                         "target_source": src, "destinations": "", "method": "counted" if r.plan == "status_quo" else "hazard",
                         "n_schools": r.n_schools})
    out = pd.DataFrame(rows)
    out["target_met"] = target_met_status(out["ci_low"], out["ci_high"], out["target"])
    out["n_schools"] = out["n_schools"].astype("int64")
    if "status" not in out.columns:
        out["status"] = None
    for c in ("reason_vi", "reason_en"):
        out[c] = out[c].fillna("") if c in out.columns else ""
    todo = out["status"].isna()
    for i in np.flatnonzero(todo.to_numpy()):
        r = out.iloc[i]
        if r["method"] == "counted" and np.isfinite(r["estimate"]):
            st = status_fields(OK)
        else:
            st = informative_status(100 * r["estimate"], 100 * r["ci_low"], 100 * r["ci_high"])
        vals = r[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
        if st["status"] != NOT_ESTIMABLE and np.any((vals < 0) | (vals > 1)):
            st = status_fields(NOT_INFORMATIVE, "dự báo tuyến tính vượt ra ngoài khoảng có thể (0-100 %); đã cắt về "
                               "giới hạn", "the linear projection leaves the possible range (0-100 %); cut to it")
        for k, v in st.items():
            out.iat[i, out.columns.get_loc(k)] = v
    out[["estimate", "ci_low", "ci_high"]] = out[["estimate", "ci_low", "ci_high"]].clip(0.0, 1.0)
    return out.loc[:, [*PROJECTION_COLUMNS, *PROJECTION_EXTRA]]


# --------------------------------------------------------------------------------------------
# coverage needed, the next review's power, findings
# --------------------------------------------------------------------------------------------
def coverage_needed(model: ProjectionModel, *, target: float, year: int = 2030, plan_year: int | None = None,
                    level: float = 0.95) -> dict[str, Any]:
    """The coverage increase needed for the projected rate to reach ``target`` in ``year``.

    Returns a dict: status_quo, full_coverage [projected rates], plan_effect, plan_effect_low,
    plan_effect_high [fraction: full coverage minus status quo, 95 % bounds], uncovered_schools
    [share of the schools not covered by the last year], needed_share [f, share of the uncovered
    schools' graduates to cover; with its bounds needed_share_low/high from the effect's bounds],
    increase, increase_low, increase_high [coverage rise, share of schools], status
    (``already_met``, ``reachable``, ``not_reachable_by_coverage``, ``no_uncovered_schools``).
    """
    if not 0 <= target <= 1:
        raise ValueError(f"coverage_needed: target {target!r}: expected a fraction in 0..1")
    sq = model.project([year], plan="status_quo", plan_year=plan_year, level=level).iloc[0]
    full = model.project([year], plan="full_coverage", plan_year=plan_year, level=level).iloc[0]
    eff, se = model.plan_effect(year, plan_year=plan_year)
    q = stats.t(model.plan_effect_df(year, plan_year=plan_year)).ppf(0.5 + level / 2)
    lo, hi = eff - q * se, eff + q * se
    fc = model.model["first_covered"]
    last = int(model.info["last_year"])
    in_last = model.model["weights"] > 0
    unc = float(np.mean(((fc == 0) | (fc > last))[in_last]))
    gap = target - float(sq["estimate"])

    def share(effect: float) -> float:
        return gap / effect if effect > 0 else float("inf")

    f, f_lo, f_hi = share(eff), share(hi), share(lo)
    if gap <= 0:
        status = "already_met"
        f = f_lo = f_hi = 0.0
    elif unc == 0:
        status = "no_uncovered_schools"
    elif f <= 1:
        status = "reachable"
    else:
        status = "not_reachable_by_coverage"
    return {"year": int(year), "target": float(target), "status_quo": float(sq["estimate"]),
            "full_coverage": float(full["estimate"]), "plan_effect": eff, "plan_effect_low": lo,
            "plan_effect_high": hi, "uncovered_schools": unc, "needed_share": f, "needed_share_low": f_lo,
            "needed_share_high": f_hi, "increase": f * unc, "increase_low": f_lo * unc,
            "increase_high": f_hi * unc, "status": status}


def next_review_mde(panel: pd.DataFrame, *, years: int = 5, share_treated: float = 0.5, alpha: float = 0.05,
                    power: float = 0.8, method: str = "t", successes: str = "vocational",
                    trials: str = "graduates") -> dict[str, Any]:
    """Minimum detectable effect of the next review's design from a one-level panel: the schools
    reporting in the last year, their mean graduates per year, the ICC of the period
    (``power.estimate_icc``, floored at 0), the last year's rate as baseline, ``years`` cohorts,
    ``share_treated`` of the schools compared with the rest. Returns
    ``power.minimum_detectable_effect``'s dict (mde [fraction], mde_pp) plus icc_estimated."""
    from .power import estimate_icc, minimum_detectable_effect

    with_grads = panel.loc[panel[trials] > 0, "year"]
    if with_grads.empty:
        raise NotEstimable("không có học sinh tốt nghiệp", "next_review_mde: no graduates", code="no_graduates")
    last = int(with_grads.max())  # the last year with graduates (a year whose counts are all 0 is skipped)
    cur = panel.loc[(panel["year"] == last) & (panel[trials] > 0)]
    icc = estimate_icc(panel, successes=successes, trials=trials)
    base = float(cur[successes].sum() / cur[trials].sum())
    out = minimum_detectable_effect(n_schools=len(cur), cohort_size=float(cur[trials].mean()),
                                    icc=max(0.0, icc), years=years, share_treated=share_treated, alpha=alpha,
                                    power=power, baseline_rate=base, method=method)
    out["icc_estimated"] = icc
    return out


def needed_for_targets(panels: Sequence[pd.DataFrame] | pd.DataFrame, graduates: pd.DataFrame, *,
                       targets: pd.DataFrame, year: int, plan_year: int | None = None,
                       measures: Sequence[str] = tuple(MEASURES)) -> list[dict[str, Any]]:
    """``coverage_needed`` for every level and measure with a target in force (general area) in
    ``year`` that counts the destinations the measure projects; each dict gains level, measure and
    target_source. Empty when no target applies."""
    if isinstance(panels, pd.DataFrame):
        panels = [g for _, g in panels.groupby("level", sort=True)]
    out = []
    for panel in panels:
        lvl = str(panel["level"].iloc[0])
        for measure in measures:
            ind, levels, _ = MEASURES[measure]
            if lvl not in levels:
                continue
            dests = measure_destinations(measure, level=lvl, year=year, targets=targets)
            tgt, src = _target_row(targets, ind, lvl, year, dests)
            if np.isnan(tgt):
                continue
            p = add_destination_count(panel, graduates, destinations=dests, name="_counted")
            try:
                res = coverage_needed(fit_projection(p, successes="_counted"), target=tgt, year=year,
                                      plan_year=plan_year)
            except NotEstimable as exc:
                res = {"status": "not_estimable", "target": tgt, "year": year, "reason_vi": exc.reason_vi,
                       "reason_en": exc.reason_en}
            out.append({"level": lvl, "measure": measure, "target_source": src, **res})
    return out


def next_review_mde_by_level(panels: Sequence[pd.DataFrame] | pd.DataFrame, **options: Any) -> dict[str, dict[str, Any]]:
    """``next_review_mde`` of each level's panel (a stacked frame is split by level): {level: dict}."""
    if isinstance(panels, pd.DataFrame):
        panels = [g for _, g in panels.groupby("level", sort=True)]
    out = {}
    for p in panels:
        try:
            out[str(p["level"].iloc[0])] = next_review_mde(p, **options)
        except NotEstimable as exc:  # e.g. fewer than 3 schools for the t method
            out[str(p["level"].iloc[0])] = {"status": "not_estimable", "reason_vi": exc.reason_vi,
                                            "reason_en": exc.reason_en, "mde": float("nan"), "mde_pp": float("nan")}
    return out
