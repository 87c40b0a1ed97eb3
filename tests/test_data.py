"""Reading and loading cohort folders: CSV and Parquet, types after loading, errors, the sample."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from evaluation.data import (
    CohortData,
    CohortValidationError,
    TableReadError,
    is_synthetic,
    load_cohort,
    read_table,
)
from evaluation.paths import ROOT

DATA = ROOT / "tests" / "data"
GOOD = DATA / "good_cohort"
BAD = DATA / "bad_cohort"
STR = pd.StringDtype(na_value=np.nan)


@pytest.fixture(scope="module")
def good() -> CohortData:
    return load_cohort(GOOD, years=range(2019, 2021))


def test_clean_folder_loads_with_contract_types(good):
    assert good.schools.dtypes.to_dict() == {
        "school_id": STR, "school_name": STR, "commune_code": STR, "levels": STR,
        "ethnic_boarding": np.dtype(bool), "principal": STR}  # extra column kept
    assert good.communes.dtypes.to_dict() == {
        "commune_code": STR, "commune_name": STR, "district_name": STR, "province_name": STR,
        "khmer_share": np.dtype("float64"), "disadvantaged": np.dtype(bool),
        "merged_into_code": STR, "merged_into_name": STR}
    assert good.graduates.dtypes.to_dict() == {
        "school_id": STR, "year": np.dtype("int64"), "level": STR, "destination": STR,
        "students": np.dtype("int64")}
    assert good.counseling.dtypes.to_dict() == {
        "school_id": STR, "year": np.dtype("int64"), "counselors": np.dtype("int64"),
        "trained_counselors": np.dtype("int64"), "sessions": pd.Int64Dtype()}  # optional count, one empty cell
    assert good.students.dtypes.to_dict() == {
        "student_key": STR, "school_id": STR, "year": np.dtype("int64"), "level": STR, "sex": STR,
        "ethnicity": STR, "poor_household": np.dtype(bool), "residence_commune_code": STR,
        "counseled": np.dtype(bool), "destination": STR}
    assert good.labour_demand is None and good.vocational_supply is None


def test_clean_folder_values(good):
    # BOM-prefixed header read, text codes kept as text (no leading zeros lost), bools in every spelling
    assert list(good.communes["commune_code"]) == ["29266", "29269", "29299"]
    assert list(good.communes["disadvantaged"]) == [False, False, True]  # false / no / yes
    assert list(good.schools["ethnic_boarding"]) == [False, False, True]  # false / 0 / TRUE
    assert list(good.schools["levels"]) == ["THCS", "THPT", "THCS,THPT"]  # "THCS, THPT" normalised
    assert list(good.students["counseled"]) == [True, False, True, True, True]  # true/false/true/yes/1
    assert good.counseling["sessions"].isna().sum() == 1
    assert good.graduates["students"].sum() == 370
    assert good.communes["merged_into_code"].isna().sum() == 1
    assert list(good.graduates.index) == list(range(len(good.graduates)))
    assert good.years == [2019, 2020]
    assert good.files["schools"] == GOOD / "schools.csv"
    assert good.synthetic is False
    assert good.report.ok and good.table("graduates") is good.graduates
    with pytest.raises(KeyError, match="not a table"):
        good.table("pupils")


def test_cohort_data_is_frozen(good):
    with pytest.raises(AttributeError):
        good.schools = good.schools  # type: ignore[misc]


def test_bad_folder_raises_with_the_full_report():
    with pytest.raises(CohortValidationError) as info:
        load_cohort(BAD, years=range(2018, 2021))
    err = info.value
    assert err.report.n_errors == 53
    assert str(err) == err.report.format()
    assert "line 12, column level, value 'THCX'" in str(err)


def test_years_outside_the_cycle_fail_loading():
    with pytest.raises(CohortValidationError, match=r"review cycle \(2020-2025\)"):
        load_cohort(GOOD, years=range(2020, 2026))


def test_parquet_folder_loads_like_csv(tmp_path, good):
    folder = tmp_path / "pq"
    folder.mkdir()
    for name in ("schools", "communes", "graduates", "counseling", "students"):
        raw = pd.read_csv(GOOD / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""],
                          encoding="utf-8-sig")
        typed = good.table(name).copy()
        if name == "students":  # a Parquet file in its own types: ints, bools, categorical text
            typed["level"] = typed["level"].astype("category")
            typed["year"] = typed["year"].astype("int32")
            typed["poor_household"] = typed["poor_household"].astype("boolean")  # nullable types, no gaps
            typed["sex"] = typed["sex"].astype("category")
            typed.to_parquet(folder / f"{name}.parquet", index=False)
        elif name == "graduates":
            typed.astype({"students": "Int64", "year": "float64"}).to_parquet(folder / f"{name}.parquet", index=False)
        else:  # or all text, as a converter from Excel may write it
            raw.to_parquet(folder / f"{name}.parquet", index=False)
    loaded = load_cohort(folder, years=range(2019, 2021))
    assert loaded.files["students"].suffix == ".parquet"
    for name in ("schools", "communes", "graduates", "counseling", "students"):
        pd.testing.assert_frame_equal(loaded.table(name), good.table(name), check_dtype=True, obj=name)


def test_mixed_csv_and_parquet_folder(tmp_path, good):
    folder = tmp_path / "mixed"
    shutil.copytree(GOOD, folder)
    good.graduates.to_parquet(folder / "graduates.parquet", index=False)
    (folder / "graduates.csv").unlink()
    loaded = load_cohort(folder)
    pd.testing.assert_frame_equal(loaded.graduates, good.graduates)


def test_read_table_keeps_text_and_file_positions(tmp_path):
    (tmp_path / "schools.csv").write_bytes(
        "\ufeffschool_id , school_name,levels,\n 007 ,Trường A,THCS,\n\n,,,\n008,  ,THPT,\n".encode("utf-8"))
    df, path = read_table(tmp_path, "schools")
    assert path == tmp_path / "schools.csv"
    assert list(df.columns) == ["school_id", "school_name", "levels"]  # trimmed, BOM gone, empty trailing column dropped
    assert list(df.index) == [0, 3]  # blank lines skipped but counted: rows sit on lines 2 and 5
    assert df["school_id"].tolist() == ["007", "008"] and df["school_id"].dtype == STR
    assert pd.isna(df.loc[3, "school_name"])  # spaces only = empty


def test_read_table_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="schools"):
        read_table(tmp_path, "schools")
    (tmp_path / "schools.csv").write_text("a\n1\n")
    (tmp_path / "schools.parquet").write_text("x")
    with pytest.raises(TableReadError, match="schools.csv.*both"):
        read_table(tmp_path, "schools")
    (tmp_path / "schools.csv").unlink()
    with pytest.raises(TableReadError, match="schools.parquet: pyarrow could not read it"):
        read_table(tmp_path, "schools")


def test_synthetic_flag(tmp_path):
    assert not is_synthetic(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps({"synthetic": False}))
    assert not is_synthetic(tmp_path)
    (tmp_path / "truth.json").write_text(json.dumps({"synthetic": True}))
    assert is_synthetic(tmp_path)
    (tmp_path / "truth.json").write_text("not json")
    assert not is_synthetic(tmp_path)


def test_sample_loads_typed_and_marked_synthetic(sample_cohort):
    c = sample_cohort
    assert c.synthetic is True
    assert c.report.ok and c.report.notes == []
    assert c.students is not None and c.labour_demand is not None and c.vocational_supply is not None
    assert c.graduates["students"].dtype == np.dtype("int64") and c.graduates["year"].dtype == np.dtype("int64")
    assert c.students["counseled"].dtype == np.dtype(bool)
    assert c.communes["khmer_share"].dtype == np.dtype("float64")
    assert int(c.graduates["students"].sum()) == len(c.students)  # microdata agree with graduates
