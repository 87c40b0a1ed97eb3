"""Estimators on data the shipped sample never shows: each impossible estimate is a status, not a crash."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from evaluation.power import estimate_icc, minimum_detectable_effect
from evaluation.status import NOT_ESTIMABLE, NOT_INFORMATIVE, OK, NotEstimable, informative_status


# ---------------------------------------------------------------------------------------------
# power
# ---------------------------------------------------------------------------------------------
def test_negative_icc_is_zero_by_convention():
    # schools with exactly equal rates: between-school variance below its expectation -> ANOVA ICC < 0
    k, n = 6, 100
    d = pd.DataFrame({"school_id": np.arange(k), "graduates": n, "vocational": 25})
    icc = estimate_icc(d)
    assert icc < 0
    out = minimum_detectable_effect(n_schools=k, cohort_size=n, icc=icc, years=4)
    zero = minimum_detectable_effect(n_schools=k, cohort_size=n, icc=0.0, years=4)
    assert out["icc"] == 0.0 and out["icc_estimated"] == icc and out["design_effect"] == 1.0
    assert_allclose(out["mde"], zero["mde"], rtol=1e-12)
    with pytest.raises(ValueError, match="icc = -1.5"):
        minimum_detectable_effect(n_schools=30, cohort_size=100, icc=-1.5)


def test_too_few_schools_is_not_estimable_with_reasons():
    with pytest.raises(NotEstimable) as e:
        minimum_detectable_effect(n_schools=2, cohort_size=100, icc=0.02, method="t")
    assert "3 schools" in e.value.reason_en and "3 trường" in e.value.reason_vi
    with pytest.raises(NotEstimable):
        minimum_detectable_effect(n_schools=1, cohort_size=100, icc=0.02)
    with pytest.raises(NotEstimable) as e:
        estimate_icc(pd.DataFrame({"school_id": [1], "graduates": [50], "vocational": [10]}))
    assert e.value.fields()["status"] == NOT_ESTIMABLE
    assert isinstance(e.value, ValueError)  # callers that caught ValueError keep working


def test_informative_status_rule():
    assert informative_status(3.0, 1.0, 5.0)["status"] == OK
    s = informative_status(3.0, -9.0, 15.0)  # half-width 12 pp > 10 pp
    assert s["status"] == NOT_INFORMATIVE and "12.0" in s["reason_en"] and s["reason_vi"]
    assert informative_status(3.0, -9.0, 15.0, mde_pp=13.0)["status"] == OK  # within the design's MDE
    assert informative_status(float("nan"), 1.0, 2.0)["status"] == NOT_ESTIMABLE
    assert informative_status(1.0, None, 2.0)["status"] == NOT_ESTIMABLE
