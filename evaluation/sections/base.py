"""What every review section shares: the review's inputs (cohort, parameters and what is derived
from them once) and the object a section returns.

A section is a function ``section(cohort, params, *, review=None, figures=True) -> SectionResult``:
the validated cohort and the parameters in; evidence tables, figures and the frames its notebook
shows out; nothing written. The analysis tables it needs (the school-year panel, the student
cells, the targets in force) are computed once per :class:`Review` and shared by every section
of a run, so :func:`evaluation.sections.evidence_tables` builds each of them only once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from ..data import CohortData
from ..evidence import EvidenceTable
from ..params import ReviewParams


@dataclass
class SectionResult:
    """What a section returns.

    ``tables``: evidence table id -> checked :class:`~evaluation.evidence.EvidenceTable` (what the
    runner writes into the bundle); ``figures``: figure name -> matplotlib figure (saved as
    ``figures/<name>.png``); ``displays``: title -> frame or object the section's notebook shows
    beside the tables (never published; small cells already suppressed); ``notes``: sentences
    (vi, en) the notebook shows, e.g. why a part was skipped.
    """

    section: str
    notebook: str
    tables: dict[str, EvidenceTable] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    displays: dict[str, Any] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)

    def add(self, table: EvidenceTable) -> EvidenceTable:
        if table.id in self.tables:
            raise ValueError(f"section {self.section}: table {table.id} made twice")
        self.tables[table.id] = table.check()
        return table

    def __repr__(self) -> str:
        return (f"SectionResult({self.section!r}: tables {', '.join(self.tables) or '-'}; "
                f"figures {', '.join(self.figures) or '-'})")


def attempt(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or the :class:`~evaluation.status.NotEstimable` it raised (an estimate the
    data cannot give becomes a table row saying why, never a failed review)."""
    from ..status import NotEstimable

    try:
        return fn(*args, **kwargs)
    except NotEstimable as exc:
        return exc


def present_levels(review: "Review") -> list[str]:
    """The reviewed levels that have graduates in the data (a level absent from the data has no rows)."""
    return [lv for lv in review.levels if float(review.panels[lv]["graduates"].sum()) > 0]


def level_mde(review: "Review", level: str) -> dict[str, Any]:
    """Minimum detectable effect of the period's design for ``level`` (``power.minimum_detectable_effect``
    with the level's schools, mean cohort and ICC over the review's years)."""
    from ..power import estimate_icc, minimum_detectable_effect

    panel = review.panels[level]
    panel = panel[panel["graduates"] > 0]
    return minimum_detectable_effect(n_schools=panel["school_id"].nunique(), cohort_size=panel["graduates"].mean(),
                                     icc=estimate_icc(panel), years=len(review.params.years))


def level_mde_pp(review: "Review", level: str) -> float | None:
    """``level_mde``'s mde_pp, None when it cannot be computed (the not-informative rule then uses its bound)."""
    from ..status import NotEstimable

    try:
        return float(level_mde(review, level)["mde_pp"])
    except NotEstimable:
        return None


class Review:
    """The inputs of one review: the cohort and the parameters, and what every section derives
    from them (computed once, on first use)."""

    def __init__(self, cohort: CohortData, params: ReviewParams) -> None:
        self.cohort = cohort
        self.params = params

    @classmethod
    def of(cls, cohort: CohortData, params: ReviewParams, review: "Review | None") -> "Review":
        """``review`` when it holds this cohort and these parameters, else a new one."""
        if review is not None:
            if review.cohort is not cohort or review.params != params:
                raise ValueError("review= holds another cohort or other parameters than the ones given")
            return review
        return cls(cohort, params)

    @property
    def synthetic(self) -> bool:
        return bool(self.cohort.synthetic)

    @cached_property
    def targets(self) -> pd.DataFrame:
        """The targets in force: shipped sets, the targets file, then the overrides
        (``evaluation.reference.load_targets``)."""
        from ..reference import load_targets

        p = self.params
        return load_targets(p.target_sets, p.targets_path, [t.model_dump() for t in p.targets])

    @cached_property
    def levels(self) -> list[str]:
        """The reviewed levels (``params.levels``) the graduates table has rows of: a district without a THPT
        school is reviewed for THCS (the sections' tables then have no THPT rows)."""
        have = set(self.cohort.graduates["level"].astype(str).unique())
        return [lv for lv in self.params.levels if lv in have]

    @cached_property
    def panel(self) -> pd.DataFrame:
        """One row per school x year of every reviewed level (``evaluation.panel.school_year_panel``)."""
        from ..panel import school_year_panel

        p = self.params
        return pd.concat([school_year_panel(self.cohort, level=level, geography=p.geography,
                                            unknown_in_denominator=p.unknown_in_denominator, targets=self.targets,
                                            khmer_commune_threshold=p.khmer_commune_threshold)
                          for level in self.levels], ignore_index=True)

    @cached_property
    def panels(self) -> dict[str, pd.DataFrame]:
        """The panel of each reviewed level."""
        return {level: self.panel[self.panel["level"] == level] for level in self.levels}

    @cached_property
    def cells(self) -> pd.DataFrame:
        """Graduates by school, year, sex and ethnicity (and poverty) of every reviewed level
        (``evaluation.panel.student_cells``)."""
        from ..panel import student_cells

        p = self.params
        return pd.concat([student_cells(self.cohort, level=level, unknown_in_denominator=p.unknown_in_denominator,
                                        targets=self.targets) for level in self.levels], ignore_index=True)
