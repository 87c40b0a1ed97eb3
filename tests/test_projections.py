"""Projections to 2030 (evaluation.projections).

Known answers: a noise-free linear panel (every parameter and projection exact), pyfixest's
weighted fixed-effects regression with CRV1 errors (same coefficients and standard errors), a
hand-counted adoption hazard, and the sample's planted 2030 values (truth.json
"projection_2030"), which the 95 % intervals must cover."""
from __future__ import annotations

from evaluation import findings as fnd

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evaluation import projections as P
from evaluation.panel import school_year_panel
from evaluation.reference import load_targets, shipped_targets

YEARS = list(range(2018, 2026))


def _effect(e):
    e = np.asarray(e, dtype=float)
    return np.where(e >= 0, 0.02 + 0.01 * np.minimum(e, 3), 0.0)


def _exact_panel(first_covered=(0, 0, 2019, 2020, 2021, 2022, 2023, 0), n=1000):
    """Rates a_i + 0.01 (t - 2018) - 0.03 dip + effect(e): vocational = rate * 1000 exactly."""
    rows = []
    for i, g in enumerate(first_covered):
        a = 0.20 + 0.01 * i
        for t in YEARS:
            e = t - g if g else np.nan
            rate = a + 0.01 * (t - 2018) - 0.03 * (t in (2020, 2021)) + float(_effect(e if g else -1))
            rows.append({"school_id": f"S{i}", "level": "THCS", "year": t, "graduates": n,
                         "vocational": int(round(rate * n)), "first_covered": g, "event_time": e})
    return pd.DataFrame(rows)


def test_noise_free_panel_gives_exact_parameters_and_projection():
    d = _exact_panel()
    m = P.fit_projection(d)
    assert m.params["trend"] == pytest.approx(0.01, abs=1e-12)
    assert m.params["dip"] == pytest.approx(-0.03, abs=1e-12)
    ev = [int(k.split("e")[-1]) for k in m.params.index if k.startswith("effect_e")]
    assert ev == list(range(0, 7))
    np.testing.assert_allclose(m.params[[f"effect_e{e}" for e in ev]], _effect(ev), atol=1e-12)
    np.testing.assert_allclose(m.std_errors, 0, atol=1e-10)
    # 2030, status quo: mean over schools (equal weights) of a_i + 0.12 + effect(min(2030 - g, 6))
    g = np.array([0, 0, 2019, 2020, 2021, 2022, 2023, 0])
    a = 0.20 + 0.01 * np.arange(8)
    e = np.where(g > 0, np.minimum(2030 - g, 6), -1)
    want = np.mean(a + 0.12 + _effect(e))
    pr = m.project([2030]).iloc[0]
    assert pr["estimate"] == pytest.approx(want, abs=1e-12)
    # noise-free counts: the annual rates lie on the model's line, so the prediction interval has no width
    assert pr["std_error"] == pytest.approx(0, abs=1e-9)
    # full coverage from 2026: the three never-covered schools reach e = 4, capped effect 0.05
    full = m.project([2030], plan="full_coverage").iloc[0]
    e_full = np.where(g > 0, np.minimum(2030 - g, 6), 4)
    assert full["estimate"] == pytest.approx(np.mean(a + 0.12 + _effect(e_full)), abs=1e-12)
    assert full["coverage"] == pytest.approx(1.0) and pr["coverage"] == pytest.approx(5 / 8)
    eff, se = m.plan_effect(2030)
    assert eff == pytest.approx(3 * 0.05 / 8, abs=1e-12) and se == pytest.approx(0, abs=1e-10)
    # coverage needed: target halfway between the two plans needs half of the uncovered schools
    target = (pr["estimate"] + full["estimate"]) / 2
    need = P.coverage_needed(m, target=target, year=2030)
    assert need["status"] == "reachable"
    assert need["needed_share"] == pytest.approx(0.5, abs=1e-9)
    assert need["increase"] == pytest.approx(0.5 * 3 / 8, abs=1e-9)
    assert P.coverage_needed(m, target=0.0)["status"] == "already_met"
    assert P.coverage_needed(m, target=0.99)["status"] == "not_reachable_by_coverage"


def test_agrees_with_pyfixest_weighted_fe_crv1(sample_cohort):
    pf = pytest.importorskip("pyfixest")
    d = school_year_panel(sample_cohort, level="THCS")
    d = d[d["graduates"] > 0].copy()
    m = P.fit_projection(d)
    d["rate"] = d["vocational"] / d["graduates"]
    d["trend"] = d["year"] - 2018.0
    d["dip"] = d["year"].isin([2020, 2021]).astype(float)
    names = [k for k in m.params.index if k.startswith("effect_e")]
    for k in names:
        d[k] = (d["event_time"] == int(k[len("effect_e"):])).astype(float)
    d["w"] = d["graduates"].astype(float)
    fit = pf.feols(f"rate ~ trend + dip + {' + '.join(names)} | school_id", data=d, weights="w",
                   vcov={"CRV1": "school_id"})
    np.testing.assert_allclose(m.params.to_numpy(), fit.coef().loc[m.params.index].to_numpy(), rtol=1e-8, atol=1e-12)
    se_school = np.sqrt(np.diag(m.model["cov_school"]))
    np.testing.assert_allclose(se_school, fit.se().loc[m.params.index].to_numpy(), rtol=1e-6)
    # the reported errors add the year-shock component: never smaller than the school-clustered ones
    assert np.all(m.std_errors.to_numpy() >= se_school - 1e-15)


def test_coverage_projection_hazard_by_hand():
    # 5 schools, years 2018-2021: one covered 2018, one 2020, one 2021, two never
    d = pd.DataFrame([(f"S{i}", t, g) for i, g in enumerate([2018, 2020, 2021, 0, 0]) for t in range(2018, 2022)],
                     columns=["school_id", "year", "first_covered"])
    c = P.coverage_projection(d, [2021, 2023]).set_index(["year", "plan"])
    assert c.loc[(2021, "status_quo"), "estimate"] == pytest.approx(3 / 5)
    # at risk: 2019: 4, 2020: 4, 2021: 3 -> 11 school-years, 2 adoptions
    h = 2 / 11
    assert c.loc[(2023, "pace"), "hazard"] == pytest.approx(h)
    assert c.loc[(2023, "pace"), "estimate"] == pytest.approx(1 - 0.4 * (1 - h) ** 2)
    assert c.loc[(2023, "pace"), "ci_low"] < c.loc[(2023, "pace"), "estimate"] < c.loc[(2023, "pace"), "ci_high"]
    assert c.loc[(2021, "pace"), "estimate"] == pytest.approx(3 / 5)
    assert c.loc[(2021, "status_quo"), "ci_high"] == pytest.approx(3 / 5)  # every report known: a count
    # S3's last report is missing: not covered in the estimate, covered at the high end
    d["coverage_status"] = np.where((d["school_id"] == "S3") & (d["year"] == 2021), "missing", "known")
    c = P.coverage_projection(d, [2021, 2023]).set_index(["year", "plan"])
    assert tuple(c.loc[(2021, "status_quo"), ["estimate", "ci_low", "ci_high"]]) == pytest.approx((0.6, 0.6, 0.8))
    h_hi = P._wilson(2, 11)[2]
    assert c.loc[(2023, "pace"), "ci_high"] == pytest.approx(1 - (1 - 0.8) * (1 - h_hi) ** 2)


def test_projection_targets_and_destinations():
    t = P.projection_targets(load_targets(["national_522"]))
    assert P.measure_destinations("transition_after_thcs", level="THCS", year=2030, targets=t) == (
        "gdtx", "thpt", "voc_elementary", "voc_intermediate")
    assert P.measure_destinations("voc_uptake", level="THPT", year=2025, targets=t) == ("voc_college",)
    assert P.measure_destinations("voc_uptake", level="THPT", year=2030, targets=t) == ()
    user = shipped_targets().iloc[[0]].assign(indicator="transition_after_thcs", year_from=2026, year_to=2030,
                                              target=0.9, target_set="user")
    t2 = P.projection_targets(pd.concat([load_targets(["national_522"]), user]))
    row = t2[(t2["indicator"] == "transition_after_thcs") & (t2["year_from"] == 2026)]
    assert len(row) == 1 and row["target"].iloc[0] == 0.9


def test_errors_name_the_problem():
    d = _exact_panel()
    with pytest.raises(ValueError, match="no column.*first_covered"):
        P.fit_projection(d.drop(columns="first_covered"))
    with pytest.raises(ValueError, match="plan 'all'"):
        P.fit_projection(d).project([2030], plan="all")
    with pytest.raises(ValueError, match="several levels"):
        P.fit_projection(pd.concat([d, d.assign(level="THPT")]))


# ------------------------------------------------------------------ the shipped sample
@pytest.fixture(scope="module")
def sample_table(sample_cohort):
    t = P.projection_targets(load_targets(["national_522", "tra_vinh_26_ct_tu"]))
    panels = [school_year_panel(sample_cohort, level=lv, targets=t) for lv in ("THCS", "THPT")]
    return P.projections(panels, sample_cohort.graduates, years=[2025, 2030], targets=t), panels


def test_sample_intervals_cover_the_planted_2030_values(sample_dir, sample_table):
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["projection_2030"]
    tab = sample_table[0].set_index(["level", "indicator", "year"])
    checked = 0
    for level, tl in truth["levels"].items():
        for measure, plans in tl["measured"].items():
            for plan, value in plans.items():
                ind = measure if plan == "status_quo" else f"{measure}_{plan}"
                r = tab.loc[(level, ind, truth["year"])]
                assert r["ci_low"] <= value <= r["ci_high"], (level, ind, value, r["ci_low"], r["ci_high"])
                assert abs(r["estimate"] - value) < 0.03
                checked += 1
        assert tab.loc[(level, "counselor_coverage", 2030), "estimate"] == pytest.approx(tl["coverage_rate_status_quo"],
                                                                                      abs=1e-6)
    assert checked == 6


def test_sample_table_columns_targets_and_findings(sample_table):
    tab, panels = sample_table
    assert list(tab.columns[:7]) == list(P.PROJECTION_COLUMNS)
    assert not tab.duplicated(["level", "indicator", "year"]).any()
    r = tab.set_index(["level", "indicator", "year"])
    assert r.loc[("THCS", "transition_after_thcs", 2030), "target"] == 0.95  # the 2030 plan
    tr = r.loc[("THCS", "transition_after_thcs", 2030)]
    # the prediction interval straddles the 2030 plan's 95 %: neither met nor missed
    assert tr["ci_low"] < 0.95 < tr["ci_high"] and tr["target_met"] == "not_determined"
    assert r.loc[("THCS", "voc_uptake", 2025), "target_met"] == "not_met"  # 40 % above the whole interval
    assert set(tab["target_met"].dropna()) <= set(P.TARGET_MET_VALUES)
    assert tab.loc[tab["target"].isna(), "target_met"].isna().all()
    assert r.loc[("THCS", "voc_uptake", 2025), "target"] == 0.40            # Decision 522, THCS counts every voc level
    assert np.isnan(r.loc[("THPT", "voc_uptake", 2025), "target"])           # THPT target counts college only
    assert r.loc[("THPT", "counselor_coverage", 2025), "target"] == 1.0
    mde = {p["level"].iloc[0]: P.next_review_mde(p) for p in panels}
    last = panels[0][panels[0]["year"] == 2025]
    assert mde["THCS"]["n_schools"] == len(last) and mde["THCS"]["cohort_size"] == pytest.approx(last["graduates"].mean())
    assert 0 < mde["THCS"]["mde_pp"] < mde["THPT"]["mde_pp"]  # fewer THPT schools: larger MDE
    need = P.coverage_needed(P.fit_projection(panels[1]), target=0.40)
    assert need["status"] == "already_met"
    f = fnd.projection_findings(tab, needed=[{**need, "level": "THPT"}], mde=mde)
    assert len(f["vi"]) == len(f["en"]) >= 5
    assert any("95.0 % within the interval" in s for s in f["en"])


def test_target_met_is_three_valued():
    st = P.target_met_status([0.40, 0.30, 0.35, 0.5, np.nan], [0.50, 0.34, 0.45, 0.5, np.nan], [0.40, 0.35, 0.40, np.nan, 0.3])
    assert st.tolist()[:3] == ["met", "not_met", "not_determined"]
    assert pd.isna(st.iloc[3]) and st.iloc[4] == "not_determined"


def _shock_panel(seed, *, n_schools=28, sd_year=0.02, years=range(2018, 2031)):
    """Linear rates with school effects, a 1 pp/year trend, the dip, district-wide year shocks and AR(1) school
    noise; no school covered. Returns the panel of all years (the last ones are the future)."""
    rng = np.random.default_rng(seed)
    yrs = np.array(list(years))
    a = rng.normal(0.25, 0.05, n_schools)
    u = rng.normal(0, sd_year, len(yrs))
    e = np.zeros((n_schools, len(yrs)))
    e[:, 0] = rng.normal(0, 0.02, n_schools)
    for j in range(1, len(yrs)):
        e[:, j] = 0.5 * e[:, j - 1] + rng.normal(0, 0.02 * np.sqrt(0.75), n_schools)
    rows = []
    for i in range(n_schools):
        n = rng.integers(60, 140, len(yrs))
        p = np.clip(a[i] + 0.01 * (yrs - 2018) - 0.02 * np.isin(yrs, (2020, 2021)) + u + e[i], 0, 1)
        y = rng.binomial(n, p)
        rows += [{"school_id": f"S{i}", "level": "THCS", "year": int(t), "graduates": int(nn), "vocational": int(yy),
                  "first_covered": 0, "event_time": np.nan} for t, nn, yy in zip(yrs, n, y)]
    return pd.DataFrame(rows)


def test_prediction_interval_covers_the_realised_2030_rate_with_year_shocks():
    """2 pp year shocks, AR(1) school noise, 28 schools: the 2030 projection's interval covers the realised
    2030 district rate (new year's shock included) in about 95 % of 100 districts, where the school-clustered
    confidence interval alone (the old one) covers far less."""
    new, old = [], []
    for rep in range(100):
        d = _shock_panel(900 + rep)
        past, fut = d[d["year"] <= 2025], d[d["year"] == 2030]
        truth = fut["vocational"].sum() / fut["graduates"].sum()
        m = P.fit_projection(past)
        pr = m.project([2030]).iloc[0]
        new.append(pr["ci_low"] <= truth <= pr["ci_high"])
        c = m.model["weights"] @ (m._school_x(2030, m.model["first_covered"]) - m.model["xbar"])
        se_old = np.sqrt(c @ m.model["cov_school"] @ c + m.model["mean_noise"])
        q = stats.t(m.df).ppf(0.975)
        old.append(abs(pr["estimate"] - truth) <= q * se_old)
    assert 0.88 <= np.mean(new) <= 1.0
    assert np.mean(old) < 0.75


def test_without_coverage_the_projection_is_the_annual_regressions_prediction():
    """Closed form: a balanced panel, each school the same size every year, no school covered. The LPM's
    trend and dip equal the annual regression's, its district line is the pooled rate's fitted line, so the
    projection, its standard error and its interval are ``annual_trend(...).predict``'s exactly (the
    year-level part of the interval is built as the recommended trend's)."""
    from evaluation.trends import annual_trend
    rng = np.random.default_rng(11)
    yrs = np.arange(2018, 2026)
    u = rng.normal(0, 0.015, len(yrs))
    rows = []
    for i in range(9):
        n = int(rng.integers(50, 200))
        p = np.clip(0.2 + 0.02 * i + 0.01 * (yrs - 2018) - 0.02 * np.isin(yrs, (2020, 2021)) + u
                    + rng.normal(0, 0.01, len(yrs)), 0, 1)
        rows += [{"school_id": f"S{i}", "level": "THCS", "year": int(t), "graduates": n, "vocational": int(k),
                  "first_covered": 0, "event_time": np.nan} for t, k in zip(yrs, rng.binomial(n, p))]
    d = pd.DataFrame(rows)
    got = P.fit_projection(d).project([2026, 2030]).set_index("year")
    want = annual_trend(d).predict([2026, 2030]).set_index("year")
    for col in ("estimate", "std_error", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=1e-9, atol=1e-12, err_msg=col)
