"""The synthetic sample: determinism, internal consistency, contract validity, planted answers."""
from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import sample as sample_mod
from evaluation.contract import DESTINATIONS, ETHNICITIES, SEXES
from evaluation.paths import REFERENCE_DIR, ROOT
from evaluation.sample import cs_simple_att_pp, effect_pp, write_sample

STUDENT_COLUMNS = ["student_key", "school_id", "year", "level", "sex", "ethnicity", "poor_household",
                   "residence_commune_code", "counseled", "destination"]


def _read(folder: Path, name: str) -> pd.DataFrame:
    csv, pq = folder / f"{name}.csv", folder / f"{name}.parquet"
    if pq.exists():
        return pd.read_parquet(pq)
    return pd.read_csv(csv, dtype={"commune_code": str, "residence_commune_code": str})


def _truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def _voc(dest: pd.Series) -> pd.Series:
    return dest.str.startswith("voc_")


# ------------------------------------------------------------------------------------------
# determinism
# ------------------------------------------------------------------------------------------
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, sample_dir):
    a = write_sample(tmp_path / "a", seed=2025)
    files = sorted(p.name for p in sample_dir.iterdir())
    assert files == sorted(p.name for p in a.iterdir())
    assert set(files) == {"schools.csv", "communes.csv", "graduates.csv", "counseling.csv", "students.csv",
                          "labour_demand.csv", "vocational_supply.csv", "truth.json", "README.md"}
    for name in files:
        assert (a / name).read_bytes() == (sample_dir / name).read_bytes(), name
    b = write_sample(tmp_path / "b", seed=7)
    for name in ("students.csv", "graduates.csv", "counseling.csv", "communes.csv", "labour_demand.csv",
                 "vocational_supply.csv", "truth.json"):
        assert (b / name).read_bytes() != (a / name).read_bytes(), name


def test_scaled_sample_is_parquet_deterministic_and_has_synthetic_communes(tmp_path):
    a = write_sample(tmp_path / "a", seed=11, scale=2)
    b = write_sample(tmp_path / "b", seed=11, scale=2)
    assert (a / "students.parquet").exists() and not (a / "students.csv").exists()
    for p in sorted(a.iterdir()):
        assert p.read_bytes() == (b / p.name).read_bytes(), p.name
    communes = _read(a, "communes")
    schools = _read(a, "schools")
    assert len(communes) == 28 and communes["commune_code"].str.fullmatch(r"S\d{6}").sum() == 14
    assert (schools["levels"] == "THCS").sum() == 60 and (schools["levels"] == "THPT").sum() == 12
    assert _truth(a)["scale"] == 2.0
    # rewriting the same folder at scale 1 swaps the Parquet tables for CSV (no stale twin is left)
    write_sample(a, seed=11, scale=1)
    assert (a / "students.csv").exists() and not (a / "students.parquet").exists()
    assert not (a / "graduates.parquet").exists()


def test_bad_scale_is_refused(tmp_path):
    with pytest.raises(ValueError, match="scale"):
        write_sample(tmp_path / "x", scale=0)


# ------------------------------------------------------------------------------------------
# internal consistency and the contract
# ------------------------------------------------------------------------------------------
def test_graduates_is_exactly_the_aggregate_of_students(sample_dir):
    st = _read(sample_dir, "students")
    gr = _read(sample_dir, "graduates")
    keys = ["school_id", "year", "level", "sex", "ethnicity", "destination"]
    agg = st.groupby(keys).size().rename("students").reset_index()
    merged = gr.merge(agg, on=keys, how="outer", suffixes=("_g", "_s"), indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["students_g"] == merged["students_s"]).all()
    assert (gr["students"] > 0).all()
    assert not gr.duplicated(keys).any()


def test_references_resolve_and_codes_are_valid(sample_dir):
    communes, schools = _read(sample_dir, "communes"), _read(sample_dir, "schools")
    gr, st, co = _read(sample_dir, "graduates"), _read(sample_dir, "students"), _read(sample_dir, "counseling")
    ld, vs = _read(sample_dir, "labour_demand"), _read(sample_dir, "vocational_supply")
    codes, ids = set(communes["commune_code"]), set(schools["school_id"])
    assert communes["commune_code"].is_unique and schools["school_id"].is_unique
    assert set(schools["commune_code"]) <= codes
    assert set(st["residence_commune_code"]) <= codes
    assert set(ld["commune_code"]) <= codes and set(vs["commune_code"]) <= codes
    assert set(gr["school_id"]) <= ids and set(st["school_id"]) <= ids and set(co["school_id"]) <= ids
    school_levels = schools.set_index("school_id")["levels"].str.split(",")
    for df in (gr, st):
        for level, allowed in DESTINATIONS.items():
            sub = df[df["level"] == level]
            assert set(sub["destination"]) <= set(allowed), level
        assert all(lv in school_levels[s] for s, lv in df[["school_id", "level"]].drop_duplicates().itertuples(index=False))
        assert set(df["sex"]) <= set(SEXES) and set(df["ethnicity"]) <= set(ETHNICITIES)
        assert df["year"].between(2018, 2025).all()
    assert set(ld["qualification"]) <= {"none", "elementary", "intermediate", "college", "university"}
    assert set(vs["level"]) <= {"elementary", "intermediate", "college"}
    assert ld["sector"].str.fullmatch(r"[A-U]").all()
    assert (vs["enrolled"] <= vs["places"]).all() and (vs["graduated"] <= vs["enrolled"]).all()
    assert (vs["employed_12m"] <= vs["graduated"]).all()
    assert (co["trained_counselors"] <= co["counselors"]).all() and co["counselors"].between(1, 3).all()


def test_school_counts_levels_and_names(sample_dir):
    schools = _read(sample_dir, "schools")
    assert (schools["levels"] == "THCS").sum() == 30 and (schools["levels"] == "THPT").sum() == 6
    dtnt = schools[schools["ethnic_boarding"]]
    assert len(dtnt) == 1 and dtnt["levels"].iat[0] == "THCS,THPT"
    assert schools["school_name"].str.startswith("Trường ").all()
    assert "Trường THCS Mỹ Cẩm" in set(schools["school_name"])


def test_real_communes_with_reference_names_and_merge(sample_dir):
    ref = pd.read_csv(REFERENCE_DIR / "communes_cang_long.csv", dtype=str)
    communes = _read(sample_dir, "communes")
    assert len(communes) == 14
    cols = ["commune_code", "commune_name", "district_name", "province_name", "merged_into_code", "merged_into_name"]
    got = communes[cols].sort_values("commune_code").reset_index(drop=True)
    want = ref[cols].sort_values("commune_code").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # synthetic Khmer shares: mean = reported district figure; disadvantaged = the Khmer-heavy ones
    assert communes["khmer_share"].mean() == pytest.approx(0.056, abs=0.0005)
    dis = communes[communes["disadvantaged"]]
    assert 2 <= len(dis) <= 4 and (dis["khmer_share"] >= 0.15).all()
    assert (communes.loc[~communes["disadvantaged"], "khmer_share"] < 0.15).all()


def test_students_are_pseudonymous(sample_dir):
    st = _read(sample_dir, "students")
    assert list(st.columns) == STUDENT_COLUMNS
    assert not [c for c in st.columns if re.search(r"name|ten|ho_ten|cccd|cmnd|national|passport|id_number|birth", c)]
    assert st["student_key"].str.fullmatch(r"S[0-9a-f]{16}").all()
    assert st["student_key"].is_unique


def test_counseling_consistent_with_students_and_adoption(sample_dir):
    st, co = _read(sample_dir, "students"), _read(sample_dir, "counseling")
    truth = _truth(sample_dir)
    counted = st.groupby(["school_id", "year"])["counseled"].sum().rename("n_counseled")
    grads = st.groupby(["school_id", "year"]).size().rename("graduates")
    m = co.join(counted, on=["school_id", "year"]).join(grads, on=["school_id", "year"])
    assert (m["students_counseled"] == m["n_counseled"]).all()
    first = m["school_id"].map({s: v["first_covered"] for s, v in truth["schools"].items()})
    covered = (first > 0) & (m["year"] >= first)
    assert ((m["trained_counselors"] >= 1) == covered).all()  # absorbing, from the adoption year on
    share = m["students_counseled"] / m["graduates"]
    assert share[~covered].mean() == pytest.approx(0.05, abs=0.015)
    assert share[covered].mean() == pytest.approx(0.5, abs=0.05)  # uniform 30-70 %, binomial draws
    assert share[covered].between(0.15, 0.85).all()
    # adoption design: DTNT first, 2 THCS in 2018, 5 THCS and 1 THPT never
    roles = pd.DataFrame(truth["schools"]).T
    assert roles.loc[roles["role"] == "dtnt", "first_covered"].eq(2019).all()
    thcs = roles[roles.index.str.startswith("THCS")]
    assert (thcs["first_covered"] == 2018).sum() == 2 and (thcs["first_covered"] == 0).sum() == 5
    thpt = roles[roles.index.str.startswith("THPT")]
    assert (thpt["first_covered"] == 0).sum() == 1
    assert set(roles.loc[roles["role"] == "staggered", "first_covered"]) <= set(range(2019, 2025))


def test_validator_reports_no_errors(sample_dir):
    if importlib.util.find_spec("evaluation.validation") is None:
        pytest.skip("evaluation.validation not written yet")
    from evaluation.validation import validate_folder

    report = validate_folder(sample_dir)
    assert report.ok, report.format()


# ------------------------------------------------------------------------------------------
# truth.json and the planted flaws
# ------------------------------------------------------------------------------------------
def test_truth_has_the_parameters_and_estimands(sample_dir):
    t = _truth(sample_dir)
    assert t["synthetic"] is True and t["seed"] == 2025 and t["scale"] == 1.0 and t["generator_version"]
    for level in ("THCS", "THPT"):
        lv = t["levels"][level]
        for key in ("base_rate", "trend_pp_per_year", "dip_pp", "effect_pp_by_event_time", "gaps",
                    "att_simple_pp", "att_simple_pp_unit_weighted", "att_simple_pp_graduate_weighted",
                    "att_dynamic_pp", "district_trend_pp_per_year", "measured"):
            assert key in lv, (level, key)
        assert set(lv["gaps"]) >= {"khmer_pp", "female_pp", "poor_pp"}
        assert lv["effect_pp_by_event_time"]["0"] == 2.0 and lv["effect_pp_by_event_time"]["5"] == 7.0
        assert lv["effect_pp_by_event_time"]["6"] == 7.0  # capped at e = 5
        assert lv["att_dynamic_pp"]["-1"] == 0.0  # no anticipation
        # measured with unknown in the denominator = 0.97 x true
        assert lv["measured"]["att_simple_pp"] == pytest.approx(0.97 * lv["att_simple_pp"], abs=1e-5)
        # the district trend includes the growing counseling effect, so it exceeds the secular trend
        assert lv["district_trend_pp_per_year"] > lv["trend_pp_per_year"]
    assert t["levels"]["THCS"]["base_rate"] == 0.22 and t["levels"]["THPT"]["base_rate"] == 0.28
    assert {"missing_counseling", "high_unknown", "stops_reporting"} <= set(t["flaws"])
    assert {"demand_totals", "supply_totals"} <= set(t["labour"])


def test_effect_rule_and_cs_simple_closed_form():
    assert effect_pp(np.array([-2, -1, 0, 1, 4, 5, 6, 9])).tolist() == [0, 0, 2, 3, 6, 7, 7, 7]
    # one unit adopting in 2019, years 2018-2025: cells e = 0..6 -> (2+3+4+5+6+7+7)/7
    assert cs_simple_att_pp(np.array([2019])) == pytest.approx(34 / 7)
    # never-treated and first-year units carry no weight; a 2024 group adds e = 0, 1 (2, 3)
    assert cs_simple_att_pp(np.array([0, 2018, 2019, 2024, 2024])) == pytest.approx((34 + 2 * (2 + 3)) / (7 + 2 * 2))


def test_truth_estimand_matches_the_adoption_in_the_data(sample_dir):
    """att_simple_pp recomputed from the counseling table (first year with a trained counselor)."""
    co, gr = _read(sample_dir, "counseling"), _read(sample_dir, "graduates")
    t = _truth(sample_dir)
    first = co[co["trained_counselors"] >= 1].groupby("school_id")["year"].min()
    for level in ("THCS", "THPT"):
        schools = gr.loc[gr["level"] == level, "school_id"].unique()
        g = np.array([first.get(s, 0) for s in schools])
        assert cs_simple_att_pp(g) == pytest.approx(t["levels"][level]["att_simple_pp"], abs=1e-5)


def test_planted_flaws_are_in_the_data(sample_dir):
    t = _truth(sample_dir)
    gr, co = _read(sample_dir, "graduates"), _read(sample_dir, "counseling")
    have_grads = set(gr[["school_id", "year"]].drop_duplicates().itertuples(index=False, name=None))
    have_rows = set(co[["school_id", "year"]].itertuples(index=False, name=None))
    missing = sorted(have_grads - have_rows)
    assert 3 <= len(missing) <= 4
    assert missing == sorted((f["school_id"], f["year"]) for f in t["flaws"]["missing_counseling"])
    assert not have_rows - have_grads
    for s, y in missing:  # never in a school's adoption year
        assert t["schools"][s]["first_covered"] != y
    # one school-year with about 25 % unknown; every other large cell far below
    cell = gr.groupby(["school_id", "level", "year"]).apply(
        lambda d: d.loc[d["destination"] == "unknown", "students"].sum() / d["students"].sum(), include_groups=False)
    (hu,) = t["flaws"]["high_unknown"]
    assert cell[(hu["school_id"], hu["level"], hu["year"])] == pytest.approx(0.25, abs=0.005)  # exact by design
    others = cell.drop((hu["school_id"], hu["level"], hu["year"]))
    big = gr.groupby(["school_id", "level", "year"])["students"].sum().loc[others.index] >= 90
    assert others[big].max() < 0.10
    assert gr.groupby("level").apply(lambda d: d.loc[d["destination"] == "unknown", "students"].sum()
                                     / d["students"].sum(), include_groups=False).between(0.02, 0.045).all()
    # one THCS school stops after 2023
    (stop,) = t["flaws"]["stops_reporting"]
    years = gr.loc[gr["school_id"] == stop["school_id"], "year"]
    assert years.max() == 2023 and years.min() == 2018
    assert co.loc[co["school_id"] == stop["school_id"], "year"].max() <= 2023
    last = gr.groupby("school_id")["year"].max()
    assert (last.drop(stop["school_id"]) == 2025).all()


def test_labour_tables_sum_to_planted_totals(sample_dir):
    t = _truth(sample_dir)["labour"]
    ld, vs = _read(sample_dir, "labour_demand"), _read(sample_dir, "vocational_supply")
    assert sorted(ld["survey_year"].unique()) == [2019, 2021, 2023, 2025]
    dem = ld.groupby(["survey_year", "trade", "qualification"])["workers_needed"].sum()
    want = pd.DataFrame(t["demand_totals"]).set_index(["survey_year", "trade", "qualification"])["workers_needed"]
    pd.testing.assert_series_equal(dem.sort_index(), want.sort_index(), check_dtype=False)
    sup = vs.groupby(["year", "trade", "level"])[["places", "enrolled", "graduated", "employed_12m"]].sum()
    want_s = pd.DataFrame(t["supply_totals"]).set_index(["year", "trade", "level"])
    pd.testing.assert_frame_equal(sup.sort_index(), want_s[sup.columns].sort_index(), check_dtype=False)
    assert "Công nghệ thông tin" in set(ld["trade"]) and 3 <= vs["institution_id"].nunique() <= 5


# ------------------------------------------------------------------------------------------
# the planted answer shows in the data
# ------------------------------------------------------------------------------------------
def _school_year_rates(folder: Path, level: str) -> pd.DataFrame:
    gr = _read(folder, "graduates")
    gr = gr[gr["level"] == level].assign(voc=lambda d: d["students"] * _voc(d["destination"]))
    sy = gr.groupby(["school_id", "year"])[["students", "voc"]].sum().reset_index()
    return sy.assign(rate=sy["voc"] / sy["students"])


def _ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ b
    s2 = resid @ resid / (len(y) - np.linalg.matrix_rank(X))
    return b, np.sqrt(np.diag(s2 * np.linalg.pinv(X.T @ X)))


@pytest.fixture(scope="module")
def scaled_dir(tmp_path_factory) -> Path:
    """A scale-4 sample (24 THPT schools): the shipped sample has only 7 THPT schools, too few
    for the THPT effect to show through binomial noise."""
    return write_sample(tmp_path_factory.mktemp("scaled") / "cohort", seed=2025, scale=4)


@pytest.mark.parametrize("level", ["THCS", "THPT"])
def test_event_study_recovers_the_planted_effect(sample_dir, scaled_dir, level):
    """School and year fixed effects with event-time dummies (never-treated and not-yet-treated
    schools as the comparison; schools covered from 2018 dropped). Effects are homogeneous
    across adoption groups, so this fully dynamic regression is unbiased for the measured
    effect 0.97 * effect(e). Tolerance: 4 standard errors (binomial noise of ~100-450
    graduates per school-year gives 1-5 pp per coefficient). THCS on the shipped sample,
    THPT on a scale-4 sample. Both fail when the effect is left out of the data (checked by
    hand: the pooled exposure slope is then ~0 against 0.97 pp with a standard error ~0.3)."""
    folder = sample_dir if level == "THCS" else scaled_dir
    t = _truth(folder)
    sy = _school_year_rates(folder, level)
    g = sy["school_id"].map({s: v["first_covered"] for s, v in t["schools"].items()})
    keep = (g != 2018).to_numpy()
    sy, g = sy[keep], g[keep]
    e = np.where(g > 0, sy["year"] - g, -99)
    ev = [k for k in range(-6, 7) if k != -1 and (e == k).any()]
    D = np.column_stack([(e == k) for k in ev]).astype(float)
    fe = np.column_stack([pd.get_dummies(sy["school_id"]).to_numpy(float),
                          pd.get_dummies(sy["year"], drop_first=True).to_numpy(float)])
    b, se = _ols(sy["rate"].to_numpy(), np.column_stack([D, fe]))
    want = t["levels"][level]["measured"]["att_dynamic_pp"]
    for i, k in enumerate(ev):
        assert abs(b[i] * 100 - want[str(k)]) < 4 * se[i] * 100, (k, b[i] * 100, want[str(k)], se[i] * 100)
    # pooled linear exposure: post*(a + c*min(e, 5)); true a = 2.0*0.97, c = 1.0*0.97
    post = (e >= 0).astype(float)
    X = np.column_stack([post, post * np.minimum(np.maximum(e, 0), 5), fe])
    b2, se2 = _ols(sy["rate"].to_numpy(), X)
    assert abs(b2[0] * 100 - 2.0 * 0.97) < 4 * se2[0] * 100
    assert abs(b2[1] * 100 - 1.0 * 0.97) < 4 * se2[1] * 100
    assert b2[0] + 5 * b2[1] > 0 and b2[1] > 0  # the data alone show a positive, growing effect


@pytest.mark.parametrize("level", ["THCS", "THPT"])
def test_district_trend_in_data_matches_truth(sample_dir, level):
    """Weighted regression of the yearly district uptake on (1, year, 2020-2021 dummy); the
    truth is the same regression on the expected rates. Tolerance 4 binomial standard errors."""
    gr = _read(sample_dir, "graduates")
    d = gr[gr["level"] == level]
    n = d.groupby("year")["students"].sum()
    v = d[_voc(d["destination"])].groupby("year")["students"].sum()
    r = (v / n).to_numpy()
    slope = sample_mod._trend_slope_pp(r, n.to_numpy().astype(float))
    yr = np.asarray(n.index, dtype=float)
    X = np.column_stack([np.ones_like(yr), yr - 2018, np.isin(yr, (2020, 2021))])
    W = n.to_numpy(float)
    A = np.linalg.inv((X.T * W) @ X) @ (X.T * W)
    se = float(np.sqrt((A[1] ** 2 * r * (1 - r) / W).sum()) * 100)
    want = _truth(sample_dir)["levels"][level]["measured"]["district_trend_pp_per_year"]
    assert abs(slope - want) < 4 * se, (slope, want, se)


# ------------------------------------------------------------------------------------------
# entry points
# ------------------------------------------------------------------------------------------
def test_cli_sample_command(tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.run([sys.executable, "-m", "evaluation", "sample", "--out", str(out), "--seed", "5"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "truth.json" in proc.stdout
    assert _truth(out)["seed"] == 5 and (out / "students.csv").exists()


def test_ensure_sample_generates_only_the_default_folder_once(tmp_path, monkeypatch, capsys):
    from evaluation.params import load_params

    default = tmp_path / "data" / "sample"
    monkeypatch.setattr(sample_mod, "SAMPLE_DIR", default)
    other = load_params(data=str(tmp_path / "elsewhere"))
    assert sample_mod.ensure_sample(other) is None and not (tmp_path / "elsewhere").exists()
    params = load_params(data=str(default), sample_seed=9)
    assert sample_mod.ensure_sample(params) == default.resolve()
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert _truth(default)["seed"] == 9
    before = (default / "truth.json").stat().st_mtime_ns
    assert sample_mod.ensure_sample(params) is None
    assert (default / "truth.json").stat().st_mtime_ns == before


@pytest.mark.parametrize("level", ["THCS", "THPT"])
def test_att_simple_matches_csdid_on_noise_free_panel(sample_dir, level):
    """truth's att_simple_pp is what the reference implementation computes: the Python port of
    R ``did`` (csdid, dev-only, not a dependency) on the noise-free school-year panel (school
    base rate + trend + effect(e)), not-yet-treated comparison, ``aggte(typec="simple")``."""
    pytest.importorskip("csdid")
    import contextlib
    import io
    import warnings

    from csdid.att_gt import ATTgt

    t = _truth(sample_dir)
    lv = t["levels"][level]
    stop = {f["school_id"] for f in t["flaws"]["stops_reporting"]}
    rows = []
    for key, base in t["school_base_rate"].items():
        s, lev = key.split("|")
        g = t["schools"][s]["first_covered"]
        if lev != level or s in stop or g == 2018:  # balanced panel; first-year adopters are dropped by did
            continue
        for y in range(2018, 2026):
            e = y - g if g > 0 else -1
            rows.append({"school": s, "year": y, "g": g,
                         "y": base + lv["trend_pp_per_year"] / 100 * (y - 2018) + float(effect_pp(e)) / 100})
    df = pd.DataFrame(rows)
    df["idn"] = pd.factorize(df["school"])[0] + 1
    out = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out):
        warnings.simplefilter("ignore")
        att = ATTgt(yname="y", gname="g", idname="idn", tname="year", data=df,
                    control_group="notyettreated").fit(est_method="reg")
        att.aggte(typec="simple")
    estimate = float(att.atte["overall_att"]) * 100
    assert estimate == pytest.approx(lv["att_simple_pp"], abs=1e-4)
