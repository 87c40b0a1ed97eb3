"""The review's sections as library functions: in process, on the sample and on other districts.

* golden: ``evidence_tables`` on the sample reproduces the saved evidence of the review
  (``tests/data/golden_sample``) to 1e-9;
* ``evidence_tables`` holds exactly what the bundle's CSVs hold for the same inputs;
* every section runs in process on districts shaped unlike the sample, and writes nothing.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evaluation import sections
from evaluation.data import load_cohort
from evaluation.evidence import EvidenceTable, frame_from_csv_bytes, read_table
from evaluation.params import DEFAULT_PARAMS_FILE, load_params
from evaluation.sample import write_sample

GOLDEN = Path(__file__).parent / "data" / "golden_sample"


def _golden() -> dict[str, pd.DataFrame]:
    index = json.loads((GOLDEN / "index.json").read_text(encoding="utf-8"))
    return {e["id"]: frame_from_csv_bytes((GOLDEN / f"{e['id']}.csv").read_bytes(), e["columns"]) for e in index}


def assert_tables_equal(got: dict[str, pd.DataFrame], want: dict[str, pd.DataFrame], *, rtol: float) -> None:
    assert sorted(got) == sorted(want)
    for tid, w in want.items():
        g = got[tid]
        assert list(g.columns) == list(w.columns), tid
        assert len(g) == len(w), tid
        for c in w.columns:
            if pd.api.types.is_float_dtype(w[c]):
                np.testing.assert_allclose(g[c].to_numpy(float), w[c].to_numpy(float), rtol=rtol, atol=1e-12,
                                           equal_nan=True, err_msg=f"{tid}.{c}")
            else:
                assert g[c].astype(object).where(g[c].notna(), None).tolist() == \
                    w[c].astype(object).where(w[c].notna(), None).tolist(), f"{tid}.{c}"


@pytest.fixture(scope="module")
def sample_tables(sample_dir):
    return sections.evidence_tables(sample_dir)


def test_evidence_tables_reproduce_the_golden_bundle(sample_tables):
    assert_tables_equal(sample_tables, _golden(), rtol=1e-9)


def test_the_golden_comparison_can_fail(sample_tables):
    bad = {k: v.copy() for k, v in sample_tables.items()}
    bad["effect_overall"].loc[0, "estimate_pp"] += 1e-6
    with pytest.raises(AssertionError):
        assert_tables_equal(bad, _golden(), rtol=1e-9)


def test_evidence_tables_equal_the_bundle_csvs(sample_bundle, sample_tables):
    index = json.loads((sample_bundle / "evidence" / "index.json").read_text(encoding="utf-8"))
    from_bundle = {e["id"]: read_table(sample_bundle, e) for e in index}
    assert_tables_equal(sample_tables, from_bundle, rtol=0)


def test_overrides_and_a_loaded_cohort(sample_dir, sample_cohort):
    params = load_params(DEFAULT_PARAMS_FILE, data=str(sample_dir))
    small = sections.evidence_tables(sample_cohort, params, min_cell=200, bootstrap_reps=0)
    by_commune = small["uptake_by_commune"]
    assert by_commune["suppressed"].any()
    assert by_commune.loc[by_commune["suppressed"].astype(bool), "rate"].isna().all()
    with pytest.raises(Exception, match="min_cel"):
        sections.evidence_tables(sample_cohort, params, min_cel=10)


def test_every_section_returns_tables_and_figures_and_writes_nothing(tmp_path, sample_cohort, sample_dir):
    params = load_params(DEFAULT_PARAMS_FILE, data=str(sample_dir), out=str(tmp_path / "out"), bootstrap_reps=9)
    before = sorted(p.name for p in sample_dir.iterdir())
    review = sections.Review(sample_cohort, params)
    made = {}
    for name, section in sections.SECTIONS.items():
        result = section(sample_cohort, params, review=review, figures=True)
        assert isinstance(result, sections.SectionResult)
        for tid, table in result.tables.items():
            assert isinstance(table, EvidenceTable) and sections.TABLE_SECTIONS[tid] == name
            made[tid] = table
    assert set(made) | {"findings"} == set(sections.TABLE_SECTIONS)
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in sample_dir.iterdir()) == before


@pytest.mark.parametrize("seed,scale", [(3, 0.4), (17, 0.6)])
def test_sections_on_other_districts(tmp_path, seed, scale):
    folder = write_sample(tmp_path / "cohort", seed=seed, scale=scale)
    tables = sections.evidence_tables(folder, bootstrap_reps=19)
    for tid in ("uptake_by_year", "coverage_by_year", "trend", "effect_overall", "event_study", "equity_gaps",
                "findings"):
        assert tid in tables and len(tables[tid]), tid
    rec = tables["effect_overall"]
    assert rec.groupby("level")["recommended"].sum().eq(1).all()
