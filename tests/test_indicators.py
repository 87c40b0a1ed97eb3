"""Indicators: hand-counted uptake, target attainment, coverage and suppression."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.indicators import (COVERAGE_BY_YEAR_COLUMNS, UPTAKE_BY_COMMUNE_COLUMNS, UPTAKE_BY_GROUP_COLUMNS,
                                   UPTAKE_BY_YEAR_COLUMNS, commune_cells, coverage_by_year, group_cells, suppress, uptake, uptake_by_commune,
                                   uptake_by_group, uptake_by_year, with_targets)
from evaluation.panel import school_year_panel, student_cells
from evaluation.reference import load_targets
from test_panel import make_cohort

OUTPUT_CONTRACT = {  # minimum columns of the output contract (README, "What a review run writes")
    "uptake_by_year": ["level", "year", "graduates", "vocational", "rate", "unknown_share", "target_rate", "target", "target_met"],
    "uptake_by_commune": ["level", "year", "commune_code", "commune_name", "graduates", "vocational", "rate", "target_rate",
                          "target", "target_met", "suppressed"],
    "uptake_by_group": ["level", "year", "group_var", "group", "graduates", "vocational", "rate", "suppressed"],
    "coverage_by_year": ["level", "year", "schools", "covered", "missing", "coverage_rate", "target"],
}


@pytest.fixture(scope="module")
def panels():
    c = make_cohort()
    return pd.concat([school_year_panel(c, level="THCS"), school_year_panel(c, level="THPT")], ignore_index=True)


def test_contract_columns_lead_every_table(panels):
    cells = student_cells(make_cohort(), level="THCS")
    tables = {"uptake_by_year": uptake_by_year(panels), "uptake_by_commune": uptake_by_commune(panels),
              "uptake_by_group": uptake_by_group(cells), "coverage_by_year": coverage_by_year(panels)}
    for name, t in tables.items():
        assert list(t.columns[: len(OUTPUT_CONTRACT[name])]) == OUTPUT_CONTRACT[name], name
    assert tuple(tables["uptake_by_year"].columns) == UPTAKE_BY_YEAR_COLUMNS
    assert tuple(tables["uptake_by_commune"].columns) == UPTAKE_BY_COMMUNE_COLUMNS
    assert tuple(tables["uptake_by_group"].columns) == UPTAKE_BY_GROUP_COLUMNS
    assert tuple(tables["coverage_by_year"].columns) == COVERAGE_BY_YEAR_COLUMNS


def test_uptake_by_year_hand_counts_and_targets(panels):
    t = uptake_by_year(panels).set_index(["level", "year"])
    # THCS 2020: S1 50 grads (15 voc, 5 unknown) + S2 10 (2 voc)
    r = t.loc[("THCS", 2020)]
    assert r["graduates"] == 60 and r["vocational"] == 17 and r["schools"] == 2
    assert_allclose([r["rate"], r["unknown_share"], r["target_rate"]], [17 / 60, 5 / 60, 17 / 60])
    assert_allclose(r["target"], 0.30)
    assert r["target_met"] == "not_met"
    # THCS 2021: 40 + 10 + 16 graduates, 20 + 3 + 4 vocational; target 0.40 (2021-2025 row)
    r = t.loc[("THCS", 2021)]
    assert r["graduates"] == 66 and r["vocational"] == 27
    assert_allclose(r["target"], 0.40)
    assert r["target_met"] == "met"  # 27 / 66 = 0.409 >= 0.40
    assert r["target_standing"] == "verified"
    # 2027: no voc_uptake_target in force -> empty target, NA target_met
    r = t.loc[("THCS", 2027)]
    assert np.isnan(r["target"]) and pd.isna(r["target_met"]) and pd.isna(r["target_source"])
    # THPT 2020: 30 grads, 10 vocational of which 6 college; target 0.40 on the college-only rate
    r = t.loc[("THPT", 2020)]
    assert_allclose([r["rate"], r["target_rate"], r["target"]], [10 / 30, 6 / 30, 0.40])
    assert r["target_met"] == "not_met"
    # THPT 2021: 9 college of 10 -> met
    assert t.loc[("THPT", 2021), "target_met"] == "met"


def test_with_targets_area_type_fallback_and_user_targets():
    frame = pd.DataFrame({"level": ["THCS", "THCS", "THPT", "THPT"], "year": [2021, 2021, 2019, 2019],
                          "target_rate": [0.35, 0.35, 0.33, 0.33], "disadvantaged": [True, False, True, False]})
    out = with_targets(frame, load_targets(), area_col="disadvantaged")
    assert_allclose(out["target"], [0.30, 0.40, 0.30, 0.40])
    assert list(out["target_met"]) == ["met", "not_met", "met", "not_met"]
    assert list(out["target_area_type"]) == ["disadvantaged", "general", "disadvantaged", "general"]
    # a disadvantaged row without its own target falls back to the general one
    t = load_targets(overrides=[{"indicator": "voc_uptake_target", "level": "THCS", "area_type": "general",
                                 "year_from": 2026, "year_to": 2030, "target": 0.2}])
    o = with_targets(pd.DataFrame({"level": ["THCS"], "year": [2028], "target_rate": [0.25], "d": [True]}), t, area_col="d")
    assert_allclose(o["target"], [0.2])
    assert o["target_area_type"].iloc[0] == "general" and o["target_met"].iloc[0] == "met"
    assert o["target_standing"].iloc[0] == "user"
    with pytest.raises(ValueError, match="no column target_rate"):
        with_targets(pd.DataFrame({"level": ["THCS"], "year": [2020]}), t)


def test_uptake_any_grouping_and_unknown_share_outside_denominator():
    c = make_cohort()
    p = school_year_panel(c, level="THCS", unknown_in_denominator=False)
    u = uptake(p, by=["ethnic_boarding"]).set_index("ethnic_boarding")
    assert u.loc[False, "graduates"] == 45 + 40 + 10 + 10
    assert_allclose(u.loc[False, "unknown_share"], 5 / 110)  # unknown / all graduates
    tot = uptake(p, by=[])
    assert tot["graduates"].iloc[0] == p["graduates"].sum()
    with pytest.raises(ValueError, match="no column"):
        uptake(p, by="nope")


def test_commune_table_suppresses_small_cells(panels):
    t = uptake_by_commune(panels, min_cell=12)
    r = t.set_index(["level", "year", "commune_code"])
    # S2 (Mỹ Cẩm) has 10 THCS graduates each year: suppressed, its counts left empty
    s = r.loc[("THCS", 2020, "29269")]
    assert s["suppressed"] and s["graduates"] == 10
    assert pd.isna(s["vocational"]) and np.isnan(s["rate"]) and pd.isna(s["target_met"]) and pd.isna(s["unknown"])
    # S3 (16 graduates) is hidden beside it, so the district total minus the communes shown does not give
    # Mỹ Cẩm back (complementary suppression)
    k = r.loc[("THCS", 2021, "29302")]
    assert k["suppressed"] and k["graduates"] == 16 and pd.isna(k["vocational"])
    true = commune_cells(panels).set_index(["level", "year", "commune_code"])
    assert true.loc[("THCS", 2021, "29302"), "vocational"] == 4
    # Mỹ Cẩm is disadvantaged: its target is the disadvantaged one
    assert_allclose(r.loc[("THCS", 2021, "29269"), "target"], 0.30)
    assert_allclose(r.loc[("THCS", 2021, "29266"), "target"], 0.40)
    # post-2025: Thị trấn Càng Long (general) + Mỹ Cẩm (disadvantaged) -> Xã Càng Long, general
    c = make_cohort()
    post = uptake_by_commune(school_year_panel(c, level="THCS", geography="post2025"), min_cell=5)
    q = post.set_index(["year", "commune_name"]).loc[(2020, "Xã Càng Long")]
    assert q["graduates"] == 60 and q["vocational"] == 17 and not q["disadvantaged"]
    assert_allclose(q["target"], 0.30)


def test_suppress_rules():
    f = pd.DataFrame({"graduates": np.array([3, 5, 0], dtype="int64"), "vocational": np.array([1, 2, 0], dtype="int64"),
                      "rate": [1 / 3, 0.4, np.nan], "other": [1, 2, 3]})
    out = suppress(f, min_cell=5)
    # one primary rule across the toolkit (disclosure.primary_mask): 1..min_cell-1 students or an unknown
    # count is suppressed; an empty cell (0 students) reveals no one and is not
    assert list(out["suppressed"]) == [True, False, False]
    unknown = suppress(f.assign(graduates=pd.array([3, pd.NA, 7], dtype="Int64")), min_cell=5)
    assert list(unknown["suppressed"]) == [True, True, False]
    assert pd.isna(out["vocational"].iloc[0]) and out["vocational"].iloc[1] == 2
    assert np.isnan(out["rate"].iloc[0]) and out["rate"].iloc[1] == 0.4
    assert list(out["graduates"]) == [3, 5, 0] and list(out["other"]) == [1, 2, 3]
    assert f["vocational"].iloc[0] == 1  # input untouched
    # the CSV writes the blanked cells empty
    line = out.to_csv(index=False).splitlines()[1]
    assert line == "3,,,1,True"
    with pytest.raises(ValueError, match="min_cell"):
        suppress(f, min_cell=0)


def test_uptake_by_group_sex_ethnicity_poverty():
    c = make_cohort()
    cells = student_cells(c, level="THCS")
    g = uptake_by_group(cells, group_var=["sex", "ethnicity"], min_cell=5)
    # every level-year of a group variable hides no cell or at least two (complementary suppression)
    hidden = g[g["suppressed"]].groupby(["level", "year", "group_var"]).size()
    assert (hidden >= 2).all()
    assert g.loc[g["suppressed"], "vocational"].isna().all()
    r = pd.concat(group_cells(cells, group_var=["sex", "ethnicity"])).set_index(["year", "group_var", "group"])
    # 2020 THCS women: S1 30 thpt + 10 voc, S2 8 gdtx -> 48, 10 voc
    assert r.loc[(2020, "sex", "F"), "graduates"] == 48 and r.loc[(2020, "sex", "F"), "vocational"] == 10
    # 2020 khmer: S1 5 voc + S2 8 + 2 voc -> 15, 7 voc
    assert_allclose(r.loc[(2020, "ethnicity", "khmer"), "rate"], 7 / 15)
    assert g.set_index(["year", "group_var", "group"]).loc[(2027, "sex", "M"), "suppressed"]  # 4 graduates
    # a table without sex/ethnicity gives an empty frame with the right columns
    bare = cells.drop(columns=["sex", "ethnicity"])
    e = uptake_by_group(bare)
    assert e.empty and tuple(e.columns) == UPTAKE_BY_GROUP_COLUMNS
    gp = uptake_by_group(student_cells(make_cohort(with_students=True), level="THCS"), group_var="poor_household")
    assert set(gp["group"]) == {"poor", "not_poor"}
    with pytest.raises(ValueError, match="group_var"):
        uptake_by_group(cells, group_var="age")


def test_coverage_by_year(panels):
    cov = coverage_by_year(panels).set_index(["level", "year"])
    # THCS 2021: S1 covered, S2 missing, S3 not covered -> 1 / (3 - 1)
    r = cov.loc[("THCS", 2021)]
    assert (r["schools"], r["covered"], r["not_covered"], r["missing"]) == (3, 1, 1, 1)
    assert_allclose([r["coverage_rate"], r["coverage_rate_all"]], [0.5, 1 / 3])
    assert_allclose(r["target"], 1.0)
    assert r["target_met"] == "not_met"  # even with the missing school covered, 2 of 3
    assert np.isnan(cov.loc[("THCS", 2020), "target"])  # no 2020 counseling target was found
    assert cov.loc[("THCS", 2027), "coverage_rate"] == 1.0
    bt = coverage_by_year(panels, by="ethnic_boarding").set_index(["level", "year", "ethnic_boarding"])
    assert bt.loc[("THCS", 2021, True), "schools"] == 1 and bt.loc[("THCS", 2021, True), "covered"] == 0
    assert bt.loc[("THCS", 2021, False), "schools"] == 2


def test_indicators_on_sample(request):
    cohort = request.getfixturevalue("sample_cohort")
    p = pd.concat([school_year_panel(cohort, level=lv) for lv in ("THCS", "THPT")], ignore_index=True)
    y = uptake_by_year(p)
    assert not y.empty and y["rate"].between(0, 1).all()
    assert (y["target_rate"] <= y["rate"] + 1e-12).all()
    com = uptake_by_commune(p, min_cell=5)
    assert com.loc[com["suppressed"], "rate"].isna().all()
    assert (com.loc[~com["suppressed"], "graduates"] >= 5).all()
    cov = coverage_by_year(p)
    assert cov["coverage_rate"].dropna().between(0, 1).all()


def test_coverage_target_is_not_determined_while_a_school_has_not_reported():
    """Every reporting school covered but one school missing: a 100 % target is neither met nor missed
    (the missing school decides); met once the missing school could not change it."""
    from evaluation.indicators import target_met_status
    panel = pd.DataFrame({"level": "THPT", "year": 2025, "school_id": ["A", "B", "C"],
                          "coverage_status": ["covered", "covered", "missing"]})
    t = load_targets(overrides=[{"indicator": "counselor_coverage", "level": "THPT", "area_type": "general",
                                 "year_from": 2025, "year_to": 2025, "target": 1.0}])
    r = coverage_by_year(panel, targets=t).iloc[0]
    assert r["coverage_rate"] == 1.0 and r["coverage_rate_all"] == pytest.approx(2 / 3)
    assert r["target_met"] == "not_determined"
    t2 = load_targets(overrides=[{"indicator": "counselor_coverage", "level": "THPT", "area_type": "general",
                                  "year_from": 2025, "year_to": 2025, "target": 0.6}])
    assert coverage_by_year(panel, targets=t2).iloc[0]["target_met"] == "met"
    st = target_met_status([0.5, 0.2, 0.3, np.nan, 0.4], [0.5, 0.2, 0.6, np.nan, 0.4], [0.4, 0.4, 0.4, 0.4, np.nan])
    assert st.tolist() == ["met", "not_met", "not_determined", "not_determined", pd.NA]
