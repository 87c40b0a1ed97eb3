from __future__ import annotations

import pandas as pd
import pytest

from evaluation import contract
from evaluation.reference import (commune_crosswalk, label, labels, load_targets, shipped_targets,
                                  target_in_force)


def test_every_target_has_source_and_standing():
    t = shipped_targets()
    assert t["source"].notna().all()
    assert set(t["standing"]) <= {"verified", "reported", "assumed", "not found"}


@pytest.mark.parametrize("level,year,area,expected", [
    ("THCS", 2019, "general", 0.30), ("THCS", 2025, "general", 0.40),
    ("THCS", 2025, "disadvantaged", 0.30), ("THPT", 2020, "general", 0.40),
    ("THPT", 2024, "general", 0.45), ("THPT", 2023, "disadvantaged", 0.35),
])
def test_national_scheme_targets(level, year, area, expected):
    row = target_in_force(load_targets(["national_522"]), indicator="voc_uptake_target",
                          level=level, year=year, area_type=area)
    assert row["target"] == pytest.approx(expected)


def test_thpt_target_counts_college_only():
    row = target_in_force(shipped_targets(), indicator="voc_uptake_target", level="THPT", year=2025)
    assert row["counted_destinations"] == "voc_college"


def test_no_target_after_the_scheme_unless_given():
    t = load_targets(["national_522"])
    assert target_in_force(t, indicator="voc_uptake_target", level="THCS", year=2027) is None
    t2 = load_targets(["national_522"], overrides=[{"indicator": "voc_uptake_target", "level": "THCS",
                                                    "area_type": "general", "year_from": 2026,
                                                    "year_to": 2030, "target": 0.35}])
    row = target_in_force(t2, indicator="voc_uptake_target", level="THCS", year=2027)
    assert row["target"] == pytest.approx(0.35) and row["standing"] == "user"


def test_user_targets_file_overrides(tmp_path):
    f = tmp_path / "targets.csv"
    pd.DataFrame([{"indicator": "voc_uptake_target", "level": "THCS", "area_type": "general",
                   "year_from": 2021, "year_to": 2025, "target": 0.5,
                   "counted_destinations": "voc_intermediate"}]).to_csv(f, index=False)
    t = load_targets(None, targets_file=f)
    row = target_in_force(t, indicator="voc_uptake_target", level="THCS", year=2024)
    assert row["target"] == pytest.approx(0.5) and row["standing"] == "user"


def test_bad_target_value_names_row_and_column(tmp_path):
    f = tmp_path / "targets.csv"
    pd.DataFrame([{"indicator": "x", "level": "THCS", "area_type": "general", "year_from": 2021,
                   "year_to": 2025, "target": 40}]).to_csv(f, index=False)
    with pytest.raises(ValueError, match=r"row 2, column target, value 40"):
        load_targets(None, targets_file=f)


def test_every_code_has_both_labels():
    lab = labels()
    assert lab[["label_vi", "label_en"]].notna().all().all()
    for d in contract.ALL_DESTINATIONS:
        assert label("destination", d, "vi") != d and label("destination", d, "en") != d
    for lv in contract.LEVELS:
        assert label("level", lv, "en").startswith(("Lower", "Upper"))


def test_crosswalk_has_14_units_into_5_communes():
    cw = commune_crosswalk()
    assert len(cw) == 14 and cw["commune_code"].is_unique
    assert cw["merged_into_name"].nunique() == 5
    assert set(cw["merge_standing"]) == {"verified", "reported"}
