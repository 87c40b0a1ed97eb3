"""Hand-made indicator frames and results objects for the evidence, report and figure tests.

Small, readable, with the output contract's columns (and the extras the indicator functions
add), so the tests of evidence tables, report and figures do not depend on the estimators.
Numbers are chosen so that the expected outputs can be written down by hand.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from evaluation import evidence as ev
from evaluation import figures as fg
from evaluation.results import EstimateResults, TestResult

LEVELS = ("THCS", "THPT")
YEARS = (2023, 2024, 2025)


def uptake_by_year_frame() -> pd.DataFrame:
    rows = []
    for lvl in LEVELS:
        for k, y in enumerate(YEARS):
            g = 400 + 10 * k if lvl == "THCS" else 300
            voc = 120 + 20 * k if lvl == "THCS" else 60 + 6 * k
            vt = voc if lvl == "THCS" else 30 + 3 * k
            target = 0.40 if lvl == "THCS" else 0.45
            rows.append({"level": lvl, "year": y, "graduates": g, "vocational": voc, "rate": voc / g,
                         "unknown_share": 4 / g, "target_rate": vt / g, "target": target,
                         "target_met": "met" if vt / g >= target else "not_met", "unknown": 4, "voc_target": vt,
                         "target_source": "Decision 522/QĐ-TTg (14/5/2018)", "target_standing": "verified"})
    return pd.DataFrame(rows)


COMMUNES = (("29266", "Thị trấn Càng Long"), ("29299", "Xã Nhị Long Phú"), ("29296", "Xã Đại Phước"))


def uptake_by_commune_frame() -> pd.DataFrame:
    """Xã Đại Phước has 3 THPT graduates in 2025: a cell below min_cell = 5, not yet suppressed."""
    rows = []
    for lvl in LEVELS:
        for y in YEARS[1:]:
            for i, (code, name) in enumerate(COMMUNES):
                g = 3 if (lvl == "THPT" and y == 2025 and code == "29296") else 50 + 10 * i
                voc = 1 if g == 3 else 15 + 5 * i
                rows.append({"level": lvl, "year": y, "commune_code": code, "commune_name": name, "graduates": g,
                             "vocational": voc, "rate": voc / g, "target_rate": voc / g, "target": 0.40,
                             "target_met": "met" if voc / g >= 0.40 else "not_met", "disadvantaged": code == "29296", "unknown": 0,
                             "schools": 2})
    return pd.DataFrame(rows)


def uptake_by_group_frame() -> pd.DataFrame:
    rows = []
    for lvl in LEVELS:
        for y in YEARS:
            for gv, grp, g in (("sex", "F", 200), ("sex", "M", 190), ("ethnicity", "kinh", 370),
                               ("ethnicity", "khmer", 18), ("ethnicity", "hoa", 2)):
                voc = max(0, int(g * 0.3))
                rows.append({"level": lvl, "year": y, "group_var": gv, "group": grp, "graduates": g,
                             "vocational": voc, "rate": voc / g})
    return pd.DataFrame(rows)


def coverage_by_year_frame() -> pd.DataFrame:
    rows = []
    for lvl in LEVELS:
        for k, y in enumerate(YEARS):
            schools, missing = (14, 1) if lvl == "THCS" else (6, 0)
            covered = 5 + 3 * k if lvl == "THCS" else 2 + k
            rows.append({"level": lvl, "year": y, "schools": schools, "covered": covered, "missing": missing,
                         "coverage_rate": covered / (schools - missing), "target": 1.0 if y == 2025 else np.nan,
                         "not_covered": schools - missing - covered, "coverage_rate_all": covered / schools})
    return pd.DataFrame(rows)


def trend_results() -> dict[str, EstimateResults]:
    """One results object per level with three model terms (the recommended annual_ols first), fractions per year."""
    out = {}
    for lvl, b in (("THCS", 0.021), ("THPT", 0.008)):
        out[lvl] = EstimateResults(estimator="trend", estimand="change in vocational/graduates per year",
                                   params=pd.Series({"annual_ols": b * 1.05, "glm_binomial": b, "lpm": b * 0.95}),
                                   std_errors=pd.Series({"annual_ols": 0.007, "glm_binomial": 0.004, "lpm": 0.005}),
                                   df=None,
                                   cov_type="cluster (school_id)", info={"n_obs": 160, "n_clusters": 20})
    return out


PRETREND = TestResult(name="pretrend", statistic=0.84, p_value=0.47, df=(2, 19), null="all leads are zero",
                      distribution="F")


def twfe_result(b: float = 0.05, se: float = 0.01) -> EstimateResults:
    return EstimateResults(estimator="twfe", estimand="ATT under homogeneous effects", params=pd.Series({"treated": b}),
                           std_errors=pd.Series({"treated": se}), df=None, cov_type="cluster-robust (CRV1) by school_id",
                           info={"n_obs": 160, "n_units": 20, "n_clusters": 20})


def cs_frame(level: str) -> pd.DataFrame:
    """A one-row aggregate, already in percentage points (as ``aggregate('simple').to_frame(pp=True)``)."""
    b = 6.0 if level == "THCS" else 2.0
    return pd.DataFrame({"estimate_pp": [b], "std_error": [1.5], "ci_low": [b - 1.96 * 1.5],
                         "ci_high": [b + 1.96 * 1.5], "p_value": [0.0001], "comparison_group": ["notyet"]})


def effect_results() -> list[tuple]:
    return [(lvl, est, obj, 20, 160) for lvl in LEVELS
            for est, obj in (("twfe", twfe_result()), ("callaway_santanna", cs_frame(lvl)))]


def event_twfe_result() -> EstimateResults:
    """TWFE event study with leads -3, -2 and lags 0..2 (reference -1 omitted)."""
    e = [-3, -2, 0, 1, 2]
    b = [0.002, -0.004, 0.03, 0.05, 0.07]
    return EstimateResults(estimator="event_study", estimand="effect by event time",
                           params=pd.Series(b, index=[f"event_time={k}" for k in e]),
                           std_errors=pd.Series([0.01] * 5, index=[f"event_time={k}" for k in e]),
                           df=None, tests={"pretrend": PRETREND})


def event_cs_frame() -> pd.DataFrame:
    e = np.arange(-3, 3)
    est = np.where(e < 0, 0.3, 3.0 * (e + 1))
    return pd.DataFrame({"event_time": e, "estimate_pp": est, "std_error": 1.0, "ci_low": est - 1.96,
                         "ci_high": est + 1.96})


def event_results() -> list[tuple]:
    return [(lvl, est, obj) for lvl in LEVELS
            for est, obj in (("twfe", event_twfe_result()), ("callaway_santanna", event_cs_frame()))]


def equity_gaps_frame() -> pd.DataFrame:
    """As ``equity.equity_table`` returns it: a raw and an adjusted row per group (sex: raw only)."""
    rows = []
    for lvl in LEVELS:
        for dim, grp, ref, adj, gap in (("ethnicity", "khmer", "kinh", False, -6.0), ("ethnicity", "khmer", "kinh", True, -3.5),
                                         ("sex", "F", "M", False, 2.0), ("poverty", "poor", "not_poor", True, -4.0)):
            rows.append({"level": lvl, "dimension": dim, "group": grp, "reference": ref, "gap_pp": gap,
                         "adjusted": adj, "std_error": 1.25, "ci_low": gap - 2.5, "ci_high": gap + 2.5,
                         "p_value": 0.01, "n": 800, "n_clusters": 14})
    return pd.DataFrame(rows)


def validation_frame() -> pd.DataFrame:
    """Validation issues as ``ValidationReport.to_frame()`` has them; one value is a student key."""
    return pd.DataFrame({
        "check": ["destination_valid", "destination_valid", "counseling_row_missing", "student_key_unique"],
        "table": ["graduates", "graduates", "counseling", "students"],
        "severity": ["error", "error", "warning", "error"],
        "row": [12, 40, pd.NA, 7],
        "column": ["destination", "destination", None, "student_key"],
        "value": ["voc_xyz", "abc", None, "HS-000123"],
        "expected": ["a destination of the level", "a destination of the level", "a counseling row per school and year",
                     "a unique key"],
    })


def all_tables(*, synthetic: bool = True, min_cell: int = 5) -> list[ev.EvidenceTable]:
    """Every contract table, built with the library's builders from the frames above."""
    return [
        ev.uptake_by_year_table(uptake_by_year_frame(), min_cell=min_cell, notebook="02_uptake.ipynb", synthetic=synthetic),
        ev.uptake_by_commune_table(uptake_by_commune_frame(), min_cell=min_cell, geography="pre2025",
                                   notebook="02_uptake.ipynb", synthetic=synthetic),
        ev.uptake_by_group_table(uptake_by_group_frame(), min_cell=min_cell, notebook="02_uptake.ipynb", synthetic=synthetic),
        ev.coverage_by_year_table(coverage_by_year_frame(), notebook="03_coverage.ipynb", synthetic=synthetic),
        ev.trend_table(trend_results(), notebook="04_trends.ipynb", synthetic=synthetic),
        ev.effect_overall_table(effect_results(), {"THCS": "callaway_santanna", "THPT": "callaway_santanna"},
                                {"THCS": {"vi": "Các trường có GV tư vấn vào các năm khác nhau.",
                                          "en": "Schools were covered in different years."},
                                 "THPT": "staggered adoption"},
                                pretrend={"THCS": PRETREND}, notebook="05_effects.ipynb", synthetic=synthetic),
        ev.event_study_table(event_results(), notebook="05_effects.ipynb", synthetic=synthetic),
        ev.equity_gaps_table(equity_gaps_frame(), notebook="06_equity.ipynb", synthetic=synthetic),
        ev.data_quality_table(validation_frame(), notebook="01_data_quality.ipynb", synthetic=synthetic),
    ]


def make_stage(stage: Path, *, synthetic: bool = True, lang: str = "vi", figures: bool = True) -> Path:
    """A staging folder as the runner leaves it before the report: evidence, index, figures."""
    tables = all_tables(synthetic=synthetic)
    for t in tables:
        ev.write_table(t, stage)
    ev.build_index(stage)
    if figures:
        by_id = {t.id: t.data for t in tables}
        fg.save_figure(fg.uptake_vs_target(by_id["uptake_by_year"], lang), stage, "uptake_vs_target")
        fg.save_figure(fg.communes_vs_target(by_id["uptake_by_commune"], lang), stage, "communes_vs_target")
        fg.save_figure(fg.event_study_plot(by_id["event_study"], lang), stage, "event_study")
    return stage
