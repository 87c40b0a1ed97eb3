"""Section 03 · counseling coverage: schools with a trained career counselor by year
(``coverage_by_year``)."""
from __future__ import annotations

from .. import indicators
from ..data import CohortData
from ..evidence import coverage_by_year_table
from ..params import ReviewParams
from ..research_tables import baseline_balance
from .base import Review, SectionResult

NOTEBOOK = "03_counseling_coverage.ipynb"


def counseling_coverage(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                        figures: bool = True) -> SectionResult:
    """``coverage_by_year`` (``indicators.coverage_by_year``) against the coverage targets; figure
    ``coverage_over_time``; the notebook also shows coverage in ethnic boarding schools."""
    review = Review.of(cohort, params, review)
    out = SectionResult("counseling_coverage", NOTEBOOK)
    coverage = indicators.coverage_by_year(review.panel, targets=review.targets)
    out.add(coverage_by_year_table(coverage, targets=review.targets, notebook=NOTEBOOK, synthetic=review.synthetic))
    out.displays["coverage_by_ethnic_boarding"] = indicators.coverage_by_year(review.panel, targets=review.targets,
                                                                            by="ethnic_boarding")
    balance = {}
    for level in review.params.levels:  # iebaltab-style: schools covered by the last year vs not yet covered
        try:
            balance[level] = baseline_balance(review.panel, level=level, lang=params.lang)
        except ValueError as exc:  # no schools of the level, or no comparison at baseline
            balance[level] = str(exc)
    out.displays["baseline_balance"] = balance
    if figures:
        from .. import figures as fg

        out.figures["coverage_over_time"] = fg.coverage_over_time(coverage, params.lang)
    return out
