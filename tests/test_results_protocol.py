"""Every estimator's results object implements the one results interface the evidence builders use."""
from __future__ import annotations

import numpy as np
import pytest

from evaluation.effects import event_study, staggered_did, twfe, wild_cluster_bootstrap
from evaluation.panel import school_year_panel
from evaluation.results import Reported, Results
from evaluation.trends import fit_trend


@pytest.fixture(scope="module")
def thcs(sample_cohort):
    return school_year_panel(sample_cohort, level="THCS")


def _objects(panel):
    fit = twfe(panel, cov_type="cluster")
    did = staggered_did(panel, outcome="rate", unit="school_id", time="year", group="first_covered")
    wcb = wild_cluster_bootstrap(panel, outcome="rate", regressors=("treated",), unit="school_id", time="year",
                                 weights="graduates", cluster="school_id", param="treated", reps=99, seed=1)
    return {"twfe": fit, "event_study": event_study(panel, cov_type="cluster"), "staggered_did": did,
            "aggregate_dynamic": did.aggregate("dynamic"), "aggregate_simple": did.aggregate("simple"),
            "trend": fit_trend(panel), "wild_bootstrap": wcb}


def test_every_results_object_implements_the_interface(thcs):
    for name, obj in _objects(thcs).items():
        assert isinstance(obj, Results), name
        rep = obj.reported("simple")
        assert isinstance(rep, Reported), name
        assert "estimate_pp" in rep.frame.columns and len(rep.frame) >= 1, name
        assert np.isfinite(rep.frame["estimate_pp"].to_numpy(float)).all(), name
        assert isinstance(str(obj.summary), str) and "<" in obj._repr_html_(), name
        ci = obj.conf_int()
        assert {"ci_low", "ci_high"} <= set(ci.columns), name
        assert list(obj.params.index) == list(obj.std_errors.index), name


def test_reported_kinds_agree_with_the_aggregations(thcs):
    did = staggered_did(thcs, outcome="rate", unit="school_id", time="year", group="first_covered")
    simple = did.reported("simple")
    assert simple.frame["estimate_pp"].iloc[0] == pytest.approx(100 * float(did.params["ATT"]), rel=1e-12)
    dynamic = did.reported("dynamic")
    np.testing.assert_allclose(dynamic.frame["estimate_pp"], 100 * did.aggregate("dynamic").to_frame()["estimate"])
    assert dynamic.facts is not None and "n_units" in dynamic.facts.info


def test_a_plain_object_is_not_a_results_object():
    class Half:
        params = std_errors = pvalues = None

        def to_frame(self, *, pp=False):
            return None

    assert not isinstance(Half(), Results)
