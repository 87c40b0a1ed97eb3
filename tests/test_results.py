"""The shared results object: every public attribute, the text and HTML renderings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from evaluation.results import TIDY_COLUMNS, TIDY_COLUMNS_PP, EstimateResults, TestResult


@pytest.fixture
def res():
    return EstimateResults(
        estimator="demo", estimand="effect of x", params=pd.Series({"a": 0.05, "b": -0.02}),
        std_errors=pd.Series({"a": 0.01, "b": 0.02}), df=20, cov_type="cluster",
        info={"n_obs": 100, "n_clusters": 21},
        tests={"pre": TestResult("pre-trend", 3.0, 0.22, 2, "leads are zero")}, notes=("a note",))


def test_inference_matches_closed_form(res):
    q = stats.t(20).ppf(0.975)
    assert_allclose(res.conf_int()["ci_low"], [0.05 - q * 0.01, -0.02 - q * 0.02], rtol=1e-12)
    assert_allclose(res.pvalues["a"], 2 * stats.t(20).sf(5.0), rtol=1e-12)
    assert_allclose(res.tvalues, [5.0, -1.0])
    normal = EstimateResults(estimator="n", estimand="e", params=pd.Series({"a": 1.96}), std_errors=pd.Series({"a": 1.0}))
    assert_allclose(normal.pvalues["a"], 0.04999579, rtol=1e-6)


def test_tidy_frames_have_fixed_columns(res):
    assert tuple(res.to_frame().columns) == TIDY_COLUMNS
    pp = res.to_frame(pp=True)
    assert tuple(pp.columns) == TIDY_COLUMNS_PP
    assert_allclose(pp["estimate_pp"], [5.0, -2.0])
    assert_allclose(pp["p_value"], res.pvalues)


def test_read_only(res):
    with pytest.raises(Exception):
        res.estimator = "other"
    with pytest.raises((ValueError, TypeError)):
        res.params.iloc[0] = 1.0
    with pytest.raises(TypeError):
        res.info["n_obs"] = 3


def test_renderings_mention_everything(res):
    text = str(res)
    html = res._repr_html_()
    for piece in ("demo", "effect of x", "n_clusters: 21", "pre-trend", "a note"):
        assert piece in text and piece in html
    assert "<table" in html
    assert "H0: leads are zero" in str(res.tests["pre"])
    assert res.tests["pre"].to_dict()["p_value"] == 0.22
    assert "<p>" in res.tests["pre"]._repr_html_()
