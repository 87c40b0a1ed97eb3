"""Effect heterogeneity: the effect by subgroup and a test that the subgroup effects are equal."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.results import EstimateResults, TestResult

__all__ = ["heterogeneity", "HETEROGENEITY_COLUMNS"]
from evaluation.effects.dose import dose_response
from evaluation.effects.fixed_effects import (DEFAULT_TOL, FixedEffectsFit, _codes, _fit_lpm, _prepare,
                                             _require_columns, _singleton_mask)
from evaluation.effects.twfe import twfe


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

