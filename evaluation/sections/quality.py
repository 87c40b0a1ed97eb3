"""Section 01 · data quality: what validation found in the cohort folder (``data_quality``)."""
from __future__ import annotations

from ..data import CohortData
from ..evidence import data_quality_table
from ..params import ReviewParams
from .base import Review, SectionResult

NOTEBOOK = "01_data_quality.ipynb"


def data_quality(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                 figures: bool = True) -> SectionResult:
    """``data_quality``: one row per check, file and severity (``evidence.data_quality_table`` on the
    cohort's validation report); the notebook also shows the report as text."""
    review = Review.of(cohort, params, review)
    out = SectionResult("data_quality", NOTEBOOK)
    out.add(data_quality_table(cohort.report.to_frame(), notebook=NOTEBOOK, synthetic=review.synthetic))
    out.displays["report"] = cohort.report.format()
    return out
