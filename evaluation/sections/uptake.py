"""Section 02 · uptake and targets: vocational uptake by year, commune and group against the
targets in force (``uptake_by_year``, ``uptake_by_commune``, ``uptake_by_group``)."""
from __future__ import annotations

from .. import indicators
from ..data import CohortData
from ..evidence import uptake_by_commune_table, uptake_by_group_table, uptake_by_year_table
from ..params import ReviewParams
from .base import Review, SectionResult

NOTEBOOK = "02_uptake_and_targets.ipynb"


def uptake_and_targets(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                       figures: bool = True) -> SectionResult:
    """Uptake by level and year (``indicators.uptake_by_year``), by commune
    (``indicators.uptake_by_commune``) and by sex and ethnicity (``indicators.uptake_by_group``),
    each with its targets and small cells suppressed; figures ``uptake_vs_target`` and
    ``communes_vs_target``; the notebook also shows uptake by school (suppressed like the tables)."""
    review = Review.of(cohort, params, review)
    p, panel, targets = params, review.panel, review.targets
    out = SectionResult("uptake_and_targets", NOTEBOOK)
    by_year = indicators.uptake_by_year(panel, targets=targets)
    out.add(uptake_by_year_table(by_year, min_cell=p.min_cell, targets=targets,
                                 unknown_in_denominator=p.unknown_in_denominator, notebook=NOTEBOOK,
                                 synthetic=review.synthetic))
    by_commune = indicators.uptake_by_commune(panel, targets=targets, min_cell=p.min_cell)
    out.add(uptake_by_commune_table(by_commune, min_cell=p.min_cell, geography=p.geography, targets=targets,
                                    notebook=NOTEBOOK, synthetic=review.synthetic))
    by_group = indicators.uptake_by_group(review.cells, min_cell=p.min_cell)
    out.add(uptake_by_group_table(by_group, min_cell=p.min_cell, notebook=NOTEBOOK, synthetic=review.synthetic))
    # per school, pooled over the years: small schools, their complements and every school of a commune
    # whose pooled total the commune table hid are left empty (disclosure.protect_schools)
    from ..disclosure import protect_communes, protect_schools

    by_school = indicators.uptake(panel, by=["level", "commune_code", "school_id"],
                                  unknown_in_denominator=p.unknown_in_denominator)
    communes = protect_communes(indicators.commune_cells(panel, targets=targets), min_cell=p.min_cell)[1]
    out.displays["uptake_by_school"] = protect_schools(by_school, min_cell=p.min_cell, communes=communes)
    if figures:
        from .. import figures as fg

        out.figures["uptake_vs_target"] = fg.uptake_vs_target(by_year, p.lang)
        out.figures["communes_vs_target"] = fg.communes_vs_target(by_commune, p.lang)
    return out
