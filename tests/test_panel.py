"""The school-year panel and student cells: hand-counted answers on a tiny typed cohort."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.panel import CELL_COLUMNS, PANEL_COLUMNS, school_year_panel, student_cells
from evaluation.reference import load_targets


@dataclass(frozen=True)
class TinyCohort:
    schools: pd.DataFrame
    communes: pd.DataFrame
    graduates: pd.DataFrame
    counseling: pd.DataFrame
    students: pd.DataFrame | None = None


def make_cohort(*, with_merge_cols: bool = False, with_students: bool = False) -> TinyCohort:
    """Three communes (29269 disadvantaged), three schools (S3 is DTNT, S1 inter-level)."""
    communes = pd.DataFrame({
        "commune_code": ["29266", "29269", "29302"],
        "commune_name": ["Thị trấn Càng Long", "Xã Mỹ Cẩm", "Xã Nhị Long"],
        "district_name": "Huyện Càng Long", "province_name": "Tỉnh Trà Vinh",
        "khmer_share": [0.02, 0.30, 0.10],
        "disadvantaged": [False, True, False],
    })
    if with_merge_cols:
        communes["merged_into_code"] = ["x1", "x1", "x2"]
        communes["merged_into_name"] = ["Xã Một", "Xã Một", "Xã Hai"]
    schools = pd.DataFrame({
        "school_id": ["S1", "S2", "S3"], "school_name": ["A", "B", "C"],
        "commune_code": ["29266", "29269", "29302"],
        "levels": ["THCS,THPT", "THCS", "THCS"], "ethnic_boarding": [False, False, True],
    })
    rows = []
    # (school, year, sex, ethnicity, destination, students), THCS
    for sch, year, sex, eth, dest, n in [
        ("S1", 2020, "F", "kinh", "thpt", 30), ("S1", 2020, "F", "kinh", "voc_intermediate", 10),
        ("S1", 2020, "M", "khmer", "voc_elementary", 5), ("S1", 2020, "M", "kinh", "unknown", 5),
        ("S1", 2021, "F", "kinh", "thpt", 20), ("S1", 2021, "M", "kinh", "voc_intermediate", 20),
        ("S2", 2020, "F", "khmer", "gdtx", 8), ("S2", 2020, "M", "khmer", "voc_intermediate", 2),
        ("S2", 2021, "F", "khmer", "voc_elementary", 3), ("S2", 2021, "M", "kinh", "employment", 7),
        ("S3", 2021, "F", "khmer", "thpt", 12), ("S3", 2021, "M", "khmer", "voc_intermediate", 4),
        ("S3", 2027, "M", "khmer", "voc_intermediate", 4), ("S3", 2027, "F", "khmer", "thpt", 6),
    ]:
        rows.append((sch, year, "THCS", sex, eth, dest, n))
    for sch, year, sex, eth, dest, n in [
        ("S1", 2020, "F", "kinh", "university", 20), ("S1", 2020, "M", "kinh", "voc_college", 6),
        ("S1", 2020, "M", "kinh", "voc_intermediate", 4), ("S1", 2021, "F", "kinh", "voc_college", 9),
        ("S1", 2021, "M", "kinh", "unknown", 1),
    ]:
        rows.append((sch, year, "THPT", sex, eth, dest, n))
    graduates = pd.DataFrame(rows, columns=["school_id", "year", "level", "sex", "ethnicity", "destination", "students"])
    graduates["year"] = graduates["year"].astype("int64")
    graduates["students"] = graduates["students"].astype("int64")
    counseling = pd.DataFrame({
        "school_id": ["S1", "S1", "S2", "S3", "S3", "S3"],
        "year": np.array([2020, 2021, 2020, 2019, 2021, 2027], dtype="int64"),
        "counselors": np.array([1, 2, 1, 1, 1, 1], dtype="int64"),
        "trained_counselors": np.array([0, 1, 0, 1, 0, 1], dtype="int64"),
        "students_counseled": np.array([10, 20, 0, 5, 3, 2], dtype="int64"),
    })
    students = None
    if with_students:
        g = graduates[graduates["level"] == "THCS"]
        st = g.loc[g.index.repeat(g["students"])].drop(columns="students").reset_index(drop=True)
        st["student_key"] = [f"k{i}" for i in range(len(st))]
        st["poor_household"] = (np.arange(len(st)) % 4 == 0)
        students = st
    return TinyCohort(schools=schools, communes=communes, graduates=graduates, counseling=counseling, students=students)


def test_panel_columns_and_hand_counts():
    p = school_year_panel(make_cohort(), level="THCS")
    assert tuple(p.columns) == PANEL_COLUMNS
    assert len(p) == 6  # S1 2020/21, S2 2020/21, S3 2021/2027
    r = p.set_index(["school_id", "year"])
    assert r.loc[("S1", 2020), "graduates"] == 50
    assert r.loc[("S1", 2020), "vocational"] == 15
    assert r.loc[("S1", 2020), "unknown"] == 5
    assert_allclose(r.loc[("S1", 2020), "rate"], 0.3)
    assert r["graduates"].sum() == 50 + 40 + 10 + 10 + 16 + 10
    assert p["year"].dtype == "int64" and p["graduates"].dtype == "int64"
    # THCS target counts elementary + intermediate: equal to all voc_* here
    assert (p["voc_target"] == p["vocational"]).all()
    # counseling
    assert r.loc[("S1", 2020), "coverage_status"] == "not_covered" and r.loc[("S1", 2020), "covered"] == 0.0
    assert r.loc[("S1", 2021), "coverage_status"] == "covered"
    assert r.loc[("S2", 2021), "coverage_status"] == "missing" and np.isnan(r.loc[("S2", 2021), "covered"])
    assert np.isnan(r.loc[("S2", 2021), "trained_counselors"])
    assert r.loc[("S1", 2020), "first_covered"] == 2021 and r.loc[("S1", 2020), "treated"] == 0
    assert r.loc[("S1", 2021), "treated"] == 1 and r.loc[("S1", 2020), "event_time"] == -1
    assert r.loc[("S2", 2020), "first_covered"] == 0 and np.isnan(r.loc[("S2", 2020), "event_time"])
    # S3 first covered 2019 (a year with no THCS graduates), stays treated in 2021 although uncovered then
    assert r.loc[("S3", 2021), "first_covered"] == 2019 and r.loc[("S3", 2021), "treated"] == 1
    assert r.loc[("S3", 2021), "covered"] == 0.0
    assert_allclose(r.loc[("S1", 2021), "counselors_per_100"], 100 * 1 / 40)
    assert_allclose(r.loc[("S1", 2021), "share_counseled"], 20 / 40)
    assert r.loc[("S3", 2021), "ethnic_boarding"] and r.loc[("S2", 2021), "disadvantaged"]
    assert_allclose(r.loc[("S2", 2021), "khmer_share"], 0.30)
    assert p.attrs["unknown_in_denominator"] is True


def test_thpt_target_counts_college_only_until_2025_and_all_voc_after():
    p = school_year_panel(make_cohort(), level="THPT").set_index("year")
    assert p.loc[2020, "vocational"] == 10 and p.loc[2020, "voc_target"] == 6
    assert p.loc[2021, "voc_target"] == 9
    # after 2025 no voc_uptake_target is in force: voc_target counts every voc_* destination
    c = make_cohort()
    q = school_year_panel(c, level="THCS")
    late = q[q["year"] == 2027].iloc[0]
    assert late["voc_target"] == late["vocational"] == 4
    # a user's target counting intermediate only changes voc_target, not vocational
    t = load_targets(overrides=[{"indicator": "voc_uptake_target", "level": "THCS", "area_type": "general",
                                 "year_from": 2020, "year_to": 2021, "target": 0.5,
                                 "counted_destinations": "voc_intermediate"}])
    q = school_year_panel(c, level="THCS", targets=t).set_index(["school_id", "year"])
    assert q.loc[("S1", 2020), "voc_target"] == 10 and q.loc[("S1", 2020), "vocational"] == 15
    # S2 is in a disadvantaged commune: its own (national) row is in force, counting both levels
    assert q.loc[("S2", 2021), "voc_target"] == 3


def test_unknown_out_of_denominator():
    p = school_year_panel(make_cohort(), level="THCS", unknown_in_denominator=False).set_index(["school_id", "year"])
    assert p.loc[("S1", 2020), "graduates"] == 45 and p.loc[("S1", 2020), "unknown"] == 5
    assert_allclose(p.loc[("S1", 2020), "rate"], 15 / 45)


def test_post2025_geography_from_crosswalk_and_from_table():
    p = school_year_panel(make_cohort(), level="THCS", geography="post2025")
    r = p.drop_duplicates("school_id").set_index("school_id")
    assert r.loc["S1", "commune_name"] == "Xã Càng Long" and r.loc["S2", "commune_name"] == "Xã Càng Long"
    assert r.loc["S1", "commune_code_pre2025"] == "29266" and r.loc["S3", "commune_code"] == "xa_nhi_long"
    p2 = school_year_panel(make_cohort(with_merge_cols=True), level="THCS", geography="post2025")
    assert set(p2["commune_code"]) == {"x1", "x2"}
    assert set(p2["commune_code_pre2025"]) == {"29266", "29269", "29302"}


def test_post2025_unknown_commune_is_named():
    c = make_cohort()
    communes = c.communes.assign(commune_code=["29266", "29269", "99999"])
    schools = c.schools.assign(commune_code=["29266", "29269", "99999"])
    bad = TinyCohort(schools=schools, communes=communes, graduates=c.graduates, counseling=c.counseling)
    with pytest.raises(ValueError, match="99999"):
        school_year_panel(bad, level="THCS", geography="post2025")


def test_bad_inputs_give_clear_messages():
    c = make_cohort()
    with pytest.raises(ValueError, match="level 'X'"):
        school_year_panel(c, level="X")
    with pytest.raises(ValueError, match="geography"):
        school_year_panel(c, level="THCS", geography="2030")
    g = pd.concat([c.graduates, c.graduates.iloc[:1].assign(school_id="S9")], ignore_index=True)
    with pytest.raises(ValueError, match="S9"):
        school_year_panel(TinyCohort(c.schools, c.communes, g, c.counseling), level="THCS")
    dup = pd.concat([c.counseling, c.counseling.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="row 8.*duplicated"):
        school_year_panel(TinyCohort(c.schools, c.communes, c.graduates, dup), level="THCS")


def test_student_cells_from_graduates_and_from_students():
    c = make_cohort()
    cells = student_cells(c, level="THCS")
    assert cells.attrs["keys"] == ("sex", "ethnicity") and cells.attrs["source"] == "graduates"
    for col in CELL_COLUMNS:
        assert col in cells.columns
    p = school_year_panel(c, level="THCS")
    # cells add up to the panel
    tot = cells.groupby(["school_id", "year"])[["graduates", "vocational", "unknown", "voc_target"]].sum()
    assert_allclose(tot.to_numpy(), p.set_index(["school_id", "year"])[tot.columns].loc[tot.index].to_numpy())
    r = cells.set_index(["school_id", "year", "sex", "ethnicity"])
    assert r.loc[("S1", 2020, "M", "kinh"), "graduates"] == 5 and r.loc[("S1", 2020, "M", "kinh"), "unknown"] == 5
    # from microdata: poor_household becomes a key, totals unchanged
    cs = student_cells(make_cohort(with_students=True), level="THCS")
    assert cs.attrs["source"] == "students" and cs.attrs["keys"] == ("sex", "ethnicity", "poor_household")
    assert "student_key" not in cs.columns
    assert cs["graduates"].sum() == cells["graduates"].sum()
    assert cs["vocational"].sum() == cells["vocational"].sum()
    with pytest.raises(ValueError, match="students"):
        student_cells(c, level="THCS", source="students")


@pytest.fixture
def sample(request):
    """The shared sample cohort (skipped until evaluation.sample and evaluation.data exist)."""
    return request.getfixturevalue("sample_cohort")


def test_panel_on_sample_matches_graduates(sample):
    sample_cohort = sample
    for level in ("THCS", "THPT"):
        p = school_year_panel(sample_cohort, level=level)
        g = sample_cohort.graduates
        assert p["graduates"].sum() == g.loc[g["level"] == level, "students"].sum()
        assert not p.duplicated(["school_id", "year"]).any()
        assert p["rate"].between(0, 1).all()
        assert set(p["coverage_status"]) <= {"covered", "not_covered", "missing"}
    truth = json.loads((sample_cohort.folder / "truth.json").read_text(encoding="utf-8"))
    assert truth  # the sample ships its true parameters


def test_khmer_commune_flag_follows_the_threshold(sample_cohort):
    from evaluation.panel import school_year_panel

    low = school_year_panel(sample_cohort, level="THCS", khmer_commune_threshold=0.0)
    assert low["khmer_commune"].all()
    p = school_year_panel(sample_cohort, level="THCS", khmer_commune_threshold=0.15)
    assert (p["khmer_commune"] == (p["khmer_share"] >= 0.15)).all()
    assert 0 < p["khmer_commune"].sum() < len(p)


def test_group_panel_adds_up_to_the_school_year_panel(sample_cohort):
    """Summing the sex groups gives back each school-year's graduates and vocational counts."""
    from evaluation.panel import school_year_group_panel, school_year_panel

    panel = school_year_panel(sample_cohort, level="THCS")
    by_sex = school_year_group_panel(sample_cohort, level="THCS", by="sex", panel=panel)
    assert set(by_sex["sex"]) == {"F", "M"}
    back = by_sex.groupby(["school_id", "year"])[["graduates", "vocational"]].sum()
    ref = panel.set_index(["school_id", "year"])[["graduates", "vocational"]]
    pd.testing.assert_frame_equal(back.sort_index(), ref.sort_index(), check_dtype=False)
    merged = by_sex.merge(panel[["school_id", "year", "treated"]], on=["school_id", "year"], suffixes=("", "_p"))
    assert (merged["treated"] == merged["treated_p"]).all()
    with pytest.raises(ValueError, match="no 'religion' breakdown"):
        school_year_group_panel(sample_cohort, level="THCS", by="religion", panel=panel)


def test_data_keyed_by_post2025_communes_report_in_post2025_geography():
    """A folder whose communes are already the 5 communes after 1/7/2025 maps them to themselves."""
    from evaluation.panel import post2025_map

    communes = pd.DataFrame({"commune_code": ["xa_cang_long", "xa_an_truong", "29281"]})
    m = post2025_map(communes).set_index("commune_code")
    assert m.loc["xa_cang_long", "merged_into_code"] == "xa_cang_long"
    assert m.loc["xa_an_truong", "merged_into_name"] == "Xã An Trường"
    assert m.loc["29281", "merged_into_code"] == "xa_tan_an"  # a pre-2025 unit still maps through the crosswalk
    with pytest.raises(ValueError, match="commune_code\\(s\\) 99999"):
        post2025_map(pd.DataFrame({"commune_code": ["99999"]}))
