"""The data-contract checks: every rule broken once in tests/data/bad_cohort, each reported with its
file row and column, all in one run; file-level problems; warnings; the command line."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from evaluation.paths import ROOT
from evaluation.validation import (
    REPORT_COLUMNS,
    Issue,
    ValidationReport,
    _normalise_name,
    _PERSONAL_RE,
    validate_folder,
    validate_tables,
)

DATA = ROOT / "tests" / "data"
BAD = DATA / "bad_cohort"
GOOD = DATA / "good_cohort"
CYCLE = range(2018, 2021)

GRAD_KEY = "school_id, year, level, sex, destination"

#: Every error planted in tests/data/bad_cohort: (table, CSV line, column, check).
EXPECTED_ERRORS = {
    # schools.csv
    ("schools", 2, "school_id", "duplicate_key"),
    ("schools", 6, "school_id", "duplicate_key"),
    ("schools", 5, "levels", "code"),
    ("schools", 5, "commune_code", "reference"),
    ("schools", 6, "ethnic_boarding", "type"),
    # communes.csv
    ("communes", 2, "commune_code", "duplicate_key"),
    ("communes", 5, "commune_code", "duplicate_key"),
    ("communes", 3, "khmer_share", "range"),
    ("communes", 4, "khmer_share", "type"),
    ("communes", 4, "disadvantaged", "type"),
    ("communes", 6, "commune_name", "missing_value"),
    # graduates.csv
    ("graduates", None, "students", "microdata_mismatch"),  # S1 2018 THCS M voc_elementary: no graduates row
    ("graduates", 4, "students", "microdata_mismatch"),  # S1 2018 THCS M thpt: 2 vs 1 student row
    ("graduates", 6, "students", "type"),  # abc
    ("graduates", 7, "students", "type"),  # 3.5
    ("graduates", 8, "sex", "code"),
    ("graduates", 9, "destination", "destination_level"),  # university after THCS
    ("graduates", 10, "destination", "code"),  # college
    ("graduates", 11, "level", "level_not_taught"),  # THPT row of a THCS school
    ("graduates", 12, "level", "code"),  # THCX
    ("graduates", 13, "year", "year_range"),  # 2030
    ("graduates", 14, "students", "range"),  # -2
    ("graduates", 15, "school_id", "reference"),  # S9
    ("graduates", 16, GRAD_KEY, "duplicate_key"),
    ("graduates", 17, GRAD_KEY, "duplicate_key"),
    ("graduates", 18, "students", "missing_value"),
    ("graduates", 19, "year", "type"),  # 20x9
    # counseling.csv (line 5 is blank: still counted)
    ("counseling", 2, "school_id, year", "duplicate_key"),
    ("counseling", 3, "school_id, year", "duplicate_key"),
    ("counseling", 4, "counselors", "range"),
    ("counseling", 6, "trained_counselors", "range"),  # 3 trained of 2 counselors
    ("counseling", 7, "year", "year_range"),  # 2017
    ("counseling", 8, "school_id", "reference"),
    ("counseling", 9, "counselors", "type"),
    ("counseling", 9, "sessions", "type"),
    # students.csv
    ("students", None, "Họ tên", "personal_data"),
    ("students", 8, "school_id", "reference"),
    ("students", 9, "ethnicity", "code"),
    ("students", 9, "poor_household", "type"),
    ("students", 9, "destination", "destination_level"),  # thpt after THPT
    ("students", 10, "student_key", "missing_value"),
    ("students", 11, "destination", "code"),
    ("students", 11, "year", "year_range"),  # 2016
    # labour_demand.csv
    ("labour_demand", None, "trade", "missing_column"),
    ("labour_demand", 3, "commune_code", "reference"),
    ("labour_demand", 3, "sector", "code"),
    ("labour_demand", 3, "qualification", "code"),
    ("labour_demand", 3, "workers_needed", "range"),
    ("labour_demand", 4, "survey_year", "year_range"),  # 1850
    # vocational_supply.csv
    ("vocational_supply", 3, "commune_code", "reference"),
    ("vocational_supply", 3, "level", "code"),
    ("vocational_supply", 3, "enrolled", "type"),
    ("vocational_supply", 3, "graduated", "range"),
}


def _tuples(report: ValidationReport, severity: str = "error") -> set[tuple]:
    return {(i.table, i.row, i.column, i.check) for i in report.issues if i.severity == severity}


@pytest.fixture(scope="module")
def bad_report() -> ValidationReport:
    return validate_folder(BAD, years=CYCLE)


def test_bad_cohort_reports_every_violation_with_row_and_column(bad_report):
    got = _tuples(bad_report)
    assert got - EXPECTED_ERRORS == set(), "unexpected errors"
    assert EXPECTED_ERRORS - got == set(), "errors not reported"
    assert bad_report.n_errors == len(EXPECTED_ERRORS)  # each violation once
    assert not bad_report.ok


def test_every_rule_is_broken_by_the_fixture(bad_report):
    content_rules = {"missing_column", "missing_value", "type", "code", "range", "year_range", "duplicate_key",
                     "reference", "level_not_taught", "destination_level", "microdata_mismatch", "personal_data"}
    assert {c for *_, c in _tuples(bad_report)} == content_rules


def test_issues_quote_the_value_and_say_what_is_expected_in_plain_words(bad_report):
    by = {(i.table, i.row, i.column): i for i in bad_report.errors}
    thcx = by[("graduates", 12, "level")]
    assert thcx.value == "THCX" and thcx.expected == "one of: THCS, THPT"
    assert thcx.file == "graduates.csv" and thcx.location == "line 12, column level"
    assert by[("graduates", 7, "students")].value == "3.5"
    assert by[("graduates", 7, "students")].expected.startswith("a whole number")
    assert by[("graduates", 13, "year")].expected == "a graduation year of the review cycle (2018-2020)"
    assert by[("counseling", 6, "trained_counselors")].expected.endswith("(2)")
    assert by[("graduates", 4, "students")].value == "2"
    assert by[("graduates", 4, "students")].expected.startswith("1 = the number of students rows")
    assert "first on line 16" in by[("graduates", 17, GRAD_KEY)].expected
    assert by[("students", None, "Họ tên")].value == "(values not shown)"
    text = bad_report.format()
    assert text == str(bad_report)
    for jargon in ("isin(", "Check", "column_in_dataframe", "not_nullable", "failure_case"):
        assert jargon not in text
    # grouped by table, every violation listed (one line each)
    assert text.count("\n  error ") == len(EXPECTED_ERRORS)
    assert "== graduates (graduates.csv): 16 error(s)" in text
    assert "line 12, column level, value 'THCX': expected one of: THCS, THPT [code]" in text


def test_no_student_value_of_a_personal_column_leaks(bad_report):
    frame = bad_report.to_frame()
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert str(frame["row"].dtype) == "Int64"
    students = frame[frame["table"] == "students"]
    assert not students["value"].isin(["a1", "a2", "a3", "x"]).any()


def test_report_objects(bad_report):
    assert all(isinstance(i, Issue) for i in bad_report.issues)
    assert len(bad_report.issues) == len(bad_report) == bad_report.n_errors + bad_report.n_warnings + len(bad_report.notes)
    assert {i.severity for i in bad_report.warnings} == {"warning"}
    assert "53 errors" in repr(bad_report)
    ok = ValidationReport()
    assert ok.ok and ok.to_frame().empty and ok.format().startswith("OK: 0 errors")


def test_file_level_problems_are_each_reported(tmp_path):
    folder = tmp_path / "files"
    shutil.copytree(GOOD, folder)
    (folder / "schools.parquet").write_bytes(b"PAR1 duplicate of schools.csv")  # both formats
    (folder / "communes.csv").unlink()
    (folder / "communes.parquet").write_text("this is not parquet")  # unreadable
    (folder / "graduates.csv").write_bytes(b"school_id,year\nTr\xf5\xf8ng,2019\n")  # Windows-1258 bytes, not UTF-8
    (folder / "counseling.csv").unlink()
    (folder / "counseling.xlsx").write_bytes(b"pretend workbook")  # missing, with a hint
    (folder / "students.csv").write_bytes(b"")  # empty file
    (folder / "labour_demand.csv").write_text("survey_year,enterprise_id\n")  # header only
    report = validate_folder(folder)
    got = {(i.table, i.check, i.value) for i in report.issues}
    assert got == {
        ("schools", "file_duplicate", "schools.csv, schools.parquet"),
        ("communes", "file_unreadable", "communes.parquet"),
        ("graduates", "file_unreadable", "graduates.csv"),
        ("counseling", "file_missing", None),
        ("students", "file_unreadable", "students.csv"),
        ("labour_demand", "empty_table", "labour_demand.csv"),
        ("vocational_supply", "table_absent", None),
    }
    by = {i.table: i for i in report.issues}
    assert "UTF-8" in by["graduates"].expected
    assert "counseling.xlsx must first be converted" in by["counseling"].expected
    assert "empty" in by["students"].expected
    assert "Parquet" in by["communes"].expected
    assert by["vocational_supply"].severity == "info"


def test_missing_folder_is_an_error(tmp_path):
    report = validate_folder(tmp_path / "nope")
    assert not report.ok and [i.check for i in report.errors] == ["folder_missing"]


def test_parquet_rows_are_numbered_from_one(tmp_path):
    folder = tmp_path / "pq"
    shutil.copytree(GOOD, folder)
    g = pd.read_csv(folder / "graduates.csv")
    g["students"] = g["students"].astype("float64")
    g.loc[3, "students"] = 2.5  # 4th data row: a non-integer count stored as a float
    g.loc[5, "level"] = "THCX"
    g.to_parquet(folder / "graduates.parquet", index=False)
    (folder / "graduates.csv").unlink()
    report = validate_folder(folder)
    assert _tuples(report) == {("graduates", 4, "students", "type"), ("graduates", 6, "level", "code")}
    assert "row 4, column students, value '2.5'" in report.format()


def test_validate_tables_in_memory():
    tables = {n: pd.read_csv(GOOD / f"{n}.csv", dtype=str) for n in ("schools", "communes", "graduates", "counseling")}
    assert validate_tables(tables).ok
    g = tables["graduates"].copy()
    g.loc[0, "year"] = "2019.5"
    g.loc[1, "students"] = "1.000"  # Vietnamese for one thousand: never read as 1
    g.loc[2, "students"] = "15.0"  # as pandas writes a float column: accepted
    report = validate_tables({**tables, "graduates": g})
    assert _tuples(report) == {("graduates", 1, "year", "type"), ("graduates", 2, "students", "type")}  # numbered like Parquet
    missing = validate_tables({k: v for k, v in tables.items() if k != "counseling"})
    assert [(i.table, i.check) for i in missing.errors] == [("counseling", "file_missing")]


@pytest.mark.parametrize("column", ["Họ tên", "Họ và tên", "HO_TEN", "name", "full_name", "CCCD", "so_cmnd",
                                    "national_id", "dob", "Ngày sinh", "date_of_birth", "phone", "dia_chi"])
def test_personal_columns_are_recognised(column):
    assert _PERSONAL_RE.search(_normalise_name(column))


@pytest.mark.parametrize("column", ["student_key", "school_id", "residence_commune_code", "counseled",
                                    "poor_household", "destination", "ethnicity", "school_name", "year"])
def test_contract_columns_are_not_personal(column):
    assert not _PERSONAL_RE.search(_normalise_name(column))


# -- warnings -------------------------------------------------------------------------------------
@pytest.fixture
def good_copy(tmp_path) -> Path:
    folder = tmp_path / "cohort"
    shutil.copytree(GOOD, folder)
    return folder


def test_clean_folder_has_no_errors_and_notes_absent_optional_tables():
    report = validate_folder(GOOD, years=CYCLE)
    assert report.ok and report.n_warnings == 0
    assert {(i.table, i.check, i.severity) for i in report.notes} == {
        ("labour_demand", "table_absent", "info"), ("vocational_supply", "table_absent", "info")}


def test_warning_school_year_without_counseling_row(good_copy):
    c = pd.read_csv(good_copy / "counseling.csv", dtype=str)
    c[~((c.school_id == "S02") & (c.year == "2020"))].to_csv(good_copy / "counseling.csv", index=False)
    report = validate_folder(good_copy, years=CYCLE)
    assert report.ok
    assert [(i.table, i.check, i.value) for i in report.warnings] == [("counseling", "counseling_missing", "S02 / 2020")]
    assert "missing, not as uncovered" in report.warnings[0].expected


def test_warning_unknown_share_per_school_year_and_level_year():
    # S01 THCS 2019: 5 unknown of 100 (5 %); THCS 2019 in the district: 5 of 140 (3.6 %)
    report = validate_folder(GOOD, years=CYCLE, unknown_share_warning=0.04)
    assert report.ok
    assert [i.value for i in report.warnings] == ["school S01, THCS 2019: 5.0% unknown (5 of 100)"]
    report = validate_folder(GOOD, years=CYCLE, unknown_share_warning=0.03)
    assert sorted(i.value for i in report.warnings) == ["THCS 2019: 3.6% unknown (5 of 140)",
                                                       "school S01, THCS 2019: 5.0% unknown (5 of 100)"]
    assert all(i.check == "unknown_share" for i in report.warnings)
    assert validate_folder(GOOD, years=CYCLE, unknown_share_warning=0.05).n_warnings == 0  # "exceeds"


def test_warning_school_that_stops_or_skips_reporting(good_copy):
    g = pd.read_csv(good_copy / "graduates.csv", dtype=str)
    g = g[~((g.school_id == "S02") & (g.year == "2020"))]  # S02 stops after 2019
    extra = pd.DataFrame({"school_id": ["S03", "S03"], "year": ["2021", "2018"], "level": ["THCS", "THPT"],
                          "destination": ["thpt", "university"], "students": ["30", "9"]})
    pd.concat([g, extra]).to_csv(good_copy / "graduates.csv", index=False)
    report = validate_folder(good_copy)
    gaps = sorted(i.value for i in report.warnings if i.check == "reporting_gap")
    assert gaps == [
        "school S01 (THCS): graduates reported for 2019-2020, none for 2021",
        "school S02 (THPT): graduates reported for 2019, none for 2020-2021",
        "school S03 (THPT): graduates reported for 2018-2020, none for 2021",
    ]
    assert report.ok


def test_sample_validates_without_errors(sample_dir):
    report = validate_folder(sample_dir, years=range(2018, 2026))
    assert report.ok, report.format()
    assert report.notes == []  # every optional table is present
    checks = sorted(i.check for i in report.warnings)
    # the sample's planted flaws (evaluation.sample docstring): 4 school-years without a counseling
    # row, one school-year with 25 % unknown, one school that stops reporting
    assert checks == ["counseling_missing"] * 4 + ["reporting_gap", "unknown_share"]


# -- command line ---------------------------------------------------------------------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "evaluation", "validate", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_cli_validate_bad_folder_exits_1_and_lists_every_error():
    res = _cli("--data", str(BAD), "--lang", "en")
    assert res.returncode == 1, res.stderr
    out = res.stdout
    assert "FAILED: 53 errors" in out
    assert "== graduates (graduates.csv)" in out
    assert "line 12, column level, value 'THCX': expected one of: THCS, THPT" in out
    assert "line 6, column trained_counselors, value '3'" in out
    assert out.count("\n  error ") == 53


def test_cli_validate_good_folder_exits_0():
    res = _cli("--data", str(GOOD), "--lang", "en")
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.splitlines()[1].startswith("OK: 0 errors")


def test_cli_validate_speaks_vietnamese_by_default(bad_report):
    res = _cli("--data", str(BAD))
    assert res.returncode == 1, res.stderr
    out = res.stdout
    assert "KHÔNG ĐẠT: 53 lỗi" in out
    assert "dòng 12, cột level, giá trị 'THCX': cần một trong: THCS, THPT" in out
    assert out.count("\n  lỗi ") == 53
    # every message of the folder has its Vietnamese wording in the catalogue
    from evaluation.messages import has_translation

    assert [e for e in bad_report.to_frame()["expected"] if not has_translation(e)] == []


def test_format_limit_keeps_counts(bad_report):
    short = bad_report.format(limit=1)
    assert "by check: " in short
    assert "... and 1 more [duplicate_key]" in short  # schools: two duplicate rows, one shown
    assert short.count("\n  error   line") < bad_report.n_errors
    assert bad_report.format(limit=None) == bad_report.format()


def test_a_commune_of_the_other_geography_is_named_as_such(tmp_path):
    """A school keyed by a commune after 1/7/2025 in a folder of the units before it."""
    folder = tmp_path / "geo"
    shutil.copytree(GOOD, folder)
    schools = (folder / "schools.csv").read_text(encoding="utf-8")
    (folder / "schools.csv").write_text(schools.replace("S02,Trường THPT Càng Long,29269,",
                                                        "S02,Trường THPT Càng Long,xa_cang_long,"), encoding="utf-8")
    report = validate_folder(folder)
    geo = [i for i in report.errors if i.check == "geography"]
    assert [(i.table, i.row, i.column, i.value) for i in geo] == [("schools", 3, "commune_code", "xa_cang_long")]
    assert "formed from 29266, 29269, 29299" in geo[0].expected
    assert not [i for i in report.errors if i.check == "reference" and i.table == "schools"]
