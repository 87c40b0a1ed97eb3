"""Event study: two-way fixed effects with leads and lags around each unit's first treated year.

``event_study`` regresses the outcome on event-time indicators ``1{year - first_treated = e}``
for e in the window (the reference period omitted), with unit and time effects absorbed and the
same graduate weights, cluster-robust covariance and small-sample correction as
:func:`evaluation.effects.twfe.twfe` (see that module's docstring). Never-treated units
(``first_treated == 0``) have every indicator 0 and serve as controls.

Collinear event times: without never-treated units (or when every unit adopts in the same year) the
event-time indicators are collinear with the unit and year effects: relative time is calendar time
minus a unit constant. As fixest does, collinear indicators are removed, which normalises them to 0
like the reference period: the lags are kept first, then the leads from the nearest to the earliest,
and a term that adds no independent variation is dropped, so the earliest lead is normalised (the
usual second reference period of Borusyak, Jaravel and Spiess 2024; it assumes no effect there). They are listed in
``info["normalised"]`` and shown as reference rows by ``to_frame``. Nothing left to estimate ->
:class:`evaluation.status.NotEstimable`.

Pre-trend check: a joint Wald F test that every lead (e <= -2, the reference -1 omitted) is zero,
``F = b' V^-1 b / q`` with the cluster-robust V, referred to F(q, G-1).

Under staggered adoption with effects that vary across cohorts, the lead/lag coefficients of
this regression can be contaminated by effects at other event times (Sun & Abraham 2021);
``staggered_did`` (Callaway-Sant'Anna) is the robust alternative.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from evaluation.effects.fixed_effects import (DEFAULT_TOL, Absorber, _codes, _fit_lpm, _info, _prepare, _py,
                                             _replace, _singleton_mask, _wald_F)
from evaluation.status import NotEstimable, not_estimable
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
        extra = [int(k) for k in self.info.get("normalised", ())]
        if extra:
            ref = pd.concat([ref, pd.DataFrame({"event_time": extra, "term": [event_term(k) for k in extra],
                                                est: 0.0, "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                                                "p_value": np.nan, "reference": True})], ignore_index=True)
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
        raise not_estimable("no_treated", "", f"{where}: no unit is ever treated ({first_treated!r} is 0 everywhere)")
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
        raise NotEstimable(f"không có trường nào có quan sát ở năm tham chiếu (năm trước khi được bao phủ, e={reference})",
                           f"{where}: no treated observation at the reference event time {reference} "
                           "(no covered school is observed the year before its coverage)", code="no_pre_period")
    if frame["_cluster"].nunique() < 2:
        raise not_estimable("too_few_schools", "cần ít nhất 2 trường", f"{where}: one cluster only")
    for k in terms_e:
        frame[event_term(k)] = (e == k).astype(float)
    terms_e, normalised = _independent_terms(frame, terms_e, reference, weights, tol)
    if not terms_e:
        raise NotEstimable("mọi hệ số theo năm kể từ khi bao phủ đều trùng lặp với hiệu ứng năm: không có trường so "
                           "sánh chưa được bao phủ",
                           f"{where}: every event-time indicator is collinear with the unit and year effects "
                           "(no not-yet- or never-covered comparison)", code="collinear")
    names = [event_term(k) for k in terms_e]
    fit = _fit_lpm(frame, outcome=outcome, regressors=names, unit=unit, time=time, weights=weights, cluster=cluster,
                   ssc_fixef_k=ssc_fixef_k, tol=tol, where=where)
    fit = _replace(fit, n_dropped=dropped, extra={"event_time": e})
    info = _info(fit.frame, unit=unit, cluster=cluster, weights=weights, cov_type="CRV1", fit_ssc=fit.ssc,
                 ssc_k=fit.ssc_k, ssc_fixef_k=ssc_fixef_k, dropped=dropped, model="lpm", iterations=fit.fe_iterations)
    n_never = int(frame.loc[frame[first_treated] == 0, "_fe_unit"].nunique())
    estimand = "effect by years since first treatment relative to the reference year (TWFE event study)"
    info.update({"estimand": estimand, "reference": reference, "window": f"[{lo}, {hi}]",
                 "binned_endpoints": bool(bin_endpoints), "n_never_treated_units": n_never,
                 "comparison": "never-treated and not-yet-treated units (implicit, through the year effects)",
                 "normalised": tuple(normalised)})
    G = info["n_clusters"]
    leads = [nm for k, nm in zip(terms_e, names) if k < reference]
    tests = {}
    if leads and np.all(np.isfinite(fit.vcov.loc[leads, leads].to_numpy())) and \
            np.linalg.matrix_rank(fit.vcov.loc[leads, leads].to_numpy()) == len(leads):
        tests["pretrend"] = _wald_F(fit.beta[leads], fit.vcov.loc[leads, leads], G,
                                    name="pre-trend (joint Wald test of the leads)",
                                    null=f"all leads ({', '.join(leads)}) are zero")
    se = pd.Series(np.sqrt(np.diag(fit.vcov.to_numpy())), index=names)
    return EventStudyResults(estimator="event_study", estimand=estimand, params=fit.beta, std_errors=se, df=G - 1,
                             cov_type="cluster-robust (CRV1) by " + cluster, info=info, tests=tests,
                             notes=(f"Reference period e={reference} (normalised to 0); "
                                    + (f"collinear event times {normalised} also normalised to 0 (as fixest drops "
                                       "them); " if normalised else "")
                                    + ("endpoints binned" if bin_endpoints else "observations outside the window dropped")
                                    + f"; {unit} and {time} effects absorbed; graduate-weighted.",),
                             model=fit)



def _independent_terms(frame: pd.DataFrame, terms_e: list[int], reference: int, weights: str | None,
                       tol: float) -> tuple[list[int], list[int]]:
    """Event times whose indicators stay linearly independent once unit and year effects are absorbed.

    Terms after the reference come first (nearest first), then the leads from the nearest to the earliest; one
    that is absorbed or collinear with those kept is dropped (normalised to 0), so the earliest lead goes first. Returns (kept in event-time order, dropped)."""
    if not terms_e:
        return [], []
    w = frame[weights].to_numpy(dtype=float) if weights else np.ones(len(frame))
    ab = Absorber([frame["_fe_unit"].to_numpy(), frame["_fe_time"].to_numpy()], w, tol=tol)
    D = frame[[event_term(k) for k in terms_e]].to_numpy(dtype=float)
    Z = ab.demean(D) * np.sqrt(w)[:, None]
    raw = np.sqrt(((D - np.average(D, axis=0, weights=w)) ** 2 * w[:, None]).sum(axis=0))
    order = sorted(range(len(terms_e)), key=lambda j: (terms_e[j] < reference, abs(terms_e[j] - reference)))
    kept: list[int] = []
    for j in order:
        if np.linalg.norm(Z[:, j]) <= 1e-7 * max(raw[j], 1e-300):
            continue
        cand = kept + [j]
        Zc = Z[:, cand] / np.linalg.norm(Z[:, cand], axis=0)
        sv = np.linalg.svd(Zc, compute_uv=False)
        if sv[-1] > 1e-6 * sv[0]:
            kept = cand
    keep = sorted(terms_e[j] for j in kept)
    return keep, sorted(k for k in terms_e if k not in keep)
