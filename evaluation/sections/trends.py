"""Section 04 · trends and projections: the trend of uptake per year (``trend``) and projections
to the plan's years against the targets (``projections``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import projections as proj
from .. import findings as fnd
from ..data import CohortData
from ..evidence import projections_table, trend_table
from ..params import ReviewParams
from ..trends import MODELS, RECOMMENDED_TREND_MODEL, fit_trend
from ..status import NOT_ESTIMABLE, NotEstimable
from .base import Review, SectionResult, attempt, present_levels

NOTEBOOK = "04_trends_and_projections.ipynb"


def trends_and_projections(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                           figures: bool = True) -> SectionResult:
    """``trend`` (``trends.fit_trend`` per level) and ``projections``
    (``projections.projections`` with the coverage needed for each target, ``needed_for_targets``,
    and the next review's minimum detectable effect, ``next_review_mde_by_level``)."""
    review = Review.of(cohort, params, review)
    p, panel = params, review.panel
    out = SectionResult("trends_and_projections", NOTEBOOK)
    levels = present_levels(review)
    fits = {level: attempt(fit_trend, review.panels[level]) for level in levels}
    out.add(trend_table(pd.concat([not_estimable_trend(level, fits[level]) if isinstance(fits[level], NotEstimable)
                                   else fits[level].trend_frame() for level in levels]), notebook=NOTEBOOK,
                        synthetic=review.synthetic))
    out.displays["trend_fits"] = fits
    proj_targets = proj.projection_targets(review.targets)  # + the shipped 2030 plan where the review gives none
    projected = proj.projections(panel, cohort.graduates, years=p.projection_years, targets=proj_targets)
    needed = proj.needed_for_targets(panel, cohort.graduates, targets=proj_targets, year=max(p.projection_years))
    mde = proj.next_review_mde_by_level(panel)
    notes = fnd.projection_findings(projected, needed=needed, mde=mde)
    out.add(projections_table(projected, notebook=NOTEBOOK, synthetic=review.synthetic, findings=notes))
    out.displays["coverage_needed"] = needed
    out.displays["next_review_mde"] = mde
    return out


def not_estimable_trend(level: str, exc: NotEstimable) -> pd.DataFrame:
    """The ``trend`` rows of a level whose trend cannot be estimated (one row per model of
    ``trends.TrendResults.trend_frame``, the recommended one marked): empty numbers and the reason."""
    return pd.DataFrame({"level": level, "model": list(MODELS), "estimate_pp_per_year": np.nan,
                         "std_error": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan,
                         "n_obs": 0, "n_clusters": np.nan, "df": np.nan,
                         "recommended": [m == RECOMMENDED_TREND_MODEL for m in MODELS],
                         "status": NOT_ESTIMABLE, "reason_vi": exc.reason_vi, "reason_en": exc.reason_en})
