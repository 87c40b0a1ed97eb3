"""Event study: pyfixest reference on the same indicators, planted dynamic effects and pre-trends."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaluation.status import NotEstimable
from numpy.testing import assert_allclose
from scipy import stats

from evaluation.effects import EventStudyResults, event_study
from evaluation.effects.event_study import EVENT_STUDY_COLUMNS, event_term

import pyfixest as pf  # a dev dependency (pyproject [dev]): the reference the estimators are held to
from pyfixest.demeaners import MapDemeaner  # noqa: E402

TIGHT = MapDemeaner(fixef_tol=1e-13)


def simulate(*, schools=60, seed=1, dynamic=(0.02, 0.04, 0.06, 0.06, 0.06), lead=0.0,
             cohorts=(0, 2020, 2021, 2022, 2023), grads=(100, 300), missing=0.0):
    """Panel whose effect at event time e >= 0 is ``dynamic[min(e, 4)]`` (same in every cohort), and
    ``lead * (e + 1)`` at e <= -2 (a planted pre-trend when ``lead`` != 0)."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(schools):
        g = int(rng.choice(cohorts))
        a = rng.normal(0, 0.05)
        for t in range(2017, 2026):
            if missing and rng.random() < missing:
                continue
            n = int(rng.integers(*grads))
            eff = 0.0
            if g > 0:
                e = t - g
                eff = dynamic[min(e, len(dynamic) - 1)] if e >= 0 else (lead * (e + 1) if e <= -2 else 0.0)
            p = float(np.clip(0.25 + a + 0.008 * (t - 2017) + eff, 0.01, 0.99))
            v = int(rng.binomial(n, p))
            rows.append(dict(school_id=f"S{s:03d}", year=t, graduates=n, vocational=v, rate=v / n,
                             first_covered=g, treated=int(g > 0 and t >= g)))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def panel():
    return simulate(missing=0.08, seed=3)


def _dummies(df, lo=-4, hi=4, ref=-1, binned=True):
    e = np.where(df.first_covered > 0, df.year - df.first_covered, np.nan)
    if binned:
        e = np.where(df.first_covered > 0, np.clip(e, lo, hi), np.nan)
    out = df.copy()
    names = []
    for k in range(lo, hi + 1):
        if k == ref:
            continue
        nm = f"e_m{-k}" if k < 0 else f"e_p{k}"
        out[nm] = (e == k).astype(float)
        names.append(nm)
    return out, names


def test_matches_pyfixest_on_the_same_indicators(panel):
    res = event_study(panel)
    d, names = _dummies(panel)
    ref = pf.feols(f"rate ~ {' + '.join(names)} | school_id + year", data=d, weights="graduates",
                   vcov={"CRV1": "school_id"}, demeaner=TIGHT)
    assert_allclose(res.params.to_numpy(), ref.coef().to_numpy(), rtol=0, atol=1e-8)
    assert_allclose(res.std_errors.to_numpy(), ref.se().to_numpy(), rtol=0, atol=1e-8)
    assert_allclose(res.pvalues.to_numpy(), ref.pvalue().to_numpy(), rtol=0, atol=1e-8)
    # pre-trend: joint Wald F of the three leads with pyfixest's vcov, F(3, G-1)
    b, V = ref.coef().to_numpy()[:3], ref._vcov[:3, :3]
    F = b @ np.linalg.solve(V, b) / 3
    G = panel.school_id.nunique()
    assert_allclose(res.pretrend.statistic, F, rtol=1e-7)
    assert res.pretrend.df == (3, G - 1)
    assert_allclose(res.pretrend.p_value, stats.f.sf(F, 3, G - 1), rtol=1e-6)


def test_unbinned_window_drops_outside_observations_and_matches_pyfixest(panel):
    res = event_study(panel, window=(-3, 3), bin_endpoints=False)
    e = np.where(panel.first_covered > 0, panel.year - panel.first_covered, np.nan)
    keep = ~((panel.first_covered > 0) & ((e < -3) | (e > 3)))
    d, names = _dummies(panel[keep], lo=-3, hi=3, binned=False)
    ref = pf.feols(f"rate ~ {' + '.join(names)} | school_id + year", data=d, weights="graduates",
                   vcov={"CRV1": "school_id"}, demeaner=TIGHT)
    assert_allclose(res.params.to_numpy(), ref.coef().to_numpy(), rtol=0, atol=1e-8)
    assert_allclose(res.std_errors.to_numpy(), ref.se().to_numpy(), rtol=0, atol=1e-8)
    assert f"outside_window={int((~keep).sum())}" in res.info["dropped_rows"]


def test_recovers_planted_dynamic_effects_without_pretrend():
    dyn = (0.02, 0.04, 0.06, 0.06, 0.06)
    res = event_study(simulate(schools=600, seed=5, grads=(200, 400), dynamic=dyn))
    fr = res.to_frame().set_index("event_time")
    truth = {-4: 0, -3: 0, -2: 0, -1: 0, 0: 0.02, 1: 0.04, 2: 0.06, 3: 0.06, 4: 0.06}
    for e, v in truth.items():
        if e == -1:
            continue
        assert abs(fr.loc[e, "estimate"] - v) < max(3.5 * fr.loc[e, "std_error"], 0.003), e
    assert res.pretrend.p_value > 0.001


def test_pretrend_test_detects_planted_pretrend():
    res = event_study(simulate(schools=300, seed=6, grads=(200, 400), lead=0.015))
    assert res.pretrend.p_value < 1e-4
    assert res.params[event_term(-3)] < -0.01  # lead * (e + 1) = -0.03 at e = -3


def test_to_frame_reference_row_and_units(panel):
    res = event_study(panel)
    fr = res.to_frame()
    assert tuple(fr.columns) == EVENT_STUDY_COLUMNS
    assert fr["event_time"].tolist() == list(range(-4, 5))
    refrow = fr.loc[fr.reference]
    assert len(refrow) == 1 and refrow.event_time.iloc[0] == -1 and refrow.estimate.iloc[0] == 0
    assert refrow[["std_error", "ci_low", "ci_high", "p_value"]].isna().all(axis=None)
    pp = res.to_frame(pp=True)
    assert "estimate_pp" in pp.columns and "estimate" not in pp.columns
    assert_allclose(pp["estimate_pp"], fr["estimate"] * 100)
    assert_allclose(pp["ci_low"].dropna(), fr["ci_low"].dropna() * 100)


def test_other_reference_and_window():
    df = simulate(seed=8)
    res = event_study(df, window=(-3, 2), reference=-2)
    assert res.reference == -2 and event_term(-2) not in res.params.index
    assert res.event_times.tolist() == [-3, -1, 0, 1, 2]
    assert res.pretrend.df[0] == 1  # only e = -3 is a lead before the reference


def test_errors_are_clear():
    df = simulate(cohorts=(2020, 2022), seed=9)  # no never-treated school: a second term is normalised (fixest)
    assert event_study(df, bin_endpoints=False, window=(-3, 3)).info["normalised"] == (-3, -2)  # two cohorts: 2 dims
    with pytest.raises(NotEstimable, match="collinear"):  # one adoption year, no comparison: nothing estimable
        event_study(simulate(cohorts=(2021,), seed=9), bin_endpoints=False, window=(-3, 3))
    bad = simulate(seed=10)
    bad.loc[bad.index[0], "first_covered"] = 2019 if bad.first_covered.iloc[0] != 2019 else 2020
    with pytest.raises(ValueError, match="must be constant within school_id"):
        event_study(bad)
    with pytest.raises(ValueError, match="no unit is ever treated"):
        event_study(simulate(cohorts=(0,), seed=1))
    with pytest.raises(ValueError, match="reference"):
        event_study(simulate(seed=1), reference=-6)


def test_results_object_every_public_attribute(panel):
    res = event_study(panel)
    assert isinstance(res, EventStudyResults)
    assert res.estimator == "event_study" and "years since first treatment" in res.estimand
    assert list(res.params.index) == [event_term(e) for e in (-4, -3, -2, 0, 1, 2, 3, 4)]
    assert res.std_errors.index.equals(res.params.index)
    assert res.df == res.info["n_clusters"] - 1
    assert_allclose(res.pvalues, 2 * stats.t(res.df).sf(np.abs(res.tvalues)))
    assert res.conf_int().shape == (8, 2)
    assert res.vcov.shape == (8, 8)
    for key in ("n_obs", "n_units", "n_clusters", "cov_type", "weights", "reference", "window",
                "n_never_treated_units", "comparison"):
        assert key in res.info
    assert res.pretrend is res.tests["pretrend"]
    assert "pre-trend" in str(res) and "<table" in res._repr_html_()
    assert res.summary.title.startswith("event_study")
    lags = res.wald_test([event_term(e) for e in (0, 1)])
    assert lags.df == (2, res.df)
    wb = res.wild_bootstrap(reps=99, seed=1)
    assert wb["event_time"].tolist() == [-4, -3, -2, 0, 1, 2, 3, 4]
    assert ((wb.ci_low <= wb.estimate) & (wb.estimate <= wb.ci_high)).all()
    with pytest.raises(Exception):
        res.params.iloc[0] = 0.0
