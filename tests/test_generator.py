"""The district generator: every family writes a valid cohort folder whose knobs show in the data."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from evaluation.data import load_cohort
from evaluation.effects.did import staggered_did
from evaluation.generator import FAMILIES, DistrictSpec, family_spec, generate_tables, write_district
from evaluation.panel import school_year_panel
from evaluation.validation import validate_folder

YEARS = list(range(2018, 2026))


@pytest.fixture(scope="module")
def districts(tmp_path_factory):
    root = tmp_path_factory.mktemp("districts")
    return {fam: write_district(root / fam, family_spec(fam, 101)) for fam in FAMILIES}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_folder_passes_validation(districts, family):
    report = validate_folder(districts[family], years=YEARS)
    assert report.ok, report.format()


def _tables(districts, family):
    return {n: pd.read_csv(districts[family] / f"{n}.csv") for n in ("schools", "graduates", "counseling")}


def test_knobs_show_in_the_data(districts):
    t = _tables(districts, "one_thpt")
    assert (t["schools"]["levels"] == "THPT").sum() == 1
    t = _tables(districts, "no_never_covered")
    covered = t["counseling"].groupby("school_id")["trained_counselors"].max()
    assert (covered >= 1).all()
    t = _tables(districts, "all_at_once")
    c = t["counseling"]
    firsts = c[c["trained_counselors"] >= 1].groupby("school_id")["year"].min()
    assert firsts.nunique() == 1 and len(firsts) == c["school_id"].nunique()
    t = _tables(districts, "none_covered")
    assert (t["counseling"]["trained_counselors"] == 0).all()
    t = _tables(districts, "unbalanced")
    years_per = t["graduates"].groupby(["school_id", "level"])["year"].nunique()
    assert (years_per < len(YEARS)).sum() >= 3
    truth = json.loads((districts["zero_year"] / "truth.json").read_text())
    g = _tables(districts, "zero_year")["graduates"]
    zy = truth["spec"]["zero_year"]
    assert g.loc[g["year"] == zy, "students"].sum() == 0 and g.loc[g["year"] != zy, "students"].sum() > 0
    assert (g["year"] == zy).any()
    assert not (_tables(districts, "no_khmer")["graduates"]["ethnicity"] == "khmer").any()
    g = _tables(districts, "tiny_commune")["graduates"]
    assert g[g["school_id"] == "THCS900"].groupby("year")["students"].sum().mean() < 12
    assert (districts["labour"] / "labour_demand.csv").is_file()
    assert not (districts["baseline"] / "labour_demand.csv").exists()


def test_same_spec_same_bytes(tmp_path):
    spec = family_spec("random", 7)
    a = write_district(tmp_path / "a", spec)
    b = write_district(tmp_path / "b", spec)
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    assert family_spec("random", 8) != spec
    with pytest.raises(ValueError, match="family"):
        family_spec("nope", 1)
    with pytest.raises(ValueError, match="adoption"):
        DistrictSpec(adoption="sometimes")


def test_planted_effect_is_recovered(tmp_path):
    """A large district without extra noise: the Callaway-Sant'Anna simple ATT of THCS is within 3 standard
    errors of the generator's measured estimand (truth.json), and a district with twice the effect shows it."""
    spec = DistrictSpec(seed=3, n_thcs=60, n_thpt=3, size=1.0, n_never=(10, 1), effect_pp=3.0, effect_slope_pp=1.0)
    path = write_district(tmp_path / "big", spec)
    truth = json.loads((path / "truth.json").read_text())
    panel = school_year_panel(load_cohort(path), level="THCS")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = staggered_did(panel, outcome="rate", unit="school_id", time="year", group="first_covered",
                            control="notyet")
    est, se = 100 * float(res.params["ATT"]), 100 * float(res.std_errors["ATT"])
    want = truth["levels"]["THCS"]["measured_att_simple_pp"]
    assert 3.0 < want < 9.0
    assert abs(est - want) < 3 * se, (est, se, want)
    _, t0 = generate_tables(DistrictSpec(seed=3, n_thcs=60, n_thpt=3, effect_pp=0.0, effect_slope_pp=0.0))
    assert t0["levels"]["THCS"]["att_simple_pp"] == 0.0
