"""Section 04 · trends and projections: the trend of uptake per year (``trend``) and projections
to the plan's years against the targets (``projections``)."""
from __future__ import annotations

import pandas as pd

from .. import projections as proj
from ..data import CohortData
from ..evidence import projections_table, trend_table
from ..params import ReviewParams
from ..trends import fit_trend
from .base import Review, SectionResult

NOTEBOOK = "04_trends_and_projections.ipynb"


def trends_and_projections(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                           figures: bool = True) -> SectionResult:
    """``trend`` (``trends.fit_trend`` per level) and ``projections``
    (``projections.projections`` with the coverage needed for each target, ``needed_for_targets``,
    and the next review's minimum detectable effect, ``next_review_mde_by_level``)."""
    review = Review.of(cohort, params, review)
    p, panel = params, review.panel
    out = SectionResult("trends_and_projections", NOTEBOOK)
    fits = {level: fit_trend(review.panels[level]) for level in p.levels}
    out.add(trend_table(pd.concat([fits[level].trend_frame() for level in p.levels]), notebook=NOTEBOOK,
                        synthetic=review.synthetic))
    out.displays["trend_fits"] = fits
    proj_targets = proj.projection_targets(review.targets)  # + the shipped 2030 plan where the review gives none
    projected = proj.projections(panel, cohort.graduates, years=p.projection_years, targets=proj_targets)
    needed = proj.needed_for_targets(panel, cohort.graduates, targets=proj_targets, year=max(p.projection_years))
    mde = proj.next_review_mde_by_level(panel)
    notes = proj.projection_findings(projected, needed=needed, mde=mde)
    out.add(projections_table(projected, notebook=NOTEBOOK, synthetic=review.synthetic, findings=notes))
    out.displays["coverage_needed"] = needed
    out.displays["next_review_mde"] = mde
    return out
