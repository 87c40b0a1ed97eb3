"""National synthetic cohort and its DuckDB aggregation.

A small national folder (scale 3: three districts in two provinces, about 170,000 graduates) is
enough to check the hierarchy, that the microdata is write_sample's (byte for byte), that the
folder meets the data contract, and the aggregation against pandas on the same rows.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.national import national_indicators, write_national
from evaluation.sample import write_sample


@pytest.fixture(scope="module")
def national(tmp_path_factory) -> Path:
    return write_national(tmp_path_factory.mktemp("nat") / "national", seed=11, scale=3, districts_per_province=2)


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_hierarchy_province_district_commune_school(national):
    communes = pd.read_csv(national / "communes.csv", dtype=str, keep_default_na=False)
    tree = communes.groupby(["province_code", "district_code"]).size()
    assert tree.to_dict() == {("P00", "D000"): 14, ("P01", "D001"): 14, ("P01", "D002"): 14}
    assert set(communes.loc[communes["district_code"] == "D000", "district_name"]) == {"Huyện Càng Long"}
    assert set(communes.loc[communes["province_code"] == "P01", "province_name"]) == {"Tỉnh mô phỏng 01"}
    assert communes.groupby("district_code")["district_name"].nunique().eq(1).all()
    schools = pd.read_csv(national / "schools.csv", dtype=str)
    assert schools["commune_code"].isin(communes["commune_code"]).all()
    truth = json.loads((national / "truth.json").read_text(encoding="utf-8"))
    assert truth["national"]["provinces"] == 2 and truth["national"]["districts"] == 3
    assert (national / "students.parquet").is_file() and (national / "graduates.parquet").is_file()


def test_same_draws_as_the_sample_generator(national, tmp_path):
    plain = write_sample(tmp_path / "plain", seed=11, scale=3, table_format="parquet")
    for name in ("students.parquet", "graduates.parquet", "schools.csv", "counseling.csv"):
        assert sha(national / name) == sha(plain / name), f"{name} differs from write_sample's"


def test_national_folder_meets_the_contract(national):
    from evaluation.data import load_cohort

    cohort = load_cohort(national)
    assert {"district_code", "province_code"} <= set(cohort.communes.columns)
    assert cohort.students is not None and len(cohort.students) > 100_000


def test_aggregation_equals_pandas_on_the_microdata(national):
    got = national_indicators(national)
    st = pd.read_parquet(national / "students.parquet", columns=["school_id", "year", "level", "destination"])
    schools = pd.read_csv(national / "schools.csv", dtype=str)
    communes = pd.read_csv(national / "communes.csv", dtype=str)
    geo = schools.merge(communes, on="commune_code")[["school_id", "district_code"]]
    st = st.merge(geo, on="school_id")
    st["voc"] = st["destination"].astype(str).str.startswith("voc_")
    st["unk"] = st["destination"].astype(str) == "unknown"
    ref = st.groupby(["district_code", "level", "year"]).agg(graduates=("voc", "size"), vocational=("voc", "sum"),
                                                              unknown=("unk", "sum"), schools=("school_id", "nunique"))
    ref = ref.reset_index()
    couns = pd.read_csv(national / "counseling.csv", dtype={"school_id": str})
    cells = st[["school_id", "district_code", "level", "year"]].drop_duplicates().merge(
        couns[["school_id", "year", "trained_counselors"]], on=["school_id", "year"], how="left")
    cells["covered"] = cells["trained_counselors"] >= 1
    cells["missing"] = cells["trained_counselors"].isna()
    cov = cells.groupby(["district_code", "level", "year"])[["covered", "missing"]].sum().reset_index()
    ref = ref.merge(cov, on=["district_code", "level", "year"])
    got = got.sort_values(["district_code", "level", "year"]).reset_index(drop=True)
    ref = ref.sort_values(["district_code", "level", "year"]).reset_index(drop=True)
    assert len(got) == len(ref) == 3 * 2 * 8
    for c in ("graduates", "vocational", "unknown", "schools", "covered", "missing"):
        assert got[c].tolist() == ref[c].astype(int).tolist(), c
    assert_allclose(got["rate"], ref["vocational"] / ref["graduates"])
    assert_allclose(got["coverage_rate"], ref["covered"] / (ref["schools"] - ref["missing"]))
    assert got["missing"].sum() > 0, "the sample's planted missing counseling rows are counted"


def test_graduates_table_and_province_level_agree(national):
    by_students = national_indicators(national)
    by_graduates = national_indicators(national, source="graduates")
    pd.testing.assert_frame_equal(by_students, by_graduates)
    prov = national_indicators(national, by="province")
    assert "district_code" not in prov.columns and set(prov["province_code"]) == {"P00", "P01"}
    summed = by_students.groupby(["province_code", "level", "year"])[["graduates", "vocational", "schools"]].sum()
    np.testing.assert_array_equal(prov.set_index(["province_code", "level", "year"])[summed.columns].to_numpy(),
                                  summed.to_numpy())


def test_bad_arguments(national, tmp_path):
    with pytest.raises(ValueError, match="by 'commune'"):
        national_indicators(national, by="commune")
    with pytest.raises(FileNotFoundError, match="table graduates not found"):
        national_indicators(tmp_path)
    with pytest.raises(ValueError, match="districts_per_province 0"):
        write_national(tmp_path / "x", scale=1, districts_per_province=0)
