"""The review end to end: determinism, privacy of the bundle, and another district's data."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from evaluation.evidence import CONTRACT_TABLE_IDS
from evaluation.params import load_params
from evaluation.paths import PARAMS_DIR
from evaluation.runner import run_review
from evaluation.sample import write_sample


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "evidence").glob("*.csv"))}


def test_two_runs_give_byte_identical_evidence(sample_bundle, sample_dir, tmp_path):
    out = tmp_path / "again"
    params = load_params(PARAMS_DIR / "cang_long_2018_2025.yaml", data=str(sample_dir), out=str(out))
    assert run_review(params, progress=False, report=False) == 0
    first, second = _digests(sample_bundle), _digests(out)
    assert set(first) >= {f"{t}.csv" for t in CONTRACT_TABLE_IDS} | {"findings.csv"}
    assert first == second


def test_no_student_key_leaves_the_toolkit(sample_bundle, sample_dir):
    """No file of the bundle holds a student key (the sample's students.csv has 55,000 of them)."""
    keys = set(pd.read_csv(sample_dir / "students.csv", usecols=["student_key"])["student_key"])
    assert len(keys) > 1000
    sample_keys = sorted(keys)[:: max(1, len(keys) // 300)]
    for path in sample_bundle.rglob("*"):
        if path.is_file() and path.suffix in {".csv", ".json", ".ipynb", ".html"}:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "student_key" not in text, path
            leaked = [k for k in sample_keys if k in text]
            assert not leaked, f"{path} contains student keys {leaked[:3]}"


def test_the_summary_states_findings_from_the_numbers(sample_bundle):
    findings = pd.read_csv(sample_bundle / "evidence" / "findings.csv")
    uptake = pd.read_csv(sample_bundle / "evidence" / "uptake_by_year.csv")
    last = uptake[(uptake["level"] == "THCS") & (uptake["year"] == uptake["year"].max())].iloc[0]
    sentence = findings[(findings["topic"] == "uptake") & (findings["level"] == "THCS")]["sentence_en"].iloc[0]
    assert f"{last['rate'] * 100:.1f} % ({last['year']})" in sentence
    html = next((sample_bundle / "report").glob("*.html")).read_text(encoding="utf-8")
    assert html.index('data-table-id="findings"') < html.index('data-table-id="uptake_by_year"')


def _other_district(src: Path, dst: Path) -> Path:
    """Another district's contract-valid folder: other communes, schools, years; no optional
    labour tables, no 2025 crosswalk, no truth.json (so not marked synthetic)."""
    read = lambda name: pd.read_csv(src / f"{name}.csv", dtype=str, keep_default_na=False)  # noqa: E731
    communes = read("communes").drop(columns=["merged_into_code", "merged_into_name"])
    code = {c: f"{31000 + i}" for i, c in enumerate(communes["commune_code"])}
    communes["commune_code"] = communes["commune_code"].map(code)
    communes["commune_name"] = [f"Xã Thử Nghiệm {i + 1}" for i in range(len(communes))]
    communes["district_name"], communes["province_name"] = "Huyện Trà Cú", "Tỉnh Vĩnh Long"
    schools = read("schools")
    sid = {s: f"TC{i:03d}" for i, s in enumerate(schools["school_id"])}
    schools["school_id"] = schools["school_id"].map(sid)
    schools["commune_code"] = schools["commune_code"].map(code)
    dst.mkdir(parents=True)
    communes.to_csv(dst / "communes.csv", index=False)
    schools.to_csv(dst / "schools.csv", index=False)
    for name in ("graduates", "counseling", "students"):
        t = read(name)
        t["school_id"] = t["school_id"].map(sid)
        t["year"] = (t["year"].astype(int) + 1).astype(str)  # cohorts 2019-2026
        if "residence_commune_code" in t.columns:
            t["residence_commune_code"] = t["residence_commune_code"].map(code)
        t.to_csv(dst / f"{name}.csv", index=False)
    return dst


def test_another_district_runs_with_no_code_change(tmp_path):
    other = _other_district(write_sample(tmp_path / "src", seed=11), tmp_path / "tra_cu")
    out = tmp_path / "review"
    params = load_params(PARAMS_DIR / "cang_long_2018_2025.yaml", data=str(other), out=str(out),
                         cycle="tra_cu_2019_2026", district="Huyện Trà Cú", province="Tỉnh Vĩnh Long",
                         year_start=2019, year_end=2026, lang="en")
    assert run_review(params, progress=False) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    status = {n["notebook"]: n["status"] for n in manifest["notebooks"]}
    # no labour tables: the labour notebook's sections are skipped with a note, not an error
    assert status.pop("07_labour_and_network.ipynb") in {"ok", "skipped"}
    assert not (out / "evidence" / "labour_alignment.csv").exists()
    assert set(status.values()) == {"ok"}
    by_commune = pd.read_csv(out / "evidence" / "uptake_by_commune.csv", dtype={"commune_code": str})
    assert set(by_commune["commune_code"]) <= {f"{31000 + i}" for i in range(14)}
    by_year = pd.read_csv(out / "evidence" / "uptake_by_year.csv")
    assert sorted(by_year["year"].unique()) == list(range(2019, 2027))
    assert by_year.loc[by_year["year"] == 2026, "target"].isna().all()  # the national scheme ends in 2025
    html = (out / "report" / "tra_cu_2019_2026_en.html").read_text(encoding="utf-8")
    assert "Huyện Trà Cú" in html and "SYNTHETIC" not in html
