"""Event study: two-way fixed effects with leads and lags around each unit's first treated year.

``event_study`` regresses the outcome on event-time indicators ``1{year - first_treated = e}``
for e in the window (the reference period omitted), with unit and time effects absorbed and the
same graduate weights, cluster-robust covariance and small-sample correction as
:func:`evaluation.effects.twfe.twfe` (see that module's docstring). Never-treated units
(``first_treated == 0``) have every indicator 0 and serve as controls.

Pre-trend check: a joint Wald F test that every lead (e <= -2, the reference -1 omitted) is zero,
``F = b' V^-1 b / q`` with the cluster-robust V, referred to F(q, G-1).

Under staggered adoption with effects that vary across cohorts, the lead/lag coefficients of
this regression can be contaminated by effects at other event times (Sun & Abraham 2021);
``staggered_did`` (Callaway-Sant'Anna) is the robust alternative.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.effects.fixed_effects import (DEFAULT_TOL, _codes, _fit_lpm, _info, _prepare, _py, _replace,
                                             _singleton_mask, _wald_F)
from evaluation.effects.twfe import TwfeResults, _bootstrap_table

__all__ = ["event_study", "EventStudyResults", "EVENT_STUDY_COLUMNS", "event_term"]

EVENT_STUDY_COLUMNS = ("event_time", "term", "estimate", "std_error", "ci_low", "ci_high", "p_value", "reference")


def event_term(e: int) -> str:
    """Name of the coefficient for event time ``e`` (e.g. ``event_time=-2``)."""
    return f"event_time={int(e)}"


class EventStudyResults(TwfeResults):
    """Results of :func:`event_study` (read-only).

    ``params`` are indexed by ``event_term(e)``; ``event_times`` maps them to integers;
    ``pretrend`` is the joint Wald F test of the leads; ``to_frame`` adds ``event_time`` and the
    reference period as a row with estimate 0 and empty (NaN) error, interval and p-value, flagged
    ``reference=True`` (so a plot shows the normalisation).
    """

    @property
    def reference(self) -> int:
        return int(self.info["reference"])

    @property
    def event_times(self) -> pd.Series:
        return pd.Series([int(t.split("=")[1]) for t in self.params.index], index=self.params.index, name="event_time")

    @property
    def pretrend(self):
        return self.tests.get("pretrend")

    def to_frame(self, *, pp: bool = False, level: float = 0.95) -> pd.DataFrame:
        """Tidy frame with columns ``EVENT_STUDY_COLUMNS`` (``estimate_pp`` with ``pp=True``), sorted by event time."""
        out = super().to_frame(pp=pp, level=level)
        out.insert(0, "event_time", self.event_times.to_numpy())
        out["reference"] = False
        est = "estimate_pp" if pp else "estimate"
        ref = pd.DataFrame({"event_time": [self.reference], "term": [event_term(self.reference)], est: [0.0],
                            "std_error": [np.nan], "ci_low": [np.nan], "ci_high": [np.nan], "p_value": [np.nan],
                            "reference": [True]})
        out = pd.concat([out, ref], ignore_index=True).sort_values("event_time", kind="stable")
        return out.reset_index(drop=True)

    def wild_bootstrap(self, *, reps: int = 999, seed: int = 2025, weights_type: str = "rademacher",
                       level: float = 0.95, impose_null: bool = True, pp: bool = False) -> pd.DataFrame:
        """Wild cluster bootstrap-t per event-time term (see :meth:`TwfeResults.wild_bootstrap`), with ``event_time``."""
        out = _bootstrap_table(self, reps=reps, seed=seed, weights_type=weights_type, level=level,
                               impose_null=impose_null, pp=pp)
        out.insert(0, "event_time", self.event_times.loc[out["term"]].to_numpy())
        return out


def event_study(data: pd.DataFrame, *, outcome: str = "rate", unit: str = "school_id", time: str = "year",
                first_treated: str = "first_covered", weights: str | None = "graduates",
                cluster: str | None = "school_id", window: tuple[int, int] = (-4, 4), reference: int = -1,
                bin_endpoints: bool = True, cov_type: str = "cluster", ssc_fixef_k: str = "nested",
                drop_singletons: bool = True, tol: float = DEFAULT_TOL) -> EventStudyResults:
    """Leads and lags of first treatment in a two-way fixed-effects regression.

    Event time is ``time - first_treated`` (years since the first covered year; 0 = first covered
    cohort) for units with ``first_treated > 0``; units with ``first_treated == 0`` are never
    treated and have no event time. Indicators are built for every e in ``window`` except
    ``reference``. With ``bin_endpoints=True`` event times beyond the window are pooled into the
    endpoint indicators (e <= lo into lo, e >= hi into hi: the endpoints then mean "lo or more years
    before" / "hi or more years after"); with ``False`` the treated units' observations outside the
    window are dropped (counted in ``info["dropped_rows"]``).

    Estimates are in outcome units (a rate effect as a fraction; ``to_frame(pp=True)`` for
    percentage points). Covariance: cluster-robust CRV1 by ``cluster`` (``cov_type="cluster"``),
    small-sample factor as in :func:`twfe`, t(G-1) intervals. ``pretrend``: joint F test that
    all leads (e <= -2) are zero.
    """
    where = "event_study"
    lo, hi = (int(window[0]), int(window[1]))
    if not lo <= reference <= hi:
        raise ValueError(f"{where}: reference {reference} must lie in the window {window}")
    if lo >= hi:
        raise ValueError(f"{where}: window must be (lo, hi) with lo < hi, got {window}")
    if cov_type != "cluster":
        raise ValueError(f"{where}: cov_type must be 'cluster' (cluster-robust CRV1), got {cov_type!r}")
    cluster = cluster or unit
    frame, dropped = _prepare(data, outcome=outcome, regressors=[], unit=unit, time=time, weights=weights,
                              cluster=cluster, drop_singletons=False, where=where, extra_numeric=[first_treated])
    ft = frame[first_treated].to_numpy(dtype=float)
    per_unit = frame.groupby("_fe_unit")[first_treated].nunique()
    if (per_unit > 1).any():
        u = per_unit.index[np.argmax(per_unit.to_numpy() > 1)]
        row = frame.loc[frame["_fe_unit"] == u].iloc[0]
        raise ValueError(f"{where}: column {first_treated!r} must be constant within {unit}; {unit}={row[unit]!r} "
                         f"has values {sorted(frame.loc[frame['_fe_unit'] == u, first_treated].unique().tolist())}")
    if (ft < 0).any():
        r = int(np.argmax(ft < 0))
        raise ValueError(f"{where}: column {first_treated!r} must be 0 (never treated) or a year; row "
                         f"{_py(frame['_row'].iloc[r])!r} has value {_py(ft[r])!r}")
    treated_unit = ft > 0
    if not treated_unit.any():
        raise ValueError(f"{where}: no unit is ever treated ({first_treated!r} is 0 everywhere)")
    e = np.where(treated_unit, frame[time].to_numpy(dtype=float) - ft, np.nan)
    if bin_endpoints:
        e = np.where(treated_unit, np.clip(e, lo, hi), np.nan)
    else:
        outside = treated_unit & ((e < lo) | (e > hi))
        dropped["outside_window"] = int(outside.sum())
        frame, e = frame.loc[~outside].reset_index(drop=True), e[~outside]
    frame["_fe_unit"], frame["_fe_time"] = _codes(frame[unit]), _codes(frame[time])
    if drop_singletons:
        keep = _singleton_mask([frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()])
        dropped["singletons"] = int((~keep).sum())
        frame, e = frame.loc[keep].reset_index(drop=True), e[keep]
        frame["_fe_unit"], frame["_fe_time"] = _codes(frame[unit]), _codes(frame[time])
    frame["_cluster"] = _codes(frame[cluster])
    present = sorted({int(v) for v in e[~np.isnan(e)]})
    terms_e = [k for k in range(lo, hi + 1) if k != reference and k in present]
    if reference not in present:
        raise ValueError(f"{where}: no treated observation at the reference event time {reference}")
    names = [event_term(k) for k in terms_e]
    for k, nm in zip(terms_e, names):
        frame[nm] = (e == k).astype(float)
    fit = _fit_lpm(frame, outcome=outcome, regressors=names, unit=unit, time=time, weights=weights, cluster=cluster,
                   ssc_fixef_k=ssc_fixef_k, tol=tol, where=where)
    fit = _replace(fit, n_dropped=dropped, extra={"event_time": e})
    info = _info(fit.frame, unit=unit, cluster=cluster, weights=weights, cov_type="CRV1", fit_ssc=fit.ssc,
                 ssc_k=fit.ssc_k, ssc_fixef_k=ssc_fixef_k, dropped=dropped, model="lpm", iterations=fit.fe_iterations)
    n_never = int(frame.loc[frame[first_treated] == 0, "_fe_unit"].nunique())
    estimand = "effect by years since first treatment relative to the reference year (TWFE event study)"
    info.update({"estimand": estimand, "reference": reference, "window": f"[{lo}, {hi}]",
                 "binned_endpoints": bool(bin_endpoints), "n_never_treated_units": n_never,
                 "comparison": "never-treated and not-yet-treated units (implicit, through the year effects)"})
    G = info["n_clusters"]
    leads = [nm for k, nm in zip(terms_e, names) if k < reference]
    tests = {}
    if leads:
        tests["pretrend"] = _wald_F(fit.beta[leads], fit.vcov.loc[leads, leads], G,
                                    name="pre-trend (joint Wald test of the leads)",
                                    null=f"all leads ({', '.join(leads)}) are zero")
    se = pd.Series(np.sqrt(np.diag(fit.vcov.to_numpy())), index=names)
    return EventStudyResults(estimator="event_study", estimand=estimand, params=fit.beta, std_errors=se, df=G - 1,
                             cov_type="cluster-robust (CRV1) by " + cluster, info=info, tests=tests,
                             notes=(f"Reference period e={reference} (normalised to 0); "
                                    + ("endpoints binned" if bin_endpoints else "observations outside the window dropped")
                                    + f"; {unit} and {time} effects absorbed; graduate-weighted.",),
                             model=fit)

