"""Evidence tables: contract columns, privacy guard, known-answer conversions, byte-identical CSVs, index."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import evidence_fixtures as fx
from evaluation import evidence as ev

CONTRACT = {  # the output contract's minimum columns, copied from ../shared/output-contract.md
    "uptake_by_year": ["level", "year", "graduates", "vocational", "rate", "unknown_share", "target_rate", "target",
                       "target_met"],
    "uptake_by_commune": ["level", "year", "commune_code", "commune_name", "graduates", "vocational", "rate",
                          "target_rate", "target", "target_met", "suppressed"],
    "uptake_by_group": ["level", "year", "group_var", "group", "graduates", "vocational", "rate", "suppressed"],
    "coverage_by_year": ["level", "year", "schools", "covered", "missing", "coverage_rate", "target"],
    "trend": ["level", "model", "estimate_pp_per_year", "std_error", "ci_low", "ci_high", "p_value", "recommended"],
    "effect_overall": ["level", "estimator", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value", "n_units",
                       "n_obs", "recommended"],
    "event_study": ["level", "estimator", "event_time", "estimate_pp", "std_error", "ci_low", "ci_high"],
    "equity_gaps": ["level", "dimension", "group", "reference", "gap_pp", "adjusted", "ci_low", "ci_high"],
    "data_quality": ["check", "table", "severity", "count", "detail"],
}


@pytest.fixture(scope="module")
def tables():
    return {t.id: t for t in fx.all_tables()}


def test_registry_matches_contract():
    assert set(CONTRACT) <= set(ev.TABLES)
    for tid, cols in CONTRACT.items():
        spec = ev.TABLES[tid]
        assert list(spec.columns) == cols
        assert set(spec.keys) <= set(spec.columns)
        assert spec.title_vi and spec.title_en and spec.notes_vi and spec.notes_en
        assert len(spec.short_vi) <= 31 and len(spec.short_en) <= 31


def test_every_builder_gives_contract_columns_in_order(tables):
    assert set(tables) == set(CONTRACT)
    for tid, cols in CONTRACT.items():
        t = tables[tid]
        assert t.columns[: len(cols)] == cols, tid
        header = t.to_csv_bytes().split(b"\n", 1)[0].decode().split(",")
        assert header[: len(cols)] == cols, tid


def test_every_column_has_vi_and_en_labels(tables):
    for t in tables.values():
        for c in CONTRACT[t.id]:
            info = ev.column_info(c)
            assert info["label_vi"] != c or c in ("level",), (t.id, c)
            assert info["label_en"] and info["description_vi"] and info["description_en"], (t.id, c)


def test_commune_small_cell_is_suppressed(tables):
    d = tables["uptake_by_commune"].data
    row = d[(d["level"] == "THPT") & (d["year"] == 2025) & (d["commune_code"] == "29296")].iloc[0]
    assert bool(row["suppressed"]) and row["graduates"] == 3
    for c in ("rate", "vocational", "target_rate", "target_met", "unknown"):
        assert pd.isna(row[c]), c
    assert row["target"] == 0.40 and bool(row["disadvantaged"])  # policy target and area facts stay
    assert int(d["suppressed"].sum()) == 1
    assert any("1 trên 12" in n for n in tables["uptake_by_commune"].notes_vi)
    line = [ln for ln in tables["uptake_by_commune"].to_csv_bytes().decode().splitlines() if ln.startswith("THPT,2025,29296")][0]
    assert line == "THPT,2025,29296,Xã Đại Phước,3,,,,0.4,,true,true,,2"


def test_group_small_cells_are_suppressed(tables):
    d = tables["uptake_by_group"].data
    small = d["graduates"] < 5
    assert small.any() and d.loc[small, "suppressed"].all() and d.loc[small, "rate"].isna().all()
    assert not d.loc[~small, "suppressed"].any()


def test_guard_raises_on_unsuppressed_small_cell():
    f = fx.uptake_by_commune_frame()
    f["suppressed"] = False
    with pytest.raises(ev.EvidenceError, match=r"uptake_by_commune: row \d+ \(level=THPT, year=2025, commune_code=29296\), "
                                               r"column graduates, value 3: a cell below min_cell = 5"):
        ev.EvidenceTable("uptake_by_commune", f, min_cell=5).check()
    # a suppressed row that still shows its rate is refused too
    f.loc[f["graduates"] == 3, "suppressed"] = True
    with pytest.raises(ev.EvidenceError, match="is suppressed but column vocational holds 1"):
        ev.EvidenceTable("uptake_by_commune", f, min_cell=5).check()
    # a level-year total below min_cell gets suppressed by the builder (extra suppressed column)
    y = fx.uptake_by_year_frame()
    y.loc[0, ["graduates", "vocational"]] = [4, 1]
    t = ev.uptake_by_year_table(y, min_cell=5)
    assert t.columns[-1] == "suppressed" and bool(t.data.loc[0, "suppressed"]) and pd.isna(t.data.loc[0, "rate"])


@pytest.mark.parametrize("column, value, message", [
    ("rate", 41.0, "column rate, value 41.0: a rate must be a fraction in 0..1"),
    ("target", -0.1, "column target, value -0.1: a rate must be"),
    ("graduates", "many", "column graduates, value 'many': expected a number"),
])
def test_check_rejects_bad_values(column, value, message):
    f = fx.uptake_by_year_frame()
    f[column] = f[column].astype(object)
    f.loc[2, column] = value
    with pytest.raises(ev.EvidenceError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        ev.EvidenceTable("uptake_by_year", f).check()


def test_check_rejects_missing_column_identity_columns_duplicates_and_unknown_ids():
    f = fx.uptake_by_year_frame()
    with pytest.raises(ev.EvidenceError, match="missing minimum column\\(s\\) target_met"):
        ev.EvidenceTable("uptake_by_year", f.drop(columns="target_met")).check()
    with pytest.raises(ev.EvidenceError, match="student identifier or name"):
        ev.EvidenceTable("uptake_by_year", f.assign(student_key="HS1")).check()
    with pytest.raises(ev.EvidenceError, match="appears more than once"):
        ev.EvidenceTable("uptake_by_year", pd.concat([f, f.iloc[[0]]])).check()
    with pytest.raises(ev.EvidenceError, match="unknown evidence table id 'uptake_by_month'"):
        ev.EvidenceTable("uptake_by_month", f)
    g = fx.equity_gaps_frame()
    g.loc[0, "gap_pp"] = -600.0  # a pp value multiplied by 100 twice
    with pytest.raises(ev.EvidenceError, match="percentage points must lie in -100..100"):
        ev.EvidenceTable("equity_gaps", g).check()


def test_equity_gaps_keys_on_the_adjusted_flag(tables):
    d = tables["equity_gaps"].data
    assert len(d) == 8 and not d.duplicated(["level", "dimension", "group", "adjusted"]).any()
    assert any("THCS, Khmer so với Kinh (đã điều chỉnh): -3,5 điểm % (KTC 95 % -6,0 đến -1,0); 14 cụm" in n
               for n in tables["equity_gaps"].notes_vi)
    assert any("Fewer than 20 clusters" in n for n in tables["equity_gaps"].notes_en)
    with pytest.raises(ev.EvidenceError, match="column adjusted, value -3.5: expected true/false"):
        ev.equity_gaps_table(fx.equity_gaps_frame().assign(adjusted=-3.5))


def test_effect_overall_known_answer_and_one_recommended_per_level(tables):
    d = tables["effect_overall"].data.set_index(["level", "estimator"])
    twfe = d.loc[("THCS", "twfe")]
    q = stats.norm.ppf(0.975)
    assert_allclose([twfe["estimate_pp"], twfe["std_error"], twfe["ci_low"], twfe["ci_high"]],
                    [5.0, 1.0, 5.0 - q, 5.0 + q], rtol=1e-12)
    assert_allclose(twfe["p_value"], 2 * stats.norm.sf(5.0), rtol=1e-9)
    assert int(twfe["n_clusters"]) == 20 and twfe["n_obs"] == 160
    rec = tables["effect_overall"].data.groupby("level")["recommended"].sum()
    assert rec.to_dict() == {"THCS": 1, "THPT": 1}
    notes = " ".join(tables["effect_overall"].notes_en)
    for fact in ("Reason: Schools were covered in different years.", "Joint pre-trend test (event study, THCS): F (2, 19) = 0.84",
                 "20 clusters", "160 school-years", "comparison group: schools not yet covered", "SYNTHETIC DATA"):
        assert fact in notes
    with pytest.raises(ev.EvidenceError, match="recommended estimator 'did' for level THCS is not among"):
        ev.effect_overall_table(fx.effect_results(), {"THCS": "did", "THPT": "twfe"})
    bad = tables["effect_overall"].data.copy()
    bad["recommended"] = True
    with pytest.raises(ev.EvidenceError, match="level THCS has 2 rows with recommended = true"):
        ev.EvidenceTable("effect_overall", bad).check()


def test_effect_overall_accepts_a_recommendation_object():
    class Rec:  # as effects.recommend returns
        estimator = "twfe"
        reason_en = "one adoption cohort"
        reason_vi = "một đợt áp dụng"
    t = ev.effect_overall_table(fx.effect_results(), {"THCS": Rec(), "THPT": Rec()})
    assert any("Lý do: một đợt áp dụng." in n for n in t.notes_vi)
    assert t.data.loc[t.data["recommended"], "estimator"].tolist() == ["twfe", "twfe"]


def test_trend_table_converts_to_pp_per_year(tables):
    d = tables["trend"].data.set_index(["level", "model"])
    assert_allclose(d.loc[("THCS", "glm_binomial"), "estimate_pp_per_year"], 2.1, rtol=1e-12)
    assert_allclose(d.loc[("THCS", "glm_binomial"), "ci_high"], 2.1 + stats.norm.ppf(0.975) * 0.4, rtol=1e-12)
    assert list(d.index) == [("THCS", "annual_ols"), ("THCS", "glm_binomial"), ("THCS", "lpm"),
                             ("THPT", "annual_ols"), ("THPT", "glm_binomial"), ("THPT", "lpm")]
    # exactly one recommended row per level: the annual-rate regression (contract, second round)
    assert d["recommended"].groupby(level="level").sum().tolist() == [1, 1]
    assert d.loc[("THCS", "annual_ols"), "recommended"] and (d["status"] == "ok").all()
    with pytest.raises(ev.EvidenceError, match="no 'annual_ols' row"):
        ev.trend_table({("THPT", "lpm"): fx.trend_results()["THPT"], ("THPT", "glm_binomial"): fx.trend_results()["THPT"]})
    # the (level, model) form picks the term named after the model
    t2 = ev.trend_table({("THPT", "lpm"): fx.trend_results()["THPT"]})
    assert_allclose(t2.data["estimate_pp_per_year"], [0.8 * 0.95])


def test_event_study_adds_reference_row_and_reads_terms(tables):
    d = tables["event_study"].data
    tw = d[(d["level"] == "THCS") & (d["estimator"] == "twfe")].sort_values("event_time")
    assert tw["event_time"].tolist() == [-3, -2, -1, 0, 1, 2]
    ref = tw[tw["event_time"] == -1].iloc[0]
    assert ref["estimate_pp"] == 0 and pd.isna(ref["std_error"]) and bool(ref["reference_period"])
    assert_allclose(tw.loc[tw["event_time"] == 2, "estimate_pp"], [7.0])
    cs = d[(d["level"] == "THCS") & (d["estimator"] == "callaway_santanna")]
    assert not cs["reference_period"].any() and len(cs) == 6
    assert any("F (2, 19) = 0.84, p = 0.470" in n for n in tables["event_study"].notes_en)
    assert ev._event_time_of("lead2") == -2 and ev._event_time_of("event_time=-3") == -3 and ev._event_time_of("e3") == 3


def test_coverage_note_states_the_denominator_found(tables):
    assert any("schools with counseling data" in n for n in tables["coverage_by_year"].notes_en)
    f = fx.coverage_by_year_frame()
    f["coverage_rate"] = f["covered"] / f["schools"]
    t = ev.coverage_by_year_table(f)
    assert any("covered schools / all schools" in n for n in t.notes_en)


def test_data_quality_counts_and_never_shows_values(tables):
    d = tables["data_quality"].data.set_index("check")
    assert d.loc["destination_valid", "count"] == 2 and d.loc["destination_valid", "severity"] == "error"
    assert "rows 12, 40" in d.loc["destination_valid", "detail"]
    csv = tables["data_quality"].to_csv_bytes().decode()
    assert "HS-000123" not in csv and "voc_xyz" not in csv
    assert any("3 errors, 1 warnings" in n for n in tables["data_quality"].notes_en)
    empty = ev.data_quality_table(fx.validation_frame().iloc[0:0])
    assert empty.data["count"].tolist() == [0] and empty.data["severity"].tolist() == ["info"]


def test_csv_is_byte_identical_and_independent_of_row_order(tmp_path, tables):
    t = tables["uptake_by_commune"]
    p1 = ev.write_table(t, tmp_path / "a")
    p2 = ev.write_table(t, tmp_path / "b")
    shuffled = fx.uptake_by_commune_frame().sample(frac=1.0, random_state=3)
    p3 = ev.write_table(ev.uptake_by_commune_table(shuffled, min_cell=5, geography="pre2025",
                                                   notebook="02_uptake.ipynb", synthetic=True), tmp_path / "c")
    b1 = p1.read_bytes()
    assert b1 == p2.read_bytes() == p3.read_bytes()
    assert not b1.startswith(b"\xef\xbb\xbf") and b"\r" not in b1 and b1.endswith(b"\n")
    assert "Xã Đại Phước".encode("utf-8") in b1
    # floats are written with 10 significant digits, -0 as 0
    assert ev._fmt_float(-0.0) == "0" and ev._fmt_float(1 / 3) == "0.3333333333"


def test_index_gathers_meta_and_removes_sidecars(tmp_path, tables):
    for t in tables.values():
        ev.write_table(t, tmp_path)
    assert len(list((tmp_path / "evidence").glob("*.meta.json"))) == 9
    path = ev.build_index(tmp_path, require=ev.CONTRACT_TABLE_IDS)
    index = json.loads(path.read_text(encoding="utf-8"))
    assert [e["id"] for e in index] == sorted(CONTRACT)
    assert not list((tmp_path / "evidence").glob("*.meta.json"))
    e = {x["id"]: x for x in index}["effect_overall"]
    assert e["title_vi"] == ev.TABLES["effect_overall"].title_vi and e["notebook"] == "05_effects.ipynb"
    assert [c["name"] for c in e["columns"]][:10] == CONTRACT["effect_overall"]
    assert e["notes"]["vi"] and e["notes"]["en"] and e["synthetic"] is True and e["csv"] == "evidence/effect_overall.csv"
    assert {x["id"]: x for x in index}["uptake_by_commune"]["suppressed_rows"] == 1
    # repeatable: a second call keeps the entries and gives the same bytes
    before = path.read_bytes()
    assert ev.build_index(tmp_path).read_bytes() == before
    # reading back gives typed columns
    back = ev.read_table(tmp_path, "uptake_by_commune")
    assert back["commune_code"].tolist()[0] == "29266" and str(back["suppressed"].dtype) == "boolean"


def test_index_refuses_inconsistent_folders(tmp_path, tables):
    ev.write_table(tables["trend"], tmp_path)
    (tmp_path / "evidence" / "stray.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ev.EvidenceError, match="stray.csv: no metadata"):
        ev.build_index(tmp_path)
    (tmp_path / "evidence" / "stray.csv").unlink()
    with pytest.raises(ev.EvidenceError, match="evidence table\\(s\\) missing: uptake_by_year"):
        ev.build_index(tmp_path, require=["uptake_by_year"])


def test_new_ids_can_be_registered():
    spec = ev.TableSpec("labour_alignment_test", ("sector",), ("sector", "demand", "supply"), "Cân đối lao động",
                        "Labour alignment", "Cân đối lao động", "Labour alignment")
    ev.register_table(spec)
    try:
        t = ev.EvidenceTable("labour_alignment_test", pd.DataFrame({"sector": ["b", "a"], "demand": [3, 4],
                                                                   "supply": [1, 2]})).check()
        assert t.to_csv_bytes() == b"sector,demand,supply\na,4,2\nb,3,1\n"
        with pytest.raises(ValueError, match="already registered"):
            ev.register_table(spec)
    finally:
        ev.TABLES.pop("labour_alignment_test")


def test_effect_table_carries_the_wild_bootstrap_beside_the_analytic_interval():
    boot = pd.DataFrame({"term": ["treated"], "estimate_pp": [5.0], "ci_low": [-0.5], "ci_high": [10.5],
                         "p_value": [0.08], "reps": [999], "weights_type": ["rademacher"]})
    t = ev.effect_overall_table(fx.effect_results(), {"THCS": "callaway_santanna", "THPT": "callaway_santanna"},
                                wild_bootstrap={("THCS", "twfe"): boot})
    row = t.data[(t.data["level"] == "THCS") & (t.data["estimator"] == "twfe")].iloc[0]
    assert (row["wild_ci_low"], row["wild_ci_high"], row["wild_p_value"]) == (-0.5, 10.5, 0.08)
    assert t.data.loc[t.data["estimator"] == "callaway_santanna", "wild_ci_low"].isna().all()
    assert any("wild cluster bootstrap (few clusters), 999 replications: 95 % CI -0.5 to 10.5" in n for n in t.notes_en)


def test_a_small_sample_pretest_wins_over_the_large_sample_one():
    from evaluation.results import TestResult

    class Fit:
        pretest = TestResult("R did Wald pre-test", 76.6, 1e-9, 15, "pre-period ATT(g,t) are zero")
        pretest_small_sample = TestResult("Hotelling F pre-test", 2.4, 0.06, (15, 13), "pre-period ATT(g,t) are zero")

    assert ev._find_pretrend(Fit()).name == "Hotelling F pre-test"

    class Aggregate:  # an aggregation carries both among its tests, the large-sample one first
        tests = {"pretest": Fit.pretest, "pretest_small_sample": Fit.pretest_small_sample}

    assert ev._find_pretrend(Aggregate()).name == "Hotelling F pre-test"


def test_a_bootstrap_interval_beyond_the_possible_range_is_left_empty_with_a_note():
    """Three clusters: the WCR interval by test inversion runs past +-100 pp (seen on a small district)."""
    boot = pd.DataFrame({"term": ["treated"], "ci_low": [-96403795.0], "ci_high": [np.inf], "p_value": [0.25],
                         "reps": [8]})
    t = ev.effect_overall_table(fx.effect_results(), {"THCS": "callaway_santanna", "THPT": "callaway_santanna"},
                                wild_bootstrap={("THPT", "twfe"): boot})
    row = t.data[(t.data["level"] == "THPT") & (t.data["estimator"] == "twfe")].iloc[0]
    assert np.isnan(row["wild_ci_low"]) and np.isnan(row["wild_ci_high"]) and row["wild_p_value"] == 0.25
    assert any("wider than any possible effect (too few schools to conclude)" in n for n in t.notes_en)
