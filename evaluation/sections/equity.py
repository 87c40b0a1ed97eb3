"""Section 06 · equity: gaps in uptake between groups, raw and within school and year
(``equity_gaps``)."""
from __future__ import annotations

import pandas as pd

from .. import indicators
from ..data import CohortData
from ..equity import equity_table
from ..evidence import equity_gaps_table
from ..params import ReviewParams
from .base import Review, SectionResult, present_levels

NOTEBOOK = "06_equity.ipynb"


def equity(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
           figures: bool = True) -> SectionResult:
    """``equity_gaps`` (``equity.equity_table`` per level on the student cells); figure
    ``equity_gaps``; the notebook also shows uptake in Khmer communes and ethnic boarding schools."""
    review = Review.of(cohort, params, review)
    p, cells = params, review.cells
    out = SectionResult("equity", NOTEBOOK)
    levels = present_levels(review)
    by_level = {level: equity_table(cells[cells["level"] == level]) for level in levels}
    gaps = pd.concat([by_level[level][0] for level in levels], ignore_index=True)
    # a gap of a group (or against a reference) too small to show, or hidden beside one, is left empty
    from ..disclosure import UPTAKE_BLANK, protect_equity, protect_uptake

    gaps = protect_equity(gaps, indicators.equity_hidden_groups(review.panel, cells, min_cell=p.min_cell,
                                                                targets=review.targets))
    gap_notes = sorted({f"{level}: {note}" for level in levels for note in by_level[level][1]})
    table = out.add(equity_gaps_table(gaps, notebook=NOTEBOOK, synthetic=review.synthetic, notes_en=gap_notes))
    out.displays["uptake_by_khmer_commune"] = protect_uptake(indicators.uptake(
        review.panel, by=["level", "year", "khmer_commune"], unknown_in_denominator=p.unknown_in_denominator),
        min_cell=p.min_cell, partitions=[["level", "year"]], blank=UPTAKE_BLANK)[0]
    out.displays["uptake_by_ethnic_boarding"] = protect_uptake(indicators.uptake(
        review.panel, by=["level", "ethnic_boarding"], unknown_in_denominator=p.unknown_in_denominator),
        min_cell=p.min_cell, partitions=[["level"]], blank=UPTAKE_BLANK)[0]
    if figures:
        from .. import figures as fg

        out.figures["equity_gaps"] = fg.equity_gaps_plot(table.data, p.lang)
    return out
