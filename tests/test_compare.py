"""Cross-district comparison of evidence bundles: stacking, intervals, ranks, figures, errors.

Bundles are made here with the library's evidence builders from the hand-made frames of
``tests/evidence_fixtures.py``, each district with a planted effect and uptake.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from PIL import Image

import evidence_fixtures as fx
from evaluation import evidence as ev
from evaluation.cli import main
from evaluation.compare import (CompareError, compare_bundles, effect_by_district, find_bundles, load_bundle,
                                stack_tables, uptake_by_district, wilson_interval)

#: cycle -> (district, recommended THCS effect in pp, extra vocational graduates per year)
DISTRICTS = {"a_2018_2025": ("Huyện A", 6.0, 0), "b_2018_2025": ("Huyện B", 2.0, 40),
             "c_2018_2025": ("Huyện C", 4.0, -30)}


def make_bundle(folder: Path, cycle: str, district: str, effect_pp: float, extra_voc: int) -> Path:
    up = fx.uptake_by_year_frame()
    up["vocational"] = up["vocational"] + extra_voc
    up["rate"] = up["vocational"] / up["graduates"]
    cs = pd.DataFrame({"estimate_pp": [effect_pp], "std_error": [1.0], "ci_low": [effect_pp - 1.96],
                       "ci_high": [effect_pp + 1.96], "p_value": [0.01], "comparison_group": ["notyet"]})
    effects = [("THCS", "twfe", fx.twfe_result(), 20, 160), ("THCS", "callaway_santanna", cs, 20, 160)]
    tables = [ev.uptake_by_year_table(up, min_cell=5, notebook="02.ipynb"),
              ev.coverage_by_year_table(fx.coverage_by_year_frame(), notebook="03.ipynb"),
              ev.effect_overall_table(effects, {"THCS": "callaway_santanna"}, {"THCS": "staggered adoption"},
                                      notebook="05.ipynb")]
    for t in tables:
        ev.write_table(t, folder)
    ev.build_index(folder)
    manifest = {"cycle": cycle, "parameters": {"district": district, "province": "Tỉnh T", "year_start": 2023,
                                               "year_end": 2025, "min_cell": 5, "unknown_in_denominator": True},
                "code_version": {"git_commit": "abc"}, "finished": "2025-10-01T00:00:00+07:00"}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("batch")
    for cycle, (district, eff, extra) in DISTRICTS.items():
        make_bundle(out / cycle, cycle, district, eff, extra)
    (out / "failed-runs" / "x-1").mkdir(parents=True)  # a batch's kept failures are not bundles
    (out / "batch-logs").mkdir()
    return out


def test_wilson_interval_matches_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    k, n = np.array([0, 3, 120, 499, 500]), np.array([10, 7, 400, 500, 500])
    lo, hi = wilson_interval(k, n)
    ref_lo, ref_hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert_allclose(lo, ref_lo, atol=1e-12)
    assert_allclose(hi, ref_hi, atol=1e-12)
    lo0, hi0 = wilson_interval([1, 2], [0, np.nan])
    assert np.isnan(lo0).all() and np.isnan(hi0).all()


def test_folder_of_bundles_is_expanded(batch_out):
    found = find_bundles([batch_out])
    assert [p.name for p in found] == sorted(DISTRICTS)
    assert find_bundles([batch_out / "a_2018_2025", batch_out]) == found, "no bundle twice"


def test_tables_by_district_with_intervals_and_ranks(batch_out):
    bundles = [load_bundle(p) for p in find_bundles([batch_out])]
    stacked = stack_tables(bundles)
    assert set(stacked) == {"uptake_by_year", "coverage_by_year", "effect_overall"}
    assert list(stacked["effect_overall"].columns[:3]) == ["cycle", "district", "province"]
    assert len(stacked["effect_overall"]) == 3 * 2

    eff = effect_by_district(stacked).set_index("cycle")
    assert (eff["estimator"] == "callaway_santanna").all() and len(eff) == 3
    for cycle, (district, effect, _) in DISTRICTS.items():
        assert eff.loc[cycle, "district"] == district
        assert_allclose(eff.loc[cycle, ["estimate_pp", "ci_low", "ci_high"]].astype(float),
                        [effect, effect - 1.96, effect + 1.96], atol=1e-9)
    assert eff["rank"].to_dict() == {"a_2018_2025": 1, "c_2018_2025": 2, "b_2018_2025": 3}
    assert eff["excludes_zero"].all()

    up = uptake_by_district(stacked)
    assert len(up) == 3 * 6
    row = up[(up["cycle"] == "b_2018_2025") & (up["level"] == "THCS") & (up["year"] == 2023)].iloc[0]
    assert (row["graduates"], row["vocational"]) == (400, 160)
    assert_allclose(row["rate"], 0.4)
    lo, hi = wilson_interval([160], [400])
    assert_allclose([row["rate_ci_low"], row["rate_ci_high"]], [lo[0], hi[0]])
    assert (up["rate_ci_low"] <= up["rate"]).all() and (up["rate"] <= up["rate_ci_high"]).all()


def test_compare_writes_tables_and_ranked_figures(batch_out, tmp_path):
    out = compare_bundles([batch_out], out=tmp_path / "cmp", lang="vi")
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["bundles.csv", "coverage_by_district.csv", "effect_by_district.csv", "figures/effect_ranked.png",
                     "figures/uptake_ranked.png", "stacked/coverage_by_year.csv", "stacked/effect_overall.csv",
                     "stacked/uptake_by_year.csv", "uptake_by_district.csv"]
    eff = pd.read_csv(out / "effect_by_district.csv", dtype=str, keep_default_na=False)
    assert list(eff["district"]) == ["Huyện A", "Huyện C", "Huyện B"], "ranked, largest effect first"
    assert set(eff["excludes_zero"]) == {"true"}, "booleans written as in the bundles"
    bundles = pd.read_csv(out / "bundles.csv")
    assert list(bundles["cycle"]) == sorted(DISTRICTS) and (bundles["tables"] == 3).all()
    cov = pd.read_csv(out / "coverage_by_district.csv")
    assert len(cov) == 3 * len(fx.coverage_by_year_frame())
    img = Image.open(out / "figures" / "effect_ranked.png")
    assert "Tác động" in img.info["Title"] and img.size[0] > 500


def test_errors_name_the_folder(batch_out, tmp_path):
    with pytest.raises(CompareError, match="not an evidence bundle"):
        find_bundles([tmp_path])
    with pytest.raises(CompareError, match="no such folder"):
        find_bundles([tmp_path / "nope"])
    twin = make_bundle(tmp_path / "twin", "a_2018_2025", "Huyện A", 1.0, 0)
    with pytest.raises(CompareError, match="cycle 'a_2018_2025' appears twice"):
        stack_tables([load_bundle(batch_out / "a_2018_2025"), load_bundle(twin)])


def test_cli_compare(batch_out, tmp_path, capsys):
    assert main(["compare", str(batch_out), "--out", str(tmp_path / "c")]) == 0
    assert "of 3 bundle(s)" in capsys.readouterr().out
    assert (tmp_path / "c" / "effect_by_district.csv").is_file()
    assert main(["compare", str(tmp_path / "empty_missing"), "--out", str(tmp_path / "d")]) == 1
    assert "no such folder" in capsys.readouterr().err


# --------------------------------------------------------------------------- since the last review
def _cycle_bundle(folder, cycle, *, last_year, cs_shift=0.0, district="Huyện Càng Long"):
    import json

    import evidence_fixtures as fx
    from evaluation import evidence as ev

    up = fx.uptake_by_year_frame()
    cov = fx.coverage_by_year_frame()
    results = []
    for lvl, est, obj, n_u, n_o in fx.effect_results():
        if est == "callaway_santanna":
            obj = obj.assign(estimate_pp=obj["estimate_pp"] + cs_shift, ci_low=obj["ci_low"] + cs_shift,
                             ci_high=obj["ci_high"] + cs_shift)
        results.append((lvl, est, obj, n_u, n_o))
    tables = [ev.uptake_by_year_table(up[up["year"] <= last_year], min_cell=5),
              ev.coverage_by_year_table(cov[cov["year"] <= last_year]),
              ev.effect_overall_table(results, {"THCS": "callaway_santanna", "THPT": "callaway_santanna"},
                                      {"THCS": "staggered adoption", "THPT": "staggered adoption"}),
              ev.equity_gaps_table(fx.equity_gaps_frame())]
    for t in tables:
        ev.write_table(t, folder)
    ev.build_index(folder)
    (folder / "manifest.json").write_text(json.dumps({"cycle": cycle, "parameters": {"district": district}}),
                                          encoding="utf-8")
    return folder


def test_since_the_last_review_gives_the_change_in_every_headline_indicator(tmp_path):
    from evaluation.compare import CompareError, since_last_review, since_last_review_text

    prev = _cycle_bundle(tmp_path / "mid", "cang_long_2018_2024", last_year=2024, cs_shift=-4.0)
    cur = _cycle_bundle(tmp_path / "full", "cang_long_2018_2025", last_year=2025)
    d = since_last_review(prev, cur)
    r = d[(d["indicator"] == "uptake_rate") & (d["level"] == "THCS")].iloc[0]
    assert (r["previous_year"], r["current_year"]) == (2024, 2025)
    assert r["previous_value"] == pytest.approx(140 / 410) and r["current_value"] == pytest.approx(160 / 420)
    assert r["change"] == pytest.approx((160 / 420 - 140 / 410) * 100)
    e = d[(d["indicator"] == "effect_pp") & (d["level"] == "THCS")].iloc[0]
    assert (e["previous_value"], e["current_value"], e["change"]) == pytest.approx((2.0, 6.0, 4.0))
    assert e["intervals_overlap"] is True  # 2 ± 2.9 and 6 ± 2.9 overlap
    c = d[(d["indicator"] == "coverage_rate") & (d["level"] == "THPT")].iloc[0]
    assert c["change"] == pytest.approx((4 / 6 - 3 / 6) * 100)
    assert {"uptake_rate", "uptake_target_rate", "coverage_rate", "effect_pp", "gap_khmer_pp"} <= set(d["indicator"])
    vi = since_last_review_text(d, "vi")
    assert any(s.startswith("Tỷ lệ học nghề (mọi trình độ), năm cuối (THCS): 34,1 % ở kỳ trước, 38,1 % ở kỳ này "
                            "(+3,9 điểm %)") for s in vi)
    other = _cycle_bundle(tmp_path / "other", "tra_cu_2018_2025", last_year=2025, district="Huyện Trà Cú")
    with pytest.raises(CompareError, match="compares one district"):
        since_last_review(prev, other)


def test_since_command_prints_the_changes_and_writes_the_table(tmp_path, capsys):
    from evaluation.cli import main

    prev = _cycle_bundle(tmp_path / "mid", "cang_long_2018_2024", last_year=2024, cs_shift=-4.0)
    cur = _cycle_bundle(tmp_path / "full", "cang_long_2018_2025", last_year=2025)
    assert main(["since", str(prev), str(cur), "--lang", "en", "--out", str(tmp_path / "since.csv")]) == 0
    out = capsys.readouterr().out
    assert "Vocational uptake (any level), last year (THCS): 34.1 % at the last review, 38.1 % now (+3.9 pp)." in out
    assert (tmp_path / "since.csv").read_text(encoding="utf-8").startswith("indicator,label_vi,label_en,level")
    other = _cycle_bundle(tmp_path / "other", "x_2018_2025", last_year=2025, district="Huyện Trà Cú")
    assert main(["since", str(prev), str(other)]) == 1
    # an existing file is not replaced without --overwrite (it may be someone's work), a folder never
    mine = tmp_path / "notes.csv"
    mine.write_text("my notes\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["since", str(prev), str(cur), "--out", str(mine)]) == 2
    assert "notes.csv already exists; nothing was written" in capsys.readouterr().err
    assert mine.read_text(encoding="utf-8") == "my notes\n"
    assert main(["since", str(prev), str(cur), "--out", str(tmp_path), "--overwrite"]) == 2
    assert main(["since", str(prev), str(cur), "--out", str(mine), "--overwrite"]) == 0
    assert mine.read_text(encoding="utf-8").startswith("indicator,")
