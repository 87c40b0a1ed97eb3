"""esttab-style regression table and iebaltab-style balance table, against known answers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import evidence_fixtures as fx
from evaluation.research_tables import balance_table, baseline_balance, regression_table


def test_regression_table_reads_estimates_ses_n_clusters_and_fixed_effects():
    twfe = fx.twfe_result(b=0.05, se=0.01)
    trend = fx.trend_results()["THCS"]
    t = regression_table({"TWFE": twfe, "Trend": trend}, terms=["treated", "glm_binomial"],
                         labels={"treated": "Covered"})
    f = t.to_frame()
    assert list(f.columns) == ["TWFE", "Trend"]
    assert list(f.index[:4]) == ["Covered", "", "glm_binomial", ""]
    assert f.iloc[0].tolist() == ["5.00", ""] and f.iloc[1].tolist() == ["(1.00)", ""]
    assert f.iloc[2].tolist() == ["", "2.10"] and f.iloc[3].tolist() == ["", "(0.40)"]
    assert f.loc["Observations"].tolist() == ["160", "160"] and f.loc["Clusters (schools)"].tolist() == ["20", "20"]
    assert f.loc["School fixed effects"].tolist() == ["Yes", "No"] and f.loc["Year fixed effects"].tolist() == ["Yes", "No"]
    assert "Standard errors in parentheses (percentage points)." in str(t)
    vi = regression_table([twfe], lang="vi", stars=True).to_frame()
    assert vi.iloc[0, 0] == "5,00***" and vi.loc["Hiệu ứng cố định trường"].tolist() == ["Có"]
    assert "<table" in t._repr_html_()


def test_regression_table_of_a_real_fit_recovers_the_planted_effect():
    from evaluation.effects.twfe import twfe

    rng = np.random.default_rng(7)
    rows = []
    for s in range(40):
        start = 2020 + s % 4 if s < 30 else 9999
        a = rng.normal(0.3, 0.05)
        for y in range(2018, 2025):
            d = int(y >= start)
            rows.append({"school_id": f"S{s}", "year": y, "treated": d, "graduates": 100,
                         "rate": a + 0.01 * (y - 2018) + 0.04 * d + rng.normal(0, 0.01)})
    res = twfe(pd.DataFrame(rows))
    t = regression_table({"(1)": res}, terms=["treated"])
    b = t.data.set_index("term").loc["treated"]
    assert b["estimate"] == pytest.approx(float(res.params["treated"]) * 100, abs=1e-12)
    assert b["estimate"] == pytest.approx(4.0, abs=0.5)  # the planted 4 pp
    assert t.to_frame().loc["Observations", "(1)"] == "280"


def test_balance_table_matches_the_two_sample_t_test():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"covered": [True] * 12 + [False] * 9, "rate": rng.normal(0.3, 0.05, 21),
                       "graduates": rng.integers(50, 200, 21)})
    t = balance_table(df, group="covered", variables=["rate", "graduates"])
    d = t.data.set_index("variable")
    a, b = df.loc[df.covered, "rate"], df.loc[~df.covered, "rate"]
    ref = stats.ttest_ind(a, b, equal_var=True)
    assert d.loc["rate", "difference"] == pytest.approx(a.mean() - b.mean(), abs=1e-14)
    assert d.loc["rate", "p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert d.loc["rate", "difference"] / d.loc["rate", "std_error"] == pytest.approx(ref.statistic, rel=1e-10)
    assert d.loc["rate", "normalised_difference"] == pytest.approx(
        (a.mean() - b.mean()) / np.sqrt((a.var() + b.var()) / 2), rel=1e-12)
    f = t.to_frame()
    assert f.loc["rate", "Group 1: N"] == "12" and f.loc["rate", "Group 2: N"] == "9"
    assert f.loc["rate", "Group 1: Mean (SD)"] == f"{a.mean():.2f} ({a.std():.2f})"
    with pytest.raises(ValueError, match="lacks column"):
        balance_table(df, group="covered", variables=["nope"])


def test_baseline_balance_compares_covered_with_not_yet_covered_schools_at_baseline():
    rows = []
    for s, (start, size) in enumerate([(2019, 100), (2020, 120), (9999, 60), (9999, 80), (2018, 500)]):
        for y in (2018, 2019, 2020):
            rows.append({"school_id": f"S{s}", "level": "THCS", "year": y, "graduates": size + (y - 2018),
                         "rate": 0.2, "covered": y >= start})
    t = baseline_balance(pd.DataFrame(rows), level="THCS", variables=["graduates"])
    d = t.data.iloc[0]
    # S4 covered already in 2018 is left out; covered by 2020: S0, S1 (100, 120); not yet: S2, S3 (60, 80)
    assert (d["n_1"], d["n_2"]) == (2, 2) and d["mean_1"] == 110 and d["mean_2"] == 70
    assert "Covered in 2020" in t.to_frame().columns[0] and "2018" in t.notes[-1]
