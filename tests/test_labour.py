"""Labour demand against vocational supply and the vocational network (evaluation.labour).

Known answers: the sample's planted totals (truth.json "labour"), and small hand-made frames
whose sums, ratios and orderings are worked out in the tests."""
from __future__ import annotations

from evaluation import findings as fnd

import json

import numpy as np
import pandas as pd
import pytest

from evaluation import labour as L


def _demand(rows):
    return pd.DataFrame(rows, columns=["survey_year", "enterprise_id", "commune_code", "sector", "trade",
                                       "qualification", "workers_needed"])


def _supply(rows):
    return pd.DataFrame(rows, columns=["year", "institution_id", "institution_name", "commune_code", "trade", "level",
                                       "places", "enrolled", "graduated", "employed_12m"])


@pytest.fixture()
def small():
    demand = _demand([
        (2021, "DN1", "A", "C", "May", "elementary", 30), (2021, "DN2", "A", "C", "May", "elementary", 20),
        (2021, "DN1", "A", "C", "May", "none", 40), (2021, "DN3", "B", "F", "Điện", "college", 10),
        (2023, "DN1", "A", "C", "May", "elementary", 70), (2023, "DN3", "B", "F", "Điện", "college", 12),
        (2023, "DN3", "B", "F", "Điện", "university", 5),
    ])
    supply = _supply([
        (2021, "I1", "Inst 1", "A", "May", "elementary", 20, 18, 15, 12),
        (2021, "I2", "Inst 2", "B", "May", "elementary", 10, 9, 6, 3),
        (2021, "I2", "Inst 2", "B", "Cơ khí", "intermediate", 25, 20, 16, 8),
        (2022, "I1", "Inst 1", "A", "May", "elementary", 99, 1, 1, 1),   # not a survey year
        (2023, "I1", "Inst 1", "A", "May", "elementary", 40, 30, 24, 18),
        (2023, "I2", "Inst 2", "B", "Điện", "college", 30, 15, 10, 9),
    ])
    return demand, supply


def test_alignment_sums_and_gaps_by_hand(small):
    a = L.labour_alignment(*small)
    assert list(a.columns[:8]) == list(L.ALIGNMENT_COLUMNS)
    r = a.set_index(["survey_year", "trade", "qualification"])
    # 2021 May elementary: demand 30 + 20 = 50, places 20 + 10 = 30, graduates 21
    assert (r.loc[(2021, "May", "elementary"), ["demand", "places", "graduates", "gap"]].tolist()
            == [50, 30, 21, 20])
    assert r.loc[(2021, "May", "elementary"), "ratio"] == pytest.approx(0.6)
    # a qualification with no vocational level: demand kept, supply empty
    row = r.loc[(2021, "May", "none")]
    assert row["demand"] == 40 and pd.isna(row["places"]) and pd.isna(row["gap"]) and not row["matched"]
    # supply without surveyed demand: demand 0, negative gap, no ratio
    row = r.loc[(2021, "Cơ khí", "intermediate")]
    assert row["demand"] == 0 and row["places"] == 25 and row["gap"] == -25 and np.isnan(row["ratio"])
    # a surveyed trade-level the network does not offer in a covered year: 0 places, whole demand unmet
    row = r.loc[(2021, "Điện", "college")]
    assert row["places"] == 0 and row["gap"] == 10 and row["ratio"] == 0
    # a year that is not a survey year never appears
    assert 2022 not in set(a["survey_year"])
    assert r.loc[(2023, "Điện", "college"), "gap"] == -18


def test_alignment_marks_survey_years_without_supply(small):
    demand, supply = small
    a = L.labour_alignment(demand, supply[supply["year"] != 2023])
    row = a.set_index(["survey_year", "trade", "qualification"]).loc[(2023, "May", "elementary")]
    assert not row["supply_year_covered"] and pd.isna(row["places"]) and pd.isna(row["gap"])
    assert 2023 not in set(L.local_coverage(a)["survey_year"])


def test_missing_column_is_named(small):
    demand, supply = small
    with pytest.raises(ValueError, match="labour_demand: missing column.*workers_needed"):
        L.labour_alignment(demand.drop(columns="workers_needed"), supply)
    with pytest.raises(ValueError, match="no vocational_supply table"):
        L.labour_alignment(demand, None)


def test_trend_status_and_coverage_by_hand(small):
    a = L.labour_alignment(*small)
    by = L.mismatch_by_trade(a).set_index(["survey_year", "trade"])
    assert by.loc[(2021, "May"), "demand_other"] == 40 and by.loc[(2021, "May"), "gap"] == 20
    tr = L.mismatch_trend(a).set_index("trade")
    # May: gap 20 (2021) -> 30 (2023): +5 workers a year
    assert tr.loc["May", "gap_change_per_year"] == pytest.approx(5.0)
    assert tr.loc["May", "ratio_change_per_year"] == pytest.approx((40 / 70 - 0.6) / 2)
    assert np.isnan(tr.loc["Cơ khí", "gap_change_per_year"])  # one survey only
    st = L.trade_status(a, year=2021).set_index("trade")
    assert st.loc["May", "status"] == "unmet" and st.loc["Điện", "status"] == "unmet"
    assert st.loc["Cơ khí", "status"] == "over_supplied"
    assert L.trade_status(a).iloc[0]["survey_year"] == 2023
    assert L.trade_status(a, year=2023).set_index("trade").loc["Điện", "status"] == "over_supplied"
    cov = L.local_coverage(a).set_index("survey_year")
    # 2021 matched: May elem min(30, 50) + Điện college min(0, 10) + Cơ khí min(25, 0) over 60
    assert cov.loc[2021, "covered_by_places"] == pytest.approx(30 / 60)
    assert cov.loc[2021, "covered_by_graduates"] == pytest.approx(21 / 60)
    assert cov.loc[2021, "demand_all"] == 100 and cov.loc[2021, "vocational_share"] == pytest.approx(0.6)
    with pytest.raises(ValueError, match="tolerance"):
        L.trade_status(a, tolerance=1.5)


def test_network_rates_by_hand(small):
    _, supply = small
    net = L.vocational_network(supply)
    assert list(net.columns[:9]) == list(L.NETWORK_COLUMNS)
    r = net.set_index(["year", "institution_id", "trade", "level"]).loc[(2021, "I1", "May", "elementary")]
    assert r["fill_rate"] == pytest.approx(18 / 20) and r["completion_rate"] == pytest.approx(15 / 18)
    assert r["employment_rate"] == pytest.approx(12 / 15)
    s = L.network_summary(supply, by="year", years=[2021]).iloc[0]
    assert s["institutions"] == 2 and s["fill_rate"] == pytest.approx(47 / 55)


def test_unknown_employment_is_not_counted_as_zero(small):
    """employed_12m is empty for a cohort not yet 12 months out: the row's employment is unknown (not 0 %), and a
    pooled rate is over the graduates whose employment is known."""
    demand, supply = small
    supply = supply.astype({"employed_12m": "Float64"})
    supply.loc[(supply["year"] == 2021) & (supply["institution_id"] == "I2") & (supply["trade"] == "May"),
               "employed_12m"] = pd.NA
    net = L.vocational_network(supply).set_index(["year", "institution_id", "trade", "level"])
    assert pd.isna(net.loc[(2021, "I2", "May", "elementary"), "employed_12m"])
    assert np.isnan(net.loc[(2021, "I2", "May", "elementary"), "employment_rate"])
    s = L.network_summary(supply, by="year", years=[2021]).iloc[0]
    assert s["employed_12m"] == 12 + 8 and s["employment_rate"] == pytest.approx((12 + 8) / (15 + 16))
    a = L.labour_alignment(demand, supply).set_index(["survey_year", "trade", "qualification"])
    assert pd.isna(a.loc[(2021, "May", "elementary"), "employed_12m"])  # I1 known, I2 not: the sum is unknown
    assert a.loc[(2021, "May", "elementary"), "graduates"] == 21
    assert a.loc[(2021, "Cơ khí", "intermediate"), "employed_12m"] == 8


def test_provision_access_khmer_first_both_geographies():
    communes = pd.DataFrame({
        "commune_code": ["c1", "c2", "c3", "c4"], "commune_name": ["Một", "Hai", "Ba", "Bốn"],
        "khmer_share": [0.02, 0.30, 0.01, 0.20],
        "merged_into_code": ["n1", "n1", "n2", "n2"], "merged_into_name": ["Mới 1", "Mới 1", "Mới 2", "Mới 2"]})
    supply = _supply([(2025, "I1", "Inst", "c1", "May", "elementary", 10, 5, 4, 3),
                      (2024, "I2", "Inst", "c3", "May", "elementary", 10, 5, 4, 3)])
    pre = L.provision_access(communes, supply, khmer_threshold=0.15)
    assert pre["commune_code"].tolist() == ["c2", "c4", "c3", "c1"]  # no provision, Khmer first, then share
    assert pre["local_provision"].tolist() == [False, False, False, True]
    post = L.provision_access(communes, supply, geography="post2025", khmer_threshold=0.15)
    assert post["commune_code"].tolist() == ["n2", "n1"]
    assert post.set_index("commune_code").loc["n2", "khmer_share"] == pytest.approx(0.20)
    assert post["khmer_commune"].tolist() == [True, True]
    assert L.provision_access(communes, supply, year=2024)["local_provision"].sum() == 1
    bad = supply.assign(commune_code="zz")
    with pytest.raises(ValueError, match="vocational_supply: column commune_code, value.*zz"):
        L.provision_access(communes, bad)


def test_findings_sentences_from_the_numbers(small):
    a = L.labour_alignment(*small)
    f = fnd.labour_findings(a, year=2021)
    assert "Nhu cầu lao động ngành May vượt số chỗ đào tạo 20 người (2021)." in f["vi"]
    assert "Labour demand for May exceeds the training places by 20 workers (2021)." in f["en"]
    assert any("Cơ khí" in s and "25" in s for s in f["en"])
    assert any("50 %" in s for s in f["vi"])  # covered by places 30/60
    assert len(f["vi"]) == len(f["en"])
    net = L.vocational_network(small[1])
    g = fnd.network_findings(net, [L.provision_access(pd.DataFrame({"commune_code": ["A", "B", "C"],
                                                                   "commune_name": ["Xã A", "Xã B", "Xã C"],
                                                                   "khmer_share": [0.0, 0.0, 0.5]}),
                                                     small[1])])
    assert any("Xã C" in s and "Khmer" in s for s in g["en"]) and len(g["vi"]) == len(g["en"])


# ------------------------------------------------------------------ the shipped sample
def test_sample_mismatch_recovers_the_planted_gaps_exactly(sample_dir, sample_cohort):
    truth = json.loads((sample_dir / "truth.json").read_text(encoding="utf-8"))["labour"]
    a = L.labour_alignment(sample_cohort.labour_demand, sample_cohort.vocational_supply)
    dem = pd.DataFrame(truth["demand_totals"]).rename(columns={"workers_needed": "demand"})
    sup = pd.DataFrame(truth["supply_totals"]).rename(columns={"year": "survey_year", "level": "qualification",
                                                               "graduated": "graduates"})
    sup = sup[sup["survey_year"].isin(dem["survey_year"].unique())]
    want = dem.merge(sup, on=["survey_year", "trade", "qualification"], how="outer")
    want["demand"] = want["demand"].fillna(0)
    want["places"] = want["places"].where(~want["qualification"].isin(["none", "university"]))
    vocational = want["qualification"].isin(["elementary", "intermediate", "college"])
    want.loc[vocational, ["places", "graduates"]] = want.loc[vocational, ["places", "graduates"]].fillna(0)
    want["gap"] = want["demand"] - want["places"]
    got = a.merge(want, on=["survey_year", "trade", "qualification"], how="outer", suffixes=("", "_true"),
                  indicator=True)
    assert (got["_merge"] == "both").all(), got.loc[got["_merge"] != "both"]
    assert len(got) == len(a) == len(want)
    for c in ("demand", "places", "graduates", "gap"):
        np.testing.assert_array_equal(got[c].astype("float64").to_numpy(), got[f"{c}_true"].astype("float64").to_numpy())
    assert a["gap"].notna().sum() == vocational.sum()


def test_sample_network_and_access(sample_cohort):
    net = L.vocational_network(sample_cohort.vocational_supply)
    s = L.network_summary(sample_cohort.vocational_supply, by="trade").set_index("trade")
    # planted fill rates (sample.SUPPLY_TRADE): the pooled estimate within 5 binomial SEs
    from evaluation.sample import SUPPLY_COMPLETION, SUPPLY_TRADE
    for trade, (_, fill, emp) in SUPPLY_TRADE.items():
        n = s.loc[trade, "places"]
        assert abs(s.loc[trade, "fill_rate"] - fill) < 5 * np.sqrt(fill * (1 - fill) / n), trade
    pooled = net["graduated"].sum() / net["enrolled"].sum()
    assert abs(pooled - SUPPLY_COMPLETION) < 0.03
    pre = L.provision_access(sample_cohort.communes, sample_cohort.vocational_supply, khmer_threshold=0.15)
    post = L.provision_access(sample_cohort.communes, sample_cohort.vocational_supply, geography="post2025",
                              khmer_threshold=0.15)
    assert len(pre) == 14 and len(post) == 5
    assert pre["local_provision"].sum() == 4  # the four institutions sit in four communes
    first_no = pre.loc[~pre["local_provision"]]
    assert first_no["khmer_commune"].is_monotonic_decreasing


# ------------------------------------------------------------------ notebook 07
def _run_notebook_07(data, stage, tmp_path):
    import subprocess
    import sys

    import nbformat

    from evaluation.paths import NOTEBOOKS_DIR

    out = tmp_path / "07.ipynb"
    run = subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS_DIR / "07_labour_and_network.ipynb"),
                          str(out), "-p", "data", str(data), "-p", "stage_dir", str(stage), "--cwd",
                          str(NOTEBOOKS_DIR), "--no-progress-bar"], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    cells = nbformat.read(out, as_version=4).cells
    outputs = [o for c in cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("data", {}).get("text/markdown", "")) + str(o.get("text", "")) for o in outputs)
    return text


def test_notebook_07_skips_each_section_with_a_note_without_the_optional_tables(sample_dir, tmp_path):
    import shutil

    data = tmp_path / "cohort"
    shutil.copytree(sample_dir, data, ignore=shutil.ignore_patterns("labour_demand.*", "vocational_supply.*"))
    stage = tmp_path / "stage"
    stage.mkdir()
    text = _run_notebook_07(data, stage, tmp_path)
    assert text.count("Section skipped") == 2
    assert "labour_demand" in text and "vocational_supply" in text
    assert not (stage / "evidence").exists() or not list((stage / "evidence").glob("*.csv"))


@pytest.mark.slow
def test_notebook_07_writes_both_tables_on_the_sample(sample_dir, tmp_path):
    from evaluation.evidence import build_index, read_table

    stage = tmp_path / "stage"
    stage.mkdir()
    text = _run_notebook_07(sample_dir, stage, tmp_path)
    assert "Section skipped" not in text
    build_index(stage)
    a = read_table(stage, "labour_alignment")
    n = read_table(stage, "vocational_network")
    assert len(a) and len(n) and "Khmer" in text


def test_network_table_suppresses_an_unknown_count_as_the_single_rule_does():
    """``vocational_network_table`` uses ``disclosure.primary_mask``: an unknown enrolment is small too, 0 is not."""
    from evaluation.evidence.builders.plan import vocational_network_table

    supply = _supply([(2021, "I1", "Inst 1", "A", "May", "elementary", 20, 18, 15, 12),
                      (2021, "I2", "Inst 2", "B", "May", "elementary", 10, 9, 6, 3),
                      (2021, "I3", "Inst 3", "B", "May", "elementary", 10, 0, 0, 0),
                      (2021, "I4", "Inst 4", "B", "May", "elementary", 10, 8, 4, 3)])
    net = L.vocational_network(supply).astype({"enrolled": "Float64"})
    net.loc[net["institution_id"] == "I2", "enrolled"] = pd.NA  # unknown (validation refuses it in the data)
    t = vocational_network_table(net, min_cell=5).data.set_index("institution_id")
    assert t["suppressed"].tolist() == [False, True, False, True]
    assert pd.isna(t.loc["I2", "employment_rate"]) and pd.isna(t.loc["I4", "graduated"])
    assert t.loc["I1", "employment_rate"] == pytest.approx(12 / 15)
